from django.http import HttpRequest

from participants import access


def pages(request: HttpRequest) -> dict[str, set[str]]:
    """The pages the acting user may open (access.Page), so the navigation shows only those."""
    return {"pages": access.pages_open_to(request.user)}
