"""Mentor pages for the registry: register, enrol, consent, change mentor, close, identity, GDPR."""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from participants import forms, gdpr, hooks
from participants.models import ConsentPurpose, Enrolment, Insats, MeasurementMode, Participant, Role
from participants.permissions import role_required
from participants.selectors import (
    access_event_list_for_user,
    identity_access_allowed,
    insats_list_for_user,
    mentor_choices_for_insats,
    participant_detail_for_user,
    user_roles,
)
from participants.services import (
    ParticipantAlreadyRegistered,
    consent_record,
    enrolment_change_mentor,
    enrolment_close,
    enrolment_create,
    identity_read,
    participant_erase,
    participant_intake,
    participant_lookup,
    volume_register,
)

WRITE_ROLES = [Role.MENTOR, Role.ADMIN]


def apply_errors(form: Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form, field by field where the field exists."""
    for field, messages_ in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)


def _writable_insatser(user) -> QuerySet[Insats]:  # noqa: ANN001
    return insats_list_for_user(user=user, roles=WRITE_ROLES).filter(
        measurement_mode=MeasurementMode.PER_PERSON, active=True
    )


def _mentor_choices(insatser) -> list[tuple[str, str]]:  # noqa: ANN001
    seen: dict[str, str] = {}
    for insats in insatser:
        for user in mentor_choices_for_insats(insats=insats):
            seen[str(user.pk)] = user.get_full_name() or user.username
    return sorted(seen.items(), key=lambda item: item[1])


def _participant_or_404(request: HttpRequest, pseudonym: str) -> Participant:
    try:
        return participant_detail_for_user(user=request.user, pseudonym=pseudonym)
    except Participant.DoesNotExist:
        raise Http404("Deltagaren finns inte eller ligger utanför din behörighet.") from None


def _enrolment_or_404(request: HttpRequest, participant: Participant, enrolment_id: int) -> Enrolment:
    enrolment = get_object_or_404(Enrolment.objects.select_related("insats"), pk=enrolment_id, participant=participant)
    if not _writable_insatser(request.user).filter(pk=enrolment.insats_id).exists():
        raise PermissionDenied("Du kan inte ändra inskrivningar i den här insatsen.")
    return enrolment


def _enrolment_kwargs(form: forms.EnrolmentFieldsForm, request: HttpRequest) -> dict:
    data = form.cleaned_data
    mentor = None
    if data.get("mentor"):
        mentor = mentor_choices_for_insats(insats=data["insats_obj"]).filter(pk=data["mentor"]).first()
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
        form.add_error("insats", "Välj en insats du arbetar i.")
        return False
    form.cleaned_data["insats_obj"] = insats
    return True


@role_required(Role.MENTOR, Role.ADMIN)
def participant_register_view(request: HttpRequest) -> HttpResponse:
    insatser = _writable_insatser(request.user)
    if not insatser.exists():
        raise PermissionDenied("Du är inte handledare i någon insats som mäts per person.")
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
                    kon=data["kon"],
                    birth_year=data.get("birth_year"),
                    personnummer=data.get("personnummer", ""),
                    name=data.get("name", ""),
                    contact=data.get("contact", ""),
                    anonymous=data["anonymous"],
                    consent_channel=data.get("consent_channel", ""),
                    consent_text_version=settings.CONSENT_TEXT_VERSION,
                    guardian_consent=data.get("guardian_consent", False),
                    extra_consents=[
                        purpose
                        for purpose, wanted in [
                            (ConsentPurpose.PROGRESSION, data.get("consent_progression")),
                            (ConsentPurpose.RESEARCH, data.get("consent_research")),
                        ]
                        if wanted
                    ],
                    **_enrolment_kwargs(form, request),
                )
            except ParticipantAlreadyRegistered as exc:
                existing = exc.participant
                participant_lookup(
                    user=request.user,
                    forbund=insats.forbund,
                    personnummer=data["personnummer"],
                    reason="Registrering: personnumret fanns redan",
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"{participant.pseudonym} är registrerad och inskriven i {insats.name}.")
                return redirect("participant_detail", pseudonym=participant.pseudonym)
    else:
        form = forms.ParticipantRegisterForm(**form_kwargs, initial={"mentor": str(request.user.pk)})
    return render(request, "participants/register.html", {"form": form, "existing": existing})


@login_required
def participant_detail(request: HttpRequest, pseudonym: str) -> HttpResponse:
    participant = _participant_or_404(request, pseudonym)
    roles = user_roles(user=request.user)
    writable_ids = set(_writable_insatser(request.user).values_list("id", flat=True))
    consents_by_purpose: dict[str, object] = {}
    for consent in participant.consents.all():
        consents_by_purpose.setdefault(consent.purpose, consent)
    enrolments = list(participant.enrolments.all())
    for enrolment in enrolments:
        enrolment.extra_links = [link for hook in hooks.ENROLMENT_LINKS for link in hook(enrolment, request.user)]
    return render(
        request,
        "participants/participant_detail.html",
        {
            "participant": participant,
            "enrolments": enrolments,
            "writable_insats_ids": writable_ids,
            "current_consents": [(label, consents_by_purpose.get(value)) for value, label in ConsentPurpose.choices],
            "consents": participant.consents.all(),
            "can_read_identity": identity_access_allowed(user=request.user, participant=participant),
            "has_identity": hasattr(participant, "identity"),
            "is_admin": Role.ADMIN in roles,
            "reason_form": forms.ReasonForm(),
        },
    )


@login_required
@require_POST
def identity_reveal(request: HttpRequest, pseudonym: str) -> HttpResponse:
    participant = _participant_or_404(request, pseudonym)
    form = forms.ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Ange varför du behöver se identiteten.")
        return redirect("participant_detail", pseudonym=pseudonym)
    try:
        identity = identity_read(user=request.user, participant=participant, reason=form.cleaned_data["reason"])
    except PermissionError as exc:
        raise PermissionDenied(str(exc)) from None
    except LookupError as exc:
        messages.error(request, str(exc))
        return redirect("participant_detail", pseudonym=pseudonym)
    return render(request, "participants/identity.html", {"participant": participant, "identity": identity})


@role_required(Role.MENTOR, Role.ADMIN)
def enrol_existing(request: HttpRequest, pseudonym: str) -> HttpResponse:
    participant = _participant_or_404(request, pseudonym)
    insatser = _writable_insatser(request.user).filter(forbund=participant.forbund)
    form_kwargs = {"insats_choices": [(i.code, i.name) for i in insatser], "mentor_choices": _mentor_choices(insatser)}
    form = forms.EnrolForm(request.POST or None, **form_kwargs, initial={"mentor": str(request.user.pk)})
    if request.method == "POST" and form.is_valid() and _resolve_insats(form, insatser):
        try:
            enrolment_create(participant=participant, **_enrolment_kwargs(form, request))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"{participant.pseudonym} är inskriven i {form.cleaned_data['insats_obj'].name}.")
            return redirect("participant_detail", pseudonym=pseudonym)
    return render(
        request,
        "participants/simple_form.html",
        {"participant": participant, "form": form, "title": "Skriv in i insats", "submit": "Skriv in"},
    )


@role_required(Role.MENTOR, Role.ADMIN)
def enrolment_close_view(request: HttpRequest, pseudonym: str, enrolment_id: int) -> HttpResponse:
    participant = _participant_or_404(request, pseudonym)
    enrolment = _enrolment_or_404(request, participant, enrolment_id)
    form = forms.EnrolmentCloseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            enrolment_close(enrolment=enrolment, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Inskrivningen i {enrolment.insats.name} är avslutad.")
            return redirect("participant_detail", pseudonym=pseudonym)
    return render(
        request,
        "participants/simple_form.html",
        {
            "participant": participant,
            "form": form,
            "title": f"Avsluta inskrivning i {enrolment.insats.name}",
            "submit": "Avsluta inskrivningen",
            "intro": "Felregistrering tar bort inskrivningen ur alla rapporter.",
        },
    )


@role_required(Role.MENTOR, Role.ADMIN)
def mentor_change_view(request: HttpRequest, pseudonym: str, enrolment_id: int) -> HttpResponse:
    participant = _participant_or_404(request, pseudonym)
    enrolment = _enrolment_or_404(request, participant, enrolment_id)
    mentors = mentor_choices_for_insats(insats=enrolment.insats)
    form = forms.MentorChangeForm(
        request.POST or None, mentor_choices=[(str(u.pk), u.get_full_name() or u.username) for u in mentors]
    )
    if request.method == "POST" and form.is_valid():
        try:
            enrolment_change_mentor(
                enrolment=enrolment,
                mentor=mentors.get(pk=form.cleaned_data["mentor"]),
                from_date=form.cleaned_data["from_date"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Handledare bytt.")
            return redirect("participant_detail", pseudonym=pseudonym)
    return render(
        request,
        "participants/simple_form.html",
        {
            "participant": participant,
            "form": form,
            "title": "Byt handledare",
            "submit": "Byt handledare",
            "intro": "Varje handledarbyte räknas: byten sänker chansen till arbete, så de syns i uppföljningen.",
        },
    )


@role_required(Role.MENTOR, Role.ADMIN)
def consent_view(request: HttpRequest, pseudonym: str) -> HttpResponse:
    participant = _participant_or_404(request, pseudonym)
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
            apply_errors(form, exc)
        else:
            messages.success(request, "Samtycket är registrerat.")
            return redirect("participant_detail", pseudonym=pseudonym)
    return render(
        request,
        "participants/simple_form.html",
        {
            "participant": participant,
            "form": form,
            "title": "Samtycke",
            "submit": "Spara",
            "intro": "Ett återkallat samtycke sparas som en ny händelse; inget tidigare samtycke ändras.",
        },
    )


def _require_admin_for(request: HttpRequest, participant: Participant) -> None:
    if request.user.is_superuser:
        return
    if not insats_list_for_user(user=request.user, roles=[Role.ADMIN]).filter(forbund=participant.forbund).exists():
        raise PermissionDenied("Bara förbundets administratör kan exportera eller radera en persons uppgifter.")


@role_required(Role.ADMIN)
def participant_export_view(request: HttpRequest, pseudonym: str, fmt: str) -> HttpResponse:
    if fmt not in ("json", "html"):
        raise Http404("Registerutdrag finns som .json och .html.")
    participant = _participant_or_404(request, pseudonym)
    _require_admin_for(request, participant)
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


@role_required(Role.ADMIN)
def participant_erase_view(request: HttpRequest, pseudonym: str) -> HttpResponse:
    participant = _participant_or_404(request, pseudonym)
    _require_admin_for(request, participant)
    form = forms.ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        participant_erase(participant=participant, by=request.user, reason=form.cleaned_data["reason"])
        messages.success(
            request, f"Identitetsuppgifterna för {participant.pseudonym} är raderade. Statistiken finns kvar."
        )
        return redirect("participant_detail", pseudonym=pseudonym)
    return render(
        request,
        "participants/simple_form.html",
        {
            "participant": participant,
            "form": form,
            "title": "Radera identitetsuppgifter",
            "submit": "Radera för gott",
            "danger": True,
            "intro": "Personnummer, namn och kontaktuppgifter raderas och kan inte återställas. "
            "Pseudonymiserad statistik (kön, födelseår, inskrivningar, mätningar) finns kvar.",
        },
    )


@role_required(Role.ADMIN)
def access_log(request: HttpRequest) -> HttpResponse:
    events = access_event_list_for_user(user=request.user)
    page = Paginator(events, 50).get_page(request.GET.get("sida"))
    return render(request, "participants/access_log.html", {"page": page})


@role_required(Role.MENTOR, Role.COORDINATOR, Role.ADMIN)
def volume_list(request: HttpRequest, code: str) -> HttpResponse:
    insats = get_object_or_404(insats_list_for_user(user=request.user), code=code)
    if insats.measurement_mode != MeasurementMode.VOLUME:
        raise Http404("Insatsen mäts per person.")
    can_write = (
        insats_list_for_user(user=request.user, roles=[Role.MENTOR, Role.COORDINATOR, Role.ADMIN])
        .filter(pk=insats.pk)
        .exists()
    )
    form = forms.VolumeForm(request.POST or None)
    if request.method == "POST" and can_write and form.is_valid():
        try:
            volume_register(insats=insats, registered_by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Volymen är registrerad.")
            return redirect("volume_list", code=code)
    registrations = insats.volume_registrations.select_related("registered_by")
    page = Paginator(registrations, 50).get_page(request.GET.get("sida"))
    return render(request, "participants/volumes.html", {"insats": insats, "form": form, "page": page})
