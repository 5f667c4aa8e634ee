"""Pages for the målbildssamtal, participant mode, self-assessment links and anonymous surveys."""

import json
import uuid
from typing import TYPE_CHECKING, Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.i18n import JavaScriptCatalog

from config.languages import BY_CODE, PARTICIPANT_LANGUAGES, Language, participant_language
from config.requests import SignedInRequest
from config.throttling import PublicAnswerThrottle
from participants import access
from participants.forms import apply_errors
from participants.models import ConsentPurpose, Enrolment
from participants.selectors import consent_granted
from surveys.forms import CampaignChangeForm, CampaignForm, SelfLinkForm
from surveys.models import (
    PROGRESSION_INSTRUMENT,
    InstrumentPurpose,
    InstrumentVersion,
    Perspective,
    SurveyCampaign,
)
from surveys.satisfaction import (
    SurveyClosed,
    survey_campaign_create,
    survey_campaign_open,
    survey_campaign_update,
    survey_response_submit,
)
from surveys.selectors import (
    answers_stored,
    instrument_version_current,
    instrument_version_form,
    session_list_for_enrolment,
)
from surveys.sessions import LinkUnusable, self_link_create, self_link_open, self_link_submit

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

NO_CONSENT = gettext_lazy(
    "Deltagaren har inte samtyckt till mätning av stegförflyttning, så inga bedömningar kan göras. "
    "Registrera samtycket på deltagarsidan när deltagaren har gett det."
)
NO_PROGRESSION_INSTRUMENT = gettext_lazy(
    "Inget stegförflyttningsinstrument är laddat. Be en administratör köra manage.py load_instrument."
)
NO_SURVEY_INSTRUMENT = gettext_lazy("Enkäten är inte laddad. Be en administratör köra manage.py load_instrument.")


# --- helpers --------------------------------------------------------------------------------


def _enrolment_for_mentor(request: HttpRequest, enrolment_id: int) -> Enrolment:
    """An open enrolment the user may hold a målbildssamtal in (access.enrolments_writable_by)."""
    enrolments = access.enrolments_writable_by(request.user).filter(end_date__isnull=True)
    return get_object_or_404(enrolments.select_related("participant", "insats"), pk=enrolment_id)


def _version_for_new(code: str, *, not_loaded: "StrOrPromise") -> InstrumentVersion:
    """The instrument's current version, for a new link or survey. Until its definition file has been
    loaded there is none: a ValidationError that the form shows."""
    version = instrument_version_current(code=code)
    if version is None:
        raise ValidationError({"instrument": not_loaded})
    return version


def _require_progression_consent(enrolment: Enrolment) -> None:
    if not consent_granted(participant=enrolment.participant, purpose=ConsentPurpose.PROGRESSION):
        raise PermissionDenied(NO_CONSENT)


def parse_answers(data: Any) -> dict[str, object]:
    """Answers from JSON ({"answers": {...}}) or form fields named item-<code>; strings of digits become
    integers, anything else is passed on so validation can name it."""
    if isinstance(data, dict) and isinstance(data.get("answers"), dict):
        return dict(data["answers"])
    answers: dict[str, object] = {}
    for key in data:
        if key.startswith("item-"):
            raw = data.get(key, "").strip()
            if raw == "":
                continue
            digits = raw.removeprefix("-")
            # Only ASCII digits are a number ("²".isdigit() is true); anything else is kept as text,
            # which validation then refuses with a message.
            answers[key[5:]] = int(raw) if digits.isascii() and digits.isdigit() else raw
    return answers


def _request_payload(request: HttpRequest) -> tuple[dict[str, Any], bool]:
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, RecursionError):  # not JSON, a number of thousands of digits, nesting too deep
            return {"_invalid": True}, True
        return (body if isinstance(body, dict) else {"_invalid": True}), True
    return request.POST, False


def _error_response(errors: dict[str, Any], as_json: bool) -> JsonResponse:
    flat = {key: " ".join(value) if isinstance(value, list) else str(value) for key, value in errors.items()}
    return JsonResponse({"ok": False, "errors": flat}, status=400)


def _qr_svg(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=5, border=2)


def javascript_catalog(request: HttpRequest, code: str) -> HttpResponseBase:
    """The scripts' translations (capture.js, conversation.js, readaloud.js) in one language, at an
    address of its own so the tablet's service worker can keep every language for offline use."""
    if code not in BY_CODE:
        raise Http404("Okänt språk.")
    translation.activate(code)
    request.LANGUAGE_CODE = code
    response = JavaScriptCatalog.as_view(packages=["surveys", "progression", "participants"])(request)
    patch_cache_control(response, public=True, max_age=3600)
    return response


# --- målbildssamtal -------------------------------------------------------------------------
# The pages are the tablet's app: cached for the mentor's caseload (navigation.offline_pages) and
# filled in on the device. Readings go to the API's session_submit through the device's outbox
# (participants/static/stegvis/device.js); participant mode is kept on the device, with a code.


@login_required
def conversation_hub(request: HttpRequest, enrolment_id: int) -> HttpResponse:
    enrolment = _enrolment_for_mentor(request, enrolment_id)
    history = list(session_list_for_enrolment(enrolment=enrolment))
    latest = {session.perspective: session for session in history}  # oldest first: the last one wins
    return render(
        request,
        "surveys/conversation_hub.html",
        {
            "enrolment": enrolment,
            "latest_self": latest.get(Perspective.SELF),
            "latest_mentor": latest.get(Perspective.MENTOR),
            "version": instrument_version_current(code=PROGRESSION_INSTRUMENT),
            "languages": PARTICIPANT_LANGUAGES,
            "previous": len(history),
            "no_consent": None
            if consent_granted(participant=enrolment.participant, purpose=ConsentPurpose.PROGRESSION)
            else NO_CONSENT,
        },
    )


def _capture_context(*, enrolment: Enrolment, perspective: str, language: str, done_url: str) -> dict[str, Any]:
    version = instrument_version_current(code=PROGRESSION_INSTRUMENT)
    if version is None:
        raise Http404("Inget stegförflyttningsinstrument är laddat.")
    return {
        "enrolment": enrolment,
        "form": instrument_version_form(version=version, perspective=perspective, language=language),
        "version": version,
        "api_url": reverse("api_session_list"),
        "done_url": done_url,
        "draft_answers": {},
        "capture_key": f"{enrolment.pk}-{perspective}",
    }


@login_required
def self_form(request: HttpRequest, enrolment_id: int) -> HttpResponse:
    """The self-assessment in participant mode: the only page the participant reaches."""
    enrolment = _enrolment_for_mentor(request, enrolment_id)
    _require_progression_consent(enrolment)
    language = participant_language(request)
    context = _capture_context(
        enrolment=enrolment,
        perspective=Perspective.SELF,
        language=language.key,
        done_url=f"{reverse('self_done', args=[enrolment.pk])}?sprak={language.key}",
    )
    context.update({"participant_mode": True, "languages": PARTICIPANT_LANGUAGES, "language": language})
    return render(request, "surveys/capture.html", context)


@login_required
def mentor_form(request: HttpRequest, enrolment_id: int) -> HttpResponse:
    enrolment = _enrolment_for_mentor(request, enrolment_id)
    _require_progression_consent(enrolment)
    context = _capture_context(
        enrolment=enrolment,
        perspective=Perspective.MENTOR,
        language="sv",
        done_url=reverse("conversation_compare", args=[enrolment.pk]),
    )
    return render(request, "surveys/capture.html", context)


@login_required
def self_done(request: HttpRequest, enrolment_id: int) -> HttpResponse:
    enrolment = _enrolment_for_mentor(request, enrolment_id)
    participant_language(request)
    return render(request, "surveys/self_done.html", {"enrolment": enrolment, "participant_mode": True})


# --- self-assessment by link ----------------------------------------------------------------


@login_required
def self_link_new(request: SignedInRequest, enrolment_id: int) -> HttpResponse:
    enrolment = _enrolment_for_mentor(request, enrolment_id)
    form = SelfLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            link, token = self_link_create(
                enrolment=enrolment,
                version=_version_for_new(PROGRESSION_INSTRUMENT, not_loaded=NO_PROGRESSION_INSTRUMENT),
                created_by=request.user,
                language=form.cleaned_data["language"],
                days=form.cleaned_data["days"],
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            url = request.build_absolute_uri(reverse("public_self_form", args=[token]))
            return render(
                request,
                "surveys/self_link_created.html",
                {"enrolment": enrolment, "url": url, "qr": _qr_svg(url), "link": link},
            )
    return render(request, "surveys/self_link_new.html", {"enrolment": enrolment, "form": form})


def public_self_form(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = self_link_open(token=token)
    except LinkUnusable as exc:
        language = participant_language(request, exc.language)  # first: the message is said in it
        return message_page(request, str(exc), language=language, status=410)
    language = participant_language(request, link.language)
    form = instrument_version_form(version=link.version, perspective=Perspective.SELF, language=language.key)
    return participant_headers(
        render(
            request,
            "surveys/capture.html",
            {
                "form": form,
                "public": True,
                "client_uuid": str(uuid.uuid4()),
                "submit_url": f"{reverse('public_self_submit', args=[token])}?sprak={language.key}",
                "done_url": f"{reverse('public_thanks')}?sprak={language.key}",
                "capture_key": f"link-{link.pk}",
                "languages": PARTICIPANT_LANGUAGES,
                "language": language,
                "draft_answers": {},
            },
        )
    )


@require_POST
def public_self_submit(request: HttpRequest, token: str) -> HttpResponse:
    return _public_submit(request, token, submit=self_link_submit, unusable=LinkUnusable, form="public_self_form")


def public_thanks(request: HttpRequest) -> HttpResponse:
    language = participant_language(request)
    message = _("Dina svar är sparade. Du kan stänga sidan nu.")
    return message_page(request, message, language=language, title=_("Tack för dina svar!"))


def message_page(
    request: HttpRequest, message: str, *, language: Language, title: str = "", status: int = 200
) -> HttpResponse:
    """A participant's one-message page (thanks, a link that cannot be used) in their language, with the
    language menu and read-aloud; never indexed, never passed on as a referrer."""
    context = {"message": message, "title": title, "languages": PARTICIPANT_LANGUAGES, "language": language}
    return participant_headers(render(request, "surveys/public_message.html", context, status=status))


def participant_headers(response: HttpResponse) -> HttpResponse:
    """A page reached by a personal link: kept out of search engines and out of other sites' logs."""
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


# --- anonymous satisfaction surveys ---------------------------------------------------------


@login_required
def campaign_list(request: SignedInRequest, code: str) -> HttpResponse:
    insats = get_object_or_404(access.insatser_readable_by(request.user), code=code)
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            version = _version_for_new(data.pop("instrument"), not_loaded=NO_SURVEY_INSTRUMENT)
            campaign = survey_campaign_create(insats=insats, version=version, created_by=request.user, **data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Enkäten är skapad. Dela länken eller QR-koden med deltagarna."))
            return redirect("campaign_detail", code=code, campaign_id=campaign.pk)
    campaigns = insats.survey_campaigns.select_related("version__instrument").annotate(answered=Count("responses"))
    return render(request, "surveys/campaign_list.html", {"insats": insats, "form": form, "campaigns": campaigns})


@login_required
def campaign_detail(request: HttpRequest, code: str, campaign_id: int) -> HttpResponse:
    insats = get_object_or_404(access.insatser_readable_by(request.user), code=code)
    campaign = get_object_or_404(
        SurveyCampaign.objects.annotate(answered=Count("responses")).select_related("version__instrument"),
        pk=campaign_id,
        insats=insats,
    )
    form = CampaignChangeForm(
        request.POST or None, initial={"number_asked": campaign.number_asked, "closed": campaign.closed}
    )
    if request.method == "POST" and form.is_valid():
        try:
            survey_campaign_update(campaign=campaign, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Ändringen är sparad."))
            return redirect("campaign_detail", code=code, campaign_id=campaign.pk)
    url = request.build_absolute_uri(reverse("public_survey", args=[campaign.token]))
    return render(
        request,
        "surveys/campaign_detail.html",
        {"insats": insats, "campaign": campaign, "url": url, "qr": _qr_svg(url), "form": form},
    )


def public_survey(request: HttpRequest, token: str) -> HttpResponse:
    language = participant_language(request)
    try:
        campaign = survey_campaign_open(token=token)
    except SurveyClosed as exc:
        return message_page(request, str(exc), language=language, status=410)
    form = instrument_version_form(version=campaign.version, perspective=Perspective.SELF, language=language.key)
    exit_survey = campaign.version.instrument.purpose == InstrumentPurpose.EXIT_SURVEY
    return participant_headers(
        render(
            request,
            "surveys/capture.html",
            {
                "form": form,
                "public": True,
                "survey": True,
                "client_uuid": str(uuid.uuid4()),
                "submit_url": f"{reverse('public_survey_submit', args=[token])}?sprak={language.key}",
                "done_url": f"{reverse('public_thanks')}?sprak={language.key}",
                "capture_key": f"survey-{campaign.pk}",
                "languages": PARTICIPANT_LANGUAGES,
                "language": language,
                "draft_answers": {},
                "insats_name": campaign.insats.name,
                "exit_survey": exit_survey,
            },
        )
    )


@require_POST
def public_survey_submit(request: HttpRequest, token: str) -> HttpResponse:
    return _public_submit(request, token, submit=survey_response_submit, unusable=SurveyClosed, form="public_survey")


def _public_submit(
    request: HttpRequest, token: str, *, submit: Any, unusable: type[Exception], form: str
) -> HttpResponse:
    """Submit answers from a public link (JSON from the offline-safe form, or a plain form post):
    a used/closed link gets its friendly message, bad answers go back to the form. Messages are in
    the participant's language (?sprak= on the form's address)."""
    language = participant_language(request)
    data, as_json = _request_payload(request)
    if data.get("_invalid"):
        return _error_response({"__all__": _("Svaren kom inte fram hela. Försök skicka igen.")}, True)
    client_uuid = data.get("client_uuid") or uuid.uuid4()
    if not answers_stored(client_uuid=client_uuid) and not PublicAnswerThrottle(token).allow(request):
        # The form's outbox keeps the answers on a 429 and sends them again later.
        busy = _("Många svar har skickats från den här enheten den senaste timmen. Vänta en stund och skicka igen.")
        if as_json:
            return JsonResponse({"ok": False, "detail": busy}, status=429)
        return message_page(request, busy, language=language, status=429)
    try:
        submit(token=token, client_uuid=client_uuid, answers=parse_answers(data))
    except unusable as exc:
        if as_json:
            return JsonResponse({"ok": False, "detail": str(exc)}, status=410)
        return message_page(request, str(exc), language=language, status=410)
    except (ValidationError, ValueError) as exc:
        errors = (
            exc.message_dict
            if isinstance(exc, ValidationError) and hasattr(exc, "error_dict")
            else {"__all__": [str(exc)]}
        )
        if as_json:
            return _error_response(errors, True)
        for message in errors.values():
            messages.error(request, " ".join(message))
        return redirect(f"{reverse(form, args=[token])}?sprak={language.key}")
    thanks = f"{reverse('public_thanks')}?sprak={language.key}"
    if as_json:  # the client UUID back: the device's outbox lets go of the answers only on seeing it
        return JsonResponse({"ok": True, "client_uuid": str(client_uuid), "done_url": thanks})
    return redirect(thanks)
