"""Role checks shared by pages and the API. Object scope is applied in selectors."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from rest_framework.permissions import BasePermission

from participants.selectors import user_roles


def role_required(*roles: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Page decorator: log in first, then 403 unless the user holds one of the roles."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not user_roles(user=request.user) & set(roles):
                raise PermissionDenied("Din roll ger inte tillgång till den här sidan.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


class HasAnyRole(BasePermission):
    """API permission: the user holds at least one Stegvis role."""

    message = "Du saknar behörighet i Stegvis."

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(user_roles(user=request.user))
