"""Error answers and the middleware of the site as a whole. A clear 503 when the database cannot be
reached, instead of an error page; the site's own page for a refused CSRF check.

Django turns an exception anywhere in the request (a view, or the session and user lookups in
middleware) into a call of the 500 handler, during which the exception is still being handled:
that is where a lost database connection is recognised."""

import sys
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import render, resolve_url
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.views.defaults import server_error

from config.languages import STAFF_LANGUAGE_SESSION_KEY, STAFF_LANGUAGES

MESSAGE = "Stegvis kan inte nå databasen just nu. Inget du skickat har gått förlorat; försök igen om en stund."


def server_error_or_unavailable(request: HttpRequest) -> HttpResponse:
    """handler500: 503 with Retry-After when the database is down, the ordinary 500 page otherwise."""
    error = sys.exc_info()[1]
    if not isinstance(error, OperationalError | InterfaceError):
        return server_error(request)
    if request.path.startswith("/api/") or request.content_type == "application/json":
        response: HttpResponse = JsonResponse({"detail": MESSAGE}, status=503)
    else:
        response = HttpResponse(render_to_string("503.html", {"message": MESSAGE}), status=503)
    response["Retry-After"] = "30"
    return response


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: a request Django could not read (an upload whose file name is too long for its
    part's headers, a broken form), in the user's language instead of Django's English page."""
    message = translation.gettext(
        "Det som skickades kunde inte läsas. Om du laddade upp en fil: ge den ett kortare namn och försök igen."
    )
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=400)
    return render(request, "400.html", {"message": message}, status=400)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: the site's own 403 page in the user's language, saying what to do, instead
    of Django's English page."""
    message = translation.gettext(
        "Formuläret kunde inte skickas: sidan har varit öppen för länge, eller så tillåter webbläsaren "
        "inte kakor. Ladda om sidan och försök igen. Inget av det du skrev sparades."
    )
    return render(request, "403.html", {"exception": message}, status=403)


class ScriptLoginMiddleware:
    """A script asking for JSON (the tablet's outbox and status checks) whose session has ended gets a
    401 in JSON, never the login page it could mistake for an answer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        accept = request.headers.get("Accept", "")
        wants_json = "application/json" in accept and "text/html" not in accept
        if (
            wants_json
            and response.status_code == 302
            and response["Location"].startswith(resolve_url(settings.LOGIN_URL))
        ):
            return JsonResponse({"detail": "Du är inte inloggad. Logga in igen."}, status=401)
        return response


class PrivatePagesMiddleware:
    """A page shown to a logged-in user is never kept in the browser's own cache (a tablet is shared):
    the only copies on the device are the service worker's, which a logout clears."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        html = response.get("Content-Type", "").startswith("text/html")
        if user is not None and user.is_authenticated and html and not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response


class LanguageMiddleware(LocaleMiddleware):
    """Staff pages in the language the user chose (Swedish unless they chose English; kept in the
    session by participants.services.staff_language_set and at login), never the browser's guess.
    A participant's page activates the participant's own language in its view
    (config.languages / surveys.views.participant_language)."""

    def process_request(self, request: HttpRequest) -> None:
        language = settings.LANGUAGE_CODE
        if request.user.is_authenticated:
            chosen = request.session.get(STAFF_LANGUAGE_SESSION_KEY)
            if chosen in STAFF_LANGUAGES:
                language = chosen
        translation.activate(language)
        request.LANGUAGE_CODE = language
