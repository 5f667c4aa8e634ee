"""API plumbing shared by the apps: one error format, the error responses the schema documents, and
the documentation views (served from this service, no CDN, for logged-in users). The rate limits are
in config/throttling.py."""

from typing import Any

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import engines
from django.utils.decorators import method_decorator
from django.views.defaults import page_not_found
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework import exceptions, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

from config.authentication import ApiKeyAuthentication

# --- Errors: DRF's format everywhere -------------------------------------------------------------


def api_validation_error(error: DjangoValidationError) -> serializers.ValidationError:
    """A service's ValidationError as DRF's 400: {"field": ["message"]}, non-field errors under
    `non_field_errors`."""
    if hasattr(error, "error_dict"):
        return serializers.ValidationError(
            {
                (api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): messages
                for field, messages in error.message_dict.items()
            }
        )
    return serializers.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: error.messages})


def _as_field_lists(data: Any) -> Any:
    if isinstance(data, list):
        return {api_settings.NON_FIELD_ERRORS_KEY: data}
    if isinstance(data, dict):
        return {field: value if isinstance(value, list | dict) else [value] for field, value in data.items()}
    return data


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, with a service's Django ValidationError answered as 400, every 400 body shaped
    {"field": ["message", …]} (never a bare list or string, nor DRF's {"detail": …} for a body that is
    not JSON), a bad API key answered 401, and a rate limit's 429 explained in Swedish."""
    if isinstance(exc, DjangoValidationError):
        exc = api_validation_error(exc)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = _as_field_lists(response.data)
    elif isinstance(exc, exceptions.ParseError):
        response.data = {api_settings.NON_FIELD_ERRORS_KEY: [str(exc.detail)]}
    elif isinstance(exc, exceptions.NotAuthenticated):
        # A script (the tablet's outbox) must learn that it is not logged in, not be sent a login page:
        # 401, and the outbox keeps what it holds and asks the mentor to log in again.
        response.status_code = 401
        response["WWW-Authenticate"] = ApiKeyAuthentication.keyword
        response.data = {"detail": "Du är inte inloggad. Logga in igen; inget du skickat går förlorat."}
    elif isinstance(exc, exceptions.PermissionDenied) and str(exc.detail).startswith("CSRF Failed"):
        # A stale CSRF token (a new login rotates it): the outbox fetches a fresh one and sends again.
        response.data = {
            "detail": "Sidans säkerhetstoken är inaktuell. Ladda om sidan och försök igen.",
            "code": "csrf",
        }
    elif isinstance(exc, exceptions.AuthenticationFailed):
        # Only the API key raises this. DRF answers 403 because the session, listed first, sends no
        # challenge; a client that sent a key (revoked, expired…) should learn it was the key.
        response.status_code = 401
        response["WWW-Authenticate"] = ApiKeyAuthentication.keyword
    elif isinstance(exc, exceptions.Throttled):
        # DRF has already set Retry-After (whole seconds), and exc.wait, which the stubs leave out.
        wait = exc.wait  # type: ignore[attr-defined]
        response.data = {"detail": f"För många anrop till API:et. Försök igen om {wait} sekunder."}
    return response


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "description": 'Ett fel per fält: {"fält": ["meddelande"]}; fel som gäller hela anropet under "non_field_errors".',
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "example": {"end_date": ["Avslutsdatum kan inte ligga före inskrivningsdatum (2026-03-01)."]},
}

_ERROR_DESCRIPTIONS = {
    400: "Felaktiga uppgifter",
    401: "API-nyckeln är okänd, återkallad eller utgången, eller dina behörigheter har ändrats sedan den skapades",
    403: "Inte inloggad, eller rollen räcker inte",
    404: "Finns inte, eller ligger utanför din behörighet",
    409: "Finns redan (en bedömning: samma id med andra svar)",
    429: "För många anrop; försök igen efter så många sekunder som Retry-After anger",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """The documented error responses of an operation: always 401, 403 and 429, plus the given codes."""
    responses = {}
    for code in sorted({401, 403, 429, *codes}):
        body = FIELD_ERRORS_SCHEMA if code == 400 else ErrorSerializer
        responses[code] = OpenApiResponse(response=body, description=_ERROR_DESCRIPTIONS[code])
    return responses


def api_or_page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: under /api/ a URL that matches no route (an id that is not a number, say) gets the
    API's JSON 404 like any other; pages get the 404 page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(exceptions.NotFound.default_detail)}, status=404)
    return page_not_found(request, exception)


# --- Documentation views -------------------------------------------------------------------------

# The documentation UIs set styles from JavaScript; allow that on these two pages only.
docs_csp = method_decorator(csp_update({"style-src": [UNSAFE_INLINE], "img-src": ["data:"]}), name="dispatch")

# drf-spectacular's Redoc page fetches Google Fonts; ours is the same page without them (Redoc then
# uses the system fonts), so that nothing leaves for another host.
REDOC_PAGE = """{% extends "drf_spectacular/redoc.html" %}{% block head %}<title>{{ title }}</title>
<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<style>body { margin: 0; padding: 0; }</style>{% endblock head %}"""


class LocalRedocView(SpectacularRedocView):
    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        context = super().get(request, *args, **kwargs).data
        return HttpResponse(engines["django"].from_string(REDOC_PAGE).render(context, request))


# The documentation is for logged-in users (or holders of an API key) only, in every setting: it
# maps every operation and field of the API, which is nobody else's business. The schema answers
# 403 in JSON; the two pages send the browser to the login page.
docs_login = method_decorator(login_required, name="dispatch")


class SchemaView(SpectacularAPIView):
    permission_classes = [IsAuthenticated]

    def handle_exception(self, exc: Exception) -> Response:
        # An error is {"detail": …} in JSON like everywhere in the API, not in the schema's YAML.
        self.request.accepted_renderer, self.request.accepted_media_type = JSONRenderer(), "application/json"
        return super().handle_exception(exc)


@docs_login
@docs_csp
class SwaggerView(SpectacularSwaggerSplitView):
    permission_classes = [IsAuthenticated]


@docs_login
@docs_csp
class RedocView(LocalRedocView):
    permission_classes = [IsAuthenticated]
