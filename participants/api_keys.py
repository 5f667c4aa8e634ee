"""Personal API keys: made on the page API-nyckel, sent as `Authorization: Token <key>`.

Only a key's SHA-256 is stored (a database dump or backup holds no usable key), with its first
characters so that its owner can recognise it. A key expires after settings.API_KEY_LIFETIME_DAYS,
and it stops working as soon as its user's roles change (access.roles_fingerprint no longer matches
the one taken when the key was made): a key never carries a role that its user did not hold, and
pass the two-factor step with, when they made it."""

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed

from participants import access
from participants.models import ApiKey

logger = logging.getLogger(__name__)

# 160 random bits as 40 hex digits: the length and alphabet of the keys DRF made before, so that
# clients which check a key's shape keep working.
KEY_BYTES = 20
PREFIX_LENGTH = 8
# How stale `last_used_at` may be: one UPDATE an hour per key instead of one per request.
LAST_USED_RESOLUTION = timedelta(hours=1)

UNKNOWN_KEY = "API-nyckeln är okänd eller återkallad. Skapa en ny på sidan API-nyckel."
INACTIVE_USER = "Användarkontot som API-nyckeln hör till är inaktiverat."
ROLES_CHANGED = (
    "API-nyckeln gäller inte längre eftersom dina behörigheter har ändrats; skapa en ny på sidan API-nyckel."
)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_key_problem(*, key: ApiKey, now: datetime | None = None) -> str | None:
    """Why the key does not work (in Swedish, for the API's 401 and the page), or None if it does."""
    now = now or timezone.now()
    if not key.user.is_active:
        return INACTIVE_USER
    if key.expires_at <= now:
        expired = timezone.localdate(key.expires_at).isoformat()
        return f"API-nyckeln gick ut {expired}; skapa en ny på sidan API-nyckel."
    if key.roles_fingerprint != access.roles_fingerprint(key.user):
        return ROLES_CHANGED
    return None


def api_key_get(*, user: User) -> ApiKey | None:
    """The user's API key, if they have one (at most one: making a key replaces the previous)."""
    return ApiKey.objects.select_related("user").filter(user=user).first()


@transaction.atomic
def api_key_create(*, user: User) -> tuple[ApiKey, str]:
    """A new API key for the user, replacing any previous one. Returns the key's record and the key
    itself, which exists nowhere else: show it once."""
    # Lock the user so that two requests at once cannot leave the user with two keys.
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    ApiKey.objects.filter(user=user).delete()
    raw = secrets.token_hex(KEY_BYTES)
    key = ApiKey.objects.create(
        user=user,
        key_hash=_digest(raw),
        prefix=raw[:PREFIX_LENGTH],
        roles_fingerprint=access.roles_fingerprint(user),
        expires_at=timezone.now() + timedelta(days=settings.API_KEY_LIFETIME_DAYS),
    )
    logger.info("API key %s… created for user %s", key.prefix, user.pk)
    return key, raw


@transaction.atomic
def api_key_revoke(*, user: User) -> bool:
    """Revoke the user's API key; False when there was none."""
    deleted, _ = ApiKey.objects.filter(user=user).delete()
    if deleted:
        logger.info("API key revoked for user %s", user.pk)
    return bool(deleted)


def api_key_authenticate(*, raw: str) -> User:
    """The user a key sent with a request belongs to; AuthenticationFailed, naming the problem in
    Swedish, when the key is unknown or revoked, has expired, or its user's roles have changed (the
    key is then revoked)."""
    key = ApiKey.objects.select_related("user").filter(key_hash=_digest(raw)).first()
    if key is None:
        raise AuthenticationFailed(UNKNOWN_KEY)
    now = timezone.now()
    problem = api_key_problem(key=key, now=now)
    if problem == ROLES_CHANGED:
        key.delete()  # revoked for good: the same roles coming back do not revive it
    if problem is not None:
        raise AuthenticationFailed(problem)
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key.user
