"""Request types for views that only a signed-in user reaches.

Django types ``request.user`` as ``User | AnonymousUser``. Behind ``login_required``,
``page_access`` or an API permission that requires a role, the user is signed in; annotating the
view's request with these types says so to mypy, so the user can go straight to a service that
stores it. They are annotations only: no request is ever an instance of them.
"""

from django.contrib.auth.models import User
from django.http import HttpRequest
from rest_framework.request import Request


class SignedInRequest(HttpRequest):
    user: User


class SignedInApiRequest(Request):
    user: User
