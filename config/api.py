"""API plumbing shared by the apps: one error format, the error responses the schema documents, and
the documentation views (served from this service, no CDN)."""

from typing import Any

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import engines
from django.utils.decorators import method_decorator
from django.views.defaults import page_not_found
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework import exceptions, serializers
from rest_framework.authentication import TokenAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

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
    not JSON), and a bad API key answered 401."""
    if isinstance(exc, DjangoValidationError):
        exc = api_validation_error(exc)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = _as_field_lists(response.data)
    elif isinstance(exc, exceptions.ParseError):
        response.data = {api_settings.NON_FIELD_ERRORS_KEY: [str(exc.detail)]}
    elif isinstance(exc, exceptions.AuthenticationFailed):
        # Only TokenAuthentication raises this. DRF answers 403 because the session, listed first,
        # sends no challenge; a client that sent a key (perhaps revoked) should learn it was the key.
        response.status_code = 401
        response["WWW-Authenticate"] = TokenAuthentication.keyword
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
    401: "API-nyckeln är ogiltig eller återkallad",
    403: "Inte inloggad, eller rollen räcker inte",
    404: "Finns inte, eller ligger utanför din behörighet",
    409: "Finns redan",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """The documented error responses of an operation: always 401 and 403, plus the given codes."""
    responses = {}
    for code in sorted({401, 403, *codes}):
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


SchemaView = SpectacularAPIView
SwaggerView = docs_csp(SpectacularSwaggerSplitView)
RedocView = docs_csp(LocalRedocView)
