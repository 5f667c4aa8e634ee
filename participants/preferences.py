"""A staff user's own language: chosen on the account page, kept in StaffPreference and, for the
pages, in the session (config.middleware.LanguageMiddleware reads it there)."""

from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from config.languages import STAFF_LANGUAGE_SESSION_KEY, STAFF_LANGUAGES
from participants.models import StaffPreference


def staff_language_of(user: User) -> str:
    preference = StaffPreference.objects.filter(user=user).values_list("language", flat=True).first()
    return preference or "sv"


def staff_language_set(*, request: HttpRequest, language: str) -> None:
    """Save the user's language and use it from the next page on."""
    if language not in STAFF_LANGUAGES:
        raise ValueError(f"Okänt språk: {language}")
    StaffPreference.objects.update_or_create(user=request.user, defaults={"language": language})
    request.session[STAFF_LANGUAGE_SESSION_KEY] = language


@receiver(user_logged_in)
def _language_at_login(sender: object, request: HttpRequest | None, user: User, **kwargs: object) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[STAFF_LANGUAGE_SESSION_KEY] = staff_language_of(user)
