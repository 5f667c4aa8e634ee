"""The "API-nyckel" page: each user creates, replaces and revokes their own API key.

A key carries its user's roles and scope, like a session (`Authorization: Token <key>`). It is shown
once, when created; creating a new one replaces the old, and a revoked key gets 401 at once."""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from rest_framework.authtoken.models import Token

logger = logging.getLogger(__name__)


# The two services live here rather than in participants/services.py because they concern only this
# page and DRF's Token model; move them if a second caller appears.
@transaction.atomic
def api_token_replace(*, user: AbstractBaseUser) -> Token:
    """A new API key for the user; the previous one, if any, stops working."""
    Token.objects.filter(user=user).delete()
    token = Token.objects.create(user=user)
    logger.info("API key created for user %s", user.pk)
    return token


@transaction.atomic
def api_token_revoke(*, user: AbstractBaseUser) -> bool:
    """Revoke the user's API key; False when there was none."""
    deleted, _ = Token.objects.filter(user=user).delete()
    if deleted:
        logger.info("API key revoked for user %s", user.pk)
    return bool(deleted)


@never_cache
@login_required
def api_token_page(request: HttpRequest) -> HttpResponse:
    new_key = None
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "create":
        # Rendered, not redirected: the key appears in this response only.
        new_key = api_token_replace(user=request.user).key
    elif action == "revoke":
        if api_token_revoke(user=request.user):
            messages.success(request, "API-nyckeln är återkallad. Den fungerar inte längre.")
        return redirect("api_token")
    token = Token.objects.filter(user=request.user).first()
    return render(request, "participants/api_token.html", {"token": token, "new_key": new_key})
