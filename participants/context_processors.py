from django.http import HttpRequest

from participants.selectors import user_roles


def roles(request: HttpRequest) -> dict[str, set[str]]:
    """The acting user's roles, so the navigation shows only what they may open."""
    return {"user_roles": user_roles(user=request.user)}
