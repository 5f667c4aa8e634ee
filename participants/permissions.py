"""Adapters from the access module to pages and the API. No rule lives here: each asks access."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext_lazy
from rest_framework.permissions import BasePermission

from participants import access
from participants.access import Page

PAGE_REFUSED = gettext_lazy("Din roll ger inte tillgång till den här sidan.")


def page_access(page: Page) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Page decorator: log in first, then 403 unless access.may_open(user, page)."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            access.require(access.may_open(request.user, page), PAGE_REFUSED)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


class MembershipsPerRequestMiddleware:
    """Each user's memberships are read at most once while a request is answered (the two-factor
    check, the API's role check and the access checks after them share them)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        with access.memberships_read_once():
            return self.get_response(request)


class HasAnyRole(BasePermission):
    """API permission: the user holds at least one Stegvis role; objects are scoped by selectors."""

    message = "Du saknar behörighet i Stegvis."

    def has_permission(self, request: Any, view: Any) -> bool:
        return access.has_any_role(request.user)


class MayReadReports(BasePermission):
    """API permission for the report endpoints (access.Page.REPORTS)."""

    message = "Rapporter är till för samordnare och administratörer."

    def has_permission(self, request: Any, view: Any) -> bool:
        return access.may_open(request.user, Page.REPORTS)
