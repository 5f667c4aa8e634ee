"""The right of access: everything Stegvis holds about one person, as data."""

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from participants import access, crypto, hooks
from participants.models import AccessAction, AccessEvent, Consent, Enrolment, IdentityRecord, Participant
from participants.services import access_event_log


def _name(user: User | None) -> str:
    if user is None:
        return "systemet"
    return user.get_full_name() or user.get_username()


@transaction.atomic
def participant_export(*, participant: Participant, by: User, reason: str) -> dict[str, Any]:
    """Identity, consents, enrolments, access events and (through hooks) sessions, answers and goals.

    The export is itself an access event, and appears in the export it produces. The förbund's
    admins answer such requests (access.can_answer_data_subject_requests).
    """
    access.require(
        access.can_answer_data_subject_requests(by, participant),
        "Bara förbundets administratör kan ta fram ett registerutdrag.",
    )
    access_event_log(user=by, participant=participant, action=AccessAction.EXPORT, reason=reason)
    record = IdentityRecord.objects.filter(participant=participant).first()
    identity = None
    if record is not None:
        identity = {
            "personnummer": crypto.decrypt(record.personnummer_encrypted),
            "namn": crypto.decrypt(record.name_encrypted),
            "kontakt": crypto.decrypt(record.contact_encrypted) if record.contact_encrypted else "",
        }
    enrolments = (
        Enrolment.objects.filter(participant=participant)
        .select_related("insats", "income_before", "income_after", "education", "exit_reason")
        .prefetch_related("mentor_assignments__mentor")
    )
    data: dict[str, Any] = {
        "pseudonym": participant.pseudonym,
        "forbund": participant.forbund.name,
        "kon": participant.get_kon_display(),
        "fodelsear": participant.birth_year,
        "anonym": participant.is_anonymous,
        "registrerad": participant.created_at.isoformat(),
        "identitet_raderad": participant.identity_erased_at.isoformat() if participant.identity_erased_at else None,
        "identitet": identity,
        "samtycken": [
            {
                "andamal": c.get_purpose_display(),
                "beslut": "samtycker" if c.granted else "återkallat",
                "medlemsmyndighet": c.member_authority,
                "textversion": c.text_version,
                "hur": c.get_channel_display(),
                "vardnadshavare": c.guardian_consent,
                "registrerat_av": _name(c.recorded_by),
                "tidpunkt": c.recorded_at.isoformat(),
            }
            for c in Consent.objects.filter(participant=participant)
            .select_related("recorded_by")
            .order_by("recorded_at", "id")
        ],
        "inskrivningar": [
            {
                "insats": e.insats.name,
                "inskrivningsdatum": e.start_date.isoformat(),
                "avslutsdatum": e.end_date.isoformat() if e.end_date else None,
                "avslutsanledning": str(e.exit_reason) if e.exit_reason else None,
                "forsorjning_fore": str(e.income_before) if e.income_before else None,
                "omfattning_fore": str(e.income_before_extent),
                "forsorjning_efter": str(e.income_after) if e.income_after else None,
                "omfattning_efter": str(e.income_after_extent) if e.income_after_extent else None,
                "utbildning": str(e.education) if e.education else None,
                "ar_i_offentlig_forsorjning": str(e.years_in_public_support)
                if e.years_in_public_support is not None
                else None,
                "handledare": [
                    {
                        "namn": _name(a.mentor),
                        "fran": a.start_date.isoformat(),
                        "till": a.end_date.isoformat() if a.end_date else None,
                    }
                    for a in e.mentor_assignments.all()
                ],
            }
            for e in enrolments
        ],
    }
    for section in hooks.EXPORT_SECTIONS:
        data.update(section(participant))
    data["atkomstlogg"] = [
        {
            "tidpunkt": event.created_at.isoformat(),
            "vem": _name(event.user),
            "handelse": event.get_action_display(),
            "anledning": event.reason,
        }
        for event in AccessEvent.objects.filter(participant=participant).select_related("user").order_by("created_at")
    ]
    return data
