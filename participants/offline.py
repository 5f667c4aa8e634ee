"""The tablet's offline app shell, server side: the service worker, the page shown when a page needs
the server, the device's session check and the pages a mentor's caseload needs without a
connection. The device side is participants/static/stegvis/ (device.js, app.js) and the worker's
template participants/templates/participants/sw.js; docs/assessments.md describes the whole."""

import hashlib
import json
from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from config.languages import PARTICIPANT_LANGUAGES
from participants import hooks
from participants.selectors import caseload_for_mentor

# Everything a page of the app needs besides its HTML, cached when the worker installs.
SHELL_ASSETS = [
    "stegvis/stegvis.css",
    "stegvis/device.js",
    "stegvis/app.js",
    "stegvis/manifest.webmanifest",
    "stegvis/icon-192.png",
    "stegvis/icon-512.png",
    "surveys/capture.js",
    "surveys/readaloud.js",
    "surveys/readaloud.css",
    "surveys/conversation.js",
    "progression/caseload.js",
]
LOGIN_AGAIN = gettext_lazy(
    "Du är inte inloggad längre. Logga in igen; inget som är sparat på surfplattan går förlorat."
)


@cache
def shell_version() -> str:
    """A digest of the shell's files: a new release gets a new worker, which replaces the old cache."""
    digest = hashlib.sha256()
    for asset in SHELL_ASSETS:
        path = finders.find(asset)
        digest.update(asset.encode())
        if path:
            with open(path, "rb") as handle:
                digest.update(handle.read())
    with translation.override(settings.LANGUAGE_CODE):  # the same digest whoever's request asks first
        digest.update(render_to_string("participants/offline.html").encode())
    for catalogue in sorted(Path(settings.BASE_DIR, "locale").glob("*/LC_MESSAGES/*.mo")):
        digest.update(catalogue.read_bytes())
    return digest.hexdigest()[:16]


def media_prefixes() -> list[str]:
    """Where the read-aloud clips and pictograms are (surveys.media): named by their content, so the
    worker keeps each once fetched and answers from it offline."""
    clip = "0" * 24 + ".mp3"
    return [
        reverse("speech_clip", args=["sv", clip]).removesuffix(f"sv/{clip}"),
        reverse("pictogram", args=[clip]).removesuffix(clip),
    ]


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """/sw.js, at the root so that it controls every page; always fetched anew by the browser."""
    values = {
        "version": shell_version(),
        "assets": [static(asset) for asset in SHELL_ASSETS]
        + [reverse("javascript_catalog", args=[language.code]) for language in PARTICIPANT_LANGUAGES],
        "offline_url": reverse("offline_page"),
        "login_url": reverse("login"),
        "logout_url": reverse("logout"),
        "status_url": reverse("device_status"),
        "media": media_prefixes(),
    }
    response = render(
        request,
        "participants/sw.js",
        {
            "version": values["version"],
            "device_js": json.dumps(static("stegvis/device.js")),
            **{f"{name}_json": json.dumps(value) for name, value in values.items()},
        },
        content_type="application/javascript; charset=utf-8",
    )
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response


def offline_page(request: HttpRequest) -> HttpResponse:
    """What the worker shows for a page that is not on the tablet while there is no connection."""
    return render(request, "participants/offline.html")


@never_cache
@require_GET
def device_status(request: HttpRequest) -> JsonResponse:
    """Whether the tablet's session is alive, and a fresh CSRF token for the outbox; 401 when not."""
    if not request.user.is_authenticated:
        return JsonResponse({"authenticated": False, "detail": LOGIN_AGAIN}, status=401)
    return JsonResponse({"authenticated": True, "user": request.user.get_username(), "csrf_token": get_token(request)})


@never_cache
@require_GET
def caseload_pages(request: HttpRequest) -> JsonResponse:
    """The pages the mentor's own caseload needs offline: the caseload page and, per participant, the
    pages other apps list in hooks.OFFLINE_PAGES. Pseudonyms only: no page listed shows identity."""
    if not request.user.is_authenticated:
        return JsonResponse({"authenticated": False, "detail": LOGIN_AGAIN}, status=401)
    enrolments = caseload_for_mentor(user=request.user)
    return JsonResponse(
        {
            "user": request.user.get_username(),
            "pages": [reverse("mentor_home"), reverse("offline_page")],
            "enrolments": [
                {
                    "id": enrolment.pk,
                    "pseudonym": enrolment.participant.pseudonym,
                    "pages": [url for hook in hooks.OFFLINE_PAGES for url in hook(enrolment)],
                }
                for enrolment in enrolments
            ],
        }
    )


UNLOCK_ATTEMPTS = 5


@never_cache
@require_POST
def device_unlock(request: HttpRequest) -> JsonResponse:
    """Participant mode left with the mentor's password instead of the code (which works offline):
    for a mentor who forgot the code. Five wrong passwords log the mentor out, as at the login."""
    if not request.user.is_authenticated:
        return JsonResponse({"ok": False, "detail": LOGIN_AGAIN}, status=401)
    try:
        password = json.loads(request.body or b"{}").get("password", "")
    except (json.JSONDecodeError, AttributeError):
        password = ""
    if isinstance(password, str) and password and request.user.check_password(password):
        request.session.pop("unlock_attempts", None)
        return JsonResponse({"ok": True})
    attempts = request.session.get("unlock_attempts", 0) + 1
    request.session["unlock_attempts"] = attempts
    if attempts >= UNLOCK_ATTEMPTS:
        logout(request)
        return JsonResponse(
            {"ok": False, "detail": gettext("För många felaktiga lösenord. Logga in igen.")}, status=401
        )
    return JsonResponse({"ok": False, "detail": gettext("Fel lösenord.")}, status=400)
