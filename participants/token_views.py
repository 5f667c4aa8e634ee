"""The "API-nyckel" page: each user creates, replaces and revokes their own API key.

A key carries its user's roles and scope, like a session (`Authorization: Token <key>`). It is shown
once, when created; creating a new one replaces the old, and a revoked key gets 401 at once. The
services are in participants/api_keys.py. Coordinators and admins reach this page only after the
two-factor step (TwoFactorMiddleware), so every key of theirs is made by a verified login."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache

from config.requests import SignedInRequest
from participants.api_keys import api_key_create, api_key_get, api_key_problem, api_key_revoke


@never_cache
@login_required
def api_token_page(request: SignedInRequest) -> HttpResponse:
    new_key = None
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "create":
        # Rendered, not redirected: the key appears in this response only.
        _, new_key = api_key_create(user=request.user)
    elif action == "revoke":
        if api_key_revoke(user=request.user):
            messages.success(request, gettext("API-nyckeln är återkallad. Den fungerar inte längre."))
        return redirect("api_token")
    key = api_key_get(user=request.user)
    problem = api_key_problem(key=key) if key is not None else None
    context = {"key": key, "problem": problem, "new_key": new_key, "lifetime_days": settings.API_KEY_LIFETIME_DAYS}
    return render(request, "participants/api_token.html", context)
