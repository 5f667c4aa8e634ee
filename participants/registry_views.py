"""Pages for the registry: register, enrol, consent, change mentor, close, identity, GDPR, access log.

Thin adapters: objects come from scoped selectors and writes from services, which ask the access
module; nothing here decides who may do what."""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from config.requests import SignedInRequest
from participants import access, forms, gdpr, hooks
from participants.access import Page
from participants.models import AccessAction, ConsentPurpose, Enrolment, Insats, MeasurementMode, Participant
from participants.permissions import page_access
from participants.selectors import access_event_list, access_log_reviews, participant_detail_for_user
from participants.services import (
    ParticipantAlreadyRegistered,
    access_log_review_record,
    consent_record,
    enrolment_change_mentor,
    enrolment_close,
    enrolment_close_check,
    enrolment_of_existing,
    identity_read,
    identity_rectify,
    participant_erase,
    participant_intake,
    participant_lookup,
    volume_register,
)


def _casework_insatser(user, forbund=None) -> QuerySet[Insats]:  # noqa: ANN001
    insatser = access.insatser_for_casework(user).filter(measurement_mode=MeasurementMode.PER_PERSON, active=True)
    return insatser.filter(forbund=forbund) if forbund is not None else insatser


def _mentor_choices(insatser) -> list[tuple[str, str]]:  # noqa: ANN001
    seen: dict[str, str] = {}
    for insats in insatser:
        for user in access.mentor_candidates(insats):
            seen[str(user.pk)] = user.get_full_name() or user.username
    return sorted(seen.items(), key=lambda item: item[1])


def _participant_or_404(request: HttpRequest, pseudonym: str) -> Participant:
    try:
        return participant_detail_for_user(user=request.user, pseudonym=pseudonym)
    except Participant.DoesNotExist:
        raise Http404(_("Deltagaren finns inte eller ligger utanför din behörighet.")) from None


def _writable_enrolment(request: HttpRequest, participant: Participant, enrolment_id: int) -> Enrolment:
    enrolment = get_object_or_404(
        access.enrolments_readable_by(request.user).select_related("insats"), pk=enrolment_id, participant=participant
    )
    access.require(
        access.enrolments_writable_by(request.user).filter(pk=enrolment.pk).exists(),
        _("Du kan inte ändra inskrivningar i den här insatsen."),
    )
    return enrolment


def _enrolment_kwargs(form: forms.EnrolmentFieldsForm) -> dict:
    data = form.cleaned_data
    mentor = None
    if data.get("mentor"):
        mentor = access.mentor_candidates(data["insats_obj"]).filter(pk=data["mentor"]).first()
    return {
        "insats": data["insats_obj"],
        "start_date": data["start_date"],
        "mentor": mentor,
        "income_before": data["income_before"],
        "income_before_extent": data["income_before_extent"],
        "education": data["education"],
        "years_in_public_support": data.get("years_in_public_support"),
    }


def _resolve_insats(form: forms.EnrolmentFieldsForm, insatser: QuerySet[Insats]) -> bool:
    insats = insatser.filter(code=form.cleaned_data.get("insats")).first()
    if insats is None:
        form.add_error("insats", _("Välj en insats du arbetar i."))
        return False
    form.cleaned_data["insats_obj"] = insats
    return True


def _wanted_consents(data: dict, *purposes: tuple[str, str]) -> list[str]:
    return [purpose for purpose, field in purposes if data.get(field)]


@page_access(Page.REGISTER)
def participant_register_view(request: SignedInRequest) -> HttpResponse:
    insatser = _casework_insatser(request.user)
    access.require(insatser.exists(), _("Du arbetar inte i någon aktiv insats som mäts per person."))
    form_kwargs = {
        "insats_choices": [(i.code, i.name) for i in insatser],
        "mentor_choices": _mentor_choices(insatser),
    }
    existing = None
    if request.method == "POST":
        form = forms.ParticipantRegisterForm(request.POST, **form_kwargs)
        if form.is_valid() and _resolve_insats(form, insatser):
            data = form.cleaned_data
            insats = data["insats_obj"]
            try:
                participant = participant_intake(
                    registered_by=request.user,
                    use_existing=data["use_existing"],
                    reason=data.get("reason", ""),
                    kon=data["kon"],
                    birth_year=data.get("birth_year"),
                    personnummer=data.get("personnummer", ""),
                    name=data.get("name", ""),
                    contact=data.get("contact", ""),
                    anonymous=data["anonymous"],
                    consent_channel=data.get("consent_channel", ""),
                    consent_text_version=settings.CONSENT_TEXT_VERSION,
                    guardian_consent=data.get("guardian_consent", False),
                    extra_consents=_wanted_consents(
                        data,
                        (ConsentPurpose.PROGRESSION, "consent_progression"),
                        (ConsentPurpose.RESEARCH, "consent_research"),
                    ),
                    **_enrolment_kwargs(form),
                )
            except ParticipantAlreadyRegistered:
                # Only users allowed to look personnummer up get this far; the hit is logged.
                existing = participant_lookup(
                    user=request.user,
                    forbund=insats.forbund,
                    personnummer=data["personnummer"],
                    reason="Registrering: personnumret fanns redan",
                )
            except ValidationError as exc:
                forms.apply_errors(form, exc)
            except PermissionDenied as exc:  # e.g. identified registration without identity access
                form.add_error("anonymous" if not data["anonymous"] else None, str(exc))
            else:
                names = {"pseudonym": participant.pseudonym, "insats": insats.name}
                if data["use_existing"]:
                    done = _("%(pseudonym)s är inskriven i %(insats)s. Personen fanns redan; det är loggat.") % names
                else:
                    done = _("%(pseudonym)s är registrerad och inskriven i %(insats)s.") % names
                messages.success(request, done)
                return redirect("participant_detail", pseudonym=participant.pseudonym)
    else:
        form = forms.ParticipantRegisterForm(**form_kwargs, initial={"mentor": str(request.user.pk)})
    return render(request, "participants/register.html", {"form": form, "existing": existing})


@login_required
def participant_detail(request: HttpRequest, pseudonym: str) -> HttpResponse:
    participant = _participant_or_404(request, pseudonym)
    writable = set(
        access.enrolments_writable_by(request.user).filter(participant=participant).values_list("id", flat=True)
    )
    consents_by_purpose: dict[str, object] = {}
    for consent in participant.consents.all():
        consents_by_purpose.setdefault(consent.purpose, consent)
    enrolments_with_links = [
        (enrolment, [link for hook in hooks.ENROLMENT_LINKS for link in hook(enrolment, request.user)])
        for enrolment in participant.enrolments.all()
    ]
    return render(
        request,
        "participants/participant_detail.html",
        {
            "participant": participant,
            "enrolments_with_links": enrolments_with_links,
            "writable_enrolment_ids": writable,
            "can_enrol": _casework_insatser(request.user, participant.forbund).exists(),
            "can_record_consent": access.can_record_consent(request.user, participant),
            "current_consents": [(label, consents_by_purpose.get(value)) for value, label in ConsentPurpose.choices],
            "can_read_identity": access.can_read_identity(request.user, participant),
            "has_identity": hasattr(participant, "identity"),
            "can_answer_requests": access.can_answer_data_subject_requests(request.user, participant),
            "reason_form": forms.ReasonForm(),
        },
    )


@never_cache
@login_required
@require_POST
def identity_reveal(request: SignedInRequest, pseudonym: str) -> HttpResponse:
    participant = _participant_or_404(request, pseudonym)
    access.require(
        access.can_read_identity(request.user, participant), _("Du har inte behörighet att se deltagarens identitet.")
    )
    form = forms.ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Ange varför du behöver se identiteten."))
        return redirect("participant_detail", pseudonym=pseudonym)
    try:
        identity = identity_read(user=request.user, participant=participant, reason=form.cleaned_data["reason"])
    except LookupError as exc:
        messages.error(request, str(exc))
        return redirect("participant_detail", pseudonym=pseudonym)
    return render(request, "participants/identity.html", {"participant": participant, "identity": identity})


@never_cache
@login_required
def identity_rectify_view(request: SignedInRequest, pseudonym: str) -> HttpResponse:
    """Rättelse: the form is filled in with the current data (a logged read), then corrected."""
    participant = _participant_or_404(request, pseudonym)
    access.require(
        access.can_read_identity(request.user, participant),
        _("Du har inte behörighet att rätta deltagarens identitet."),
    )
    form = forms.IdentityRectifyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            identity_rectify(
                user=request.user,
                participant=participant,
                reason=data["reason"],
                name=data["name"],
                contact=data["contact"],
                personnummer=data["personnummer"],
            )
        except ValidationError as exc:
            forms.apply_errors(form, exc)
        except LookupError as exc:
            messages.error(request, str(exc))
            return redirect("participant_detail", pseudonym=pseudonym)
        else:
            messages.success(request, _("Identitetsuppgifterna är rättade. Rättelsen är loggad."))
            return redirect("participant_detail", pseudonym=pseudonym)
    elif request.method == "GET":
        try:
            identity = identity_read(user=request.user, participant=participant, reason="Rättelse: formuläret öppnat")
        except LookupError as exc:
            messages.error(request, str(exc))
            return redirect("participant_detail", pseudonym=pseudonym)
        form = forms.IdentityRectifyForm(
            initial={"name": identity.name, "contact": identity.contact, "personnummer": identity.personnummer}
        )
    return render(
        request,
        "participants/simple_form.html",
        {
            "participant": participant,
            "form": form,
            "title": _("Rätta identitetsuppgifter"),
            "submit": _("Spara rättelsen"),
            "intro": _(
                "Rätta namn, kontaktuppgift eller personnummer när de är fel, t.ex. efter en import. "
                "Både visningen och rättelsen loggas."
            ),
        },
    )


@login_required
def enrol_existing(request: SignedInRequest, pseudonym: str) -> HttpResponse:
    participant = _participant_or_404(request, pseudonym)
    insatser = _casework_insatser(request.user, participant.forbund)
    access.require(insatser.exists(), _("Du kan inte skriva in deltagare i någon av förbundets insatser."))
    form_kwargs = {"insats_choices": [(i.code, i.name) for i in insatser], "mentor_choices": _mentor_choices(insatser)}
    form = forms.EnrolForm(request.POST or None, **form_kwargs, initial={"mentor": str(request.user.pk)})
    if request.method == "POST" and form.is_valid() and _resolve_insats(form, insatser):
        data = form.cleaned_data
        try:
            enrolment_of_existing(
                by=request.user,
                participant=participant,
                reason=data["reason"],
                consent_channel=data["consent_channel"],
                guardian_consent=data["guardian_consent"],
                extra_consents=_wanted_consents(data, (ConsentPurpose.PROGRESSION, "consent_progression")),
                **_enrolment_kwargs(form),
            )
        except ValidationError as exc:
            forms.apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(pseudonym)s är inskriven i %(insats)s.")
                % {"pseudonym": participant.pseudonym, "insats": data["insats_obj"].name},
            )
            return redirect("participant_detail", pseudonym=pseudonym)
    return render(
        request,
        "participants/simple_form.html",
        {
            "participant": participant,
            "form": form,
            "title": _("Skriv in i insats"),
            "submit": _("Skriv in"),
            "intro": _(
                "Personen finns redan i registret. Inskrivningen kräver personens samtycke på nytt, "
                "och den loggas med anledningen."
            ),
        },
    )


@login_required
def enrolment_close_view(request: SignedInRequest, pseudonym: str, enrolment_id: int) -> HttpResponse:
    """Avslut in two steps: the form (with what to do first: a final reading, the exit survey), then a
    confirmation that repeats what will be recorded. Only the confirmed post closes the enrolment."""
    participant = _participant_or_404(request, pseudonym)
    enrolment = _writable_enrolment(request, participant, enrolment_id)
    if enrolment.end_date is not None:  # closed meanwhile, e.g. by a double tap on the confirmation
        messages.info(
            request,
            _("Inskrivningen i %(insats)s är avslutad %(date)s.")
            % {"insats": enrolment.insats.name, "date": f"{enrolment.end_date:%Y-%m-%d}"},
        )
        return redirect("participant_detail", pseudonym=pseudonym)
    form = forms.EnrolmentCloseForm(request.POST or None)
    confirming = request.method == "POST" and form.is_valid() and "change" not in request.POST
    if confirming:
        try:
            enrolment_close_check(enrolment=enrolment, **_without_extent(form.cleaned_data))
        except ValidationError as exc:
            forms.apply_errors(form, exc)
            confirming = False
    if confirming and request.POST.get("confirm") == "1":
        try:
            enrolment_close(by=request.user, enrolment=enrolment, **form.cleaned_data)
        except ValidationError as exc:
            forms.apply_errors(form, exc)
            confirming = False
        else:
            messages.success(request, _("Inskrivningen i %(insats)s är avslutad.") % {"insats": enrolment.insats.name})
            if not access.participants_readable_by(request.user).filter(pk=participant.pk).exists():
                messages.info(
                    request,
                    _("Inskrivningen var en felregistrering: du har inte längre åtkomst till %(pseudonym)s.")
                    % {"pseudonym": participant.pseudonym},
                )
                return redirect("home")
            return redirect("participant_detail", pseudonym=pseudonym)
    return render(
        request,
        "participants/enrolment_close.html",
        {
            "participant": participant,
            "enrolment": enrolment,
            "form": form,
            "confirming": confirming,
            "summary": _close_summary(form) if confirming else [],
            "prompts": [prompt for hook in hooks.ENROLMENT_CLOSING for prompt in hook(enrolment, request.user)],
        },
    )


def _without_extent(data: dict) -> dict:
    return {key: value for key, value in data.items() if key != "income_after_extent"}


def _close_summary(form: forms.EnrolmentCloseForm) -> list[tuple[str, str]]:
    data = form.cleaned_data
    income = data["income_after"]
    extent = f" ({data['income_after_extent'] * 100:.0f} %)" if income else ""
    return [
        (_("Avslutsdatum"), f"{data['end_date']:%Y-%m-%d}"),
        (_("Avslutsanledning"), str(data["exit_reason"])),
        (_("Försörjning efter insatsen"), f"{income}{extent}" if income else _("Inte angiven")),
    ]


@login_required
def mentor_change_view(request: SignedInRequest, pseudonym: str, enrolment_id: int) -> HttpResponse:
    participant = _participant_or_404(request, pseudonym)
    enrolment = _writable_enrolment(request, participant, enrolment_id)
    mentors = access.mentor_candidates(enrolment.insats)
    form = forms.MentorChangeForm(
        request.POST or None, mentor_choices=[(str(u.pk), u.get_full_name() or u.username) for u in mentors]
    )
    if request.method == "POST" and form.is_valid():
        try:
            enrolment_change_mentor(
                by=request.user,
                enrolment=enrolment,
                mentor=mentors.get(pk=form.cleaned_data["mentor"]),
                from_date=form.cleaned_data["from_date"],
            )
        except ValidationError as exc:
            forms.apply_errors(form, exc)
        else:
            messages.success(request, _("Handledare bytt."))
            return redirect("participant_detail", pseudonym=pseudonym)
    return render(
        request,
        "participants/simple_form.html",
        {
            "participant": participant,
            "form": form,
            "title": _("Byt handledare"),
            "submit": _("Byt handledare"),
            "intro": _("Varje handledarbyte räknas: byten sänker chansen till arbete, så de syns i uppföljningen."),
        },
    )


@login_required
def consent_view(request: SignedInRequest, pseudonym: str) -> HttpResponse:
    participant = _participant_or_404(request, pseudonym)
    access.require(
        access.can_record_consent(request.user, participant),
        _("Du kan inte registrera samtycken för den här deltagaren."),
    )
    form = forms.ConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            consent_record(
                participant=participant,
                recorded_by=request.user,
                text_version=settings.CONSENT_TEXT_VERSION,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            forms.apply_errors(form, exc)
        else:
            messages.success(request, _("Samtycket är registrerat."))
            return redirect("participant_detail", pseudonym=pseudonym)
    return render(
        request,
        "participants/simple_form.html",
        {
            "participant": participant,
            "form": form,
            "title": _("Samtycke"),
            "submit": _("Spara"),
            "intro": _("Ett återkallat samtycke sparas som en ny händelse; inget tidigare samtycke ändras."),
        },
    )


def _require_request_handler(request: HttpRequest, participant: Participant) -> None:
    access.require(
        access.can_answer_data_subject_requests(request.user, participant),
        _("Bara förbundets administratör kan exportera eller radera en persons uppgifter."),
    )


@never_cache
@login_required
def participant_export_view(request: SignedInRequest, pseudonym: str, fmt: str) -> HttpResponse:
    if fmt not in ("json", "html"):
        raise Http404(_("Registerutdrag finns som .json och .html."))
    participant = _participant_or_404(request, pseudonym)
    _require_request_handler(request, participant)
    data = gdpr.participant_export(participant=participant, by=request.user, reason="Registerutdrag på begäran")
    if fmt == "json":
        response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})
        response["Content-Disposition"] = f'attachment; filename="registerutdrag-{participant.pseudonym}.json"'
        return response
    return render(
        request,
        "participants/export.html",
        {"participant": participant, "data": data, "as_json": json.dumps(data, ensure_ascii=False, indent=2)},
    )


@login_required
def participant_erase_view(request: SignedInRequest, pseudonym: str) -> HttpResponse:
    participant = _participant_or_404(request, pseudonym)
    _require_request_handler(request, participant)
    form = forms.ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        participant_erase(participant=participant, by=request.user, reason=form.cleaned_data["reason"])
        messages.success(
            request,
            _("Identitetsuppgifterna för %(pseudonym)s är raderade. Statistiken finns kvar.")
            % {"pseudonym": participant.pseudonym},
        )
        return redirect("participant_detail", pseudonym=pseudonym)
    return render(
        request,
        "participants/simple_form.html",
        {
            "participant": participant,
            "form": form,
            "title": _("Radera identitetsuppgifter"),
            "submit": _("Radera för gott"),
            "danger": True,
            "intro": _(
                "Personnummer, namn och kontaktuppgifter raderas och kan inte återställas. "
                "Målbild, delmål, handlingsplan, planens historik och anledningarna i åtkomstloggen ersätts med "
                "[raderat]; där namnet, telefonnumret eller personnumret står i förbundets andra loggtexter byts "
                "just de orden ut. Importfiler som väntar på bekräftelse och nämner personen raderas. "
                "Pseudonymiserad statistik (kön, födelseår, inskrivningar, mätningar) finns kvar."
            ),
        },
    )


@page_access(Page.ACCESS_LOG)
def access_log(request: SignedInRequest) -> HttpResponse:
    """The log review: identity reads, look-ups, exports and enrolments of existing persons in the
    förbund the admin administers, by user and period; a review is recorded for a period."""
    administered = list(access.forbund_administered_by(request.user))
    events = access_event_list(user=request.user)
    actors = (
        get_user_model()
        .objects.filter(id__in=events.exclude(user=None).values("user_id"))
        .order_by("username")
        .values_list("id", "username")
    )
    filters = forms.AccessLogFilterForm(
        request.GET or None, user_choices=list(actors), action_choices=AccessAction.choices
    )
    review_form = forms.AccessLogReviewForm(request.POST or None)
    if request.method == "POST" and review_form.is_valid():
        data = review_form.cleaned_data
        try:
            for forbund in administered:
                access_log_review_record(by=request.user, forbund=forbund, **data)
        except ValidationError as exc:
            forms.apply_errors(review_form, exc)
        else:
            messages.success(
                request,
                _("Granskningen av %(start)s–%(end)s är sparad.")
                % {"start": f"{data['period_start']:%Y-%m-%d}", "end": f"{data['period_end']:%Y-%m-%d}"},
            )
            return redirect(f"{request.path}?{request.GET.urlencode()}")
    if filters.is_valid():
        data = filters.cleaned_data
        events = access_event_list(
            user=request.user,
            actor_id=data.get("user"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            action=data.get("action", ""),
        )
    page = Paginator(events, 50).get_page(request.GET.get("sida"))
    query = request.GET.copy()
    query.pop("sida", None)
    if not request.POST:
        today = timezone.localdate()
        review_form = forms.AccessLogReviewForm(
            initial={
                "period_start": (filters.is_valid() and filters.cleaned_data.get("date_from")) or today.replace(day=1),
                "period_end": (filters.is_valid() and filters.cleaned_data.get("date_to")) or today,
            }
        )
    return render(
        request,
        "participants/access_log.html",
        {
            "page": page,
            "filters": filters,
            "query": query.urlencode(),
            "review_form": review_form,
            "reviews": access_log_reviews(user=request.user)[:10],
            "forbund_names": ", ".join(f.name for f in administered),
        },
    )


@login_required
def volume_list(request: SignedInRequest, code: str) -> HttpResponse:
    insats = get_object_or_404(access.insatser_readable_by(request.user), code=code)
    if insats.measurement_mode != MeasurementMode.VOLUME:
        raise Http404(_("Insatsen mäts per person."))
    form = forms.VolumeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            volume_register(insats=insats, registered_by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            forms.apply_errors(form, exc)
        else:
            messages.success(request, _("Volymen är registrerad."))
            return redirect("volume_list", code=code)
    registrations = insats.volume_registrations.select_related("registered_by")
    page = Paginator(registrations, 50).get_page(request.GET.get("sida"))
    return render(request, "participants/volumes.html", {"insats": insats, "form": form, "page": page})
