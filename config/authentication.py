"""API authentication by personal API key (participants/api_keys.py)."""

from typing import Any

from django.contrib.auth.models import User
from rest_framework.authentication import TokenAuthentication

from participants.api_keys import api_key_authenticate


class ApiKeyAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, the header DRF's TokenAuthentication read before, so clients
    keep working; the key is checked against its stored hash, expiry and roles. A bad key raises
    AuthenticationFailed, which config.api.api_exception_handler answers 401 with a challenge."""

    keyword = "Token"

    def authenticate_credentials(self, key: str) -> tuple[User, Any]:
        return api_key_authenticate(raw=key), None
