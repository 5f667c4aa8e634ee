"""How readings take part in the registry's privacy rules (registered in SurveysConfig.ready)."""

from typing import Any

from django.db import transaction

from participants.models import Participant
from surveys.models import DEFAULT_LANGUAGE, WORDING_FOR, Answer, AssessmentSession, SelfAssessmentLink


def sessions_export_section(participant: Participant) -> dict[str, Any]:
    """Every reading and answer of the person, for the GDPR export."""
    sessions = (
        AssessmentSession.objects.filter(enrolment__participant=participant)
        .select_related("version__instrument", "enrolment__insats")
        .order_by("occurred_at")
    )
    answers_by_session: dict[int, list[dict[str, Any]]] = {}
    answers = (
        Answer.objects.filter(session__in=sessions).select_related("item__dimension", "session").order_by("item__code")
    )
    for answer in answers:
        item = answer.item
        wording: dict[str, str] = item.texts.get(WORDING_FOR.get(answer.session.perspective, "")) or next(
            iter(item.texts.values()), {}
        )
        answers_by_session.setdefault(answer.session_id, []).append(
            {
                "fraga": item.code,
                "omrade": item.dimension.label.get(DEFAULT_LANGUAGE, item.dimension.code),
                "fragetext": wording.get(DEFAULT_LANGUAGE, ""),
                "svar": answer.value,
            }
        )
    return {
        "bedomningar": [
            {
                "insats": s.enrolment.insats.name,
                "instrument": str(s.version),
                "perspektiv": s.get_perspective_display(),
                "status": s.get_status_display(),
                "genomford": s.occurred_at.isoformat(),
                "svar": answers_by_session.get(s.pk, []),
            }
            for s in sessions
        ]
    }


@transaction.atomic
def sessions_on_progression_withdrawn(participant: Participant, policy: str) -> None:
    """Progression consent withdrawn: unused links stop working; readings are deleted or kept only
    for anonymous statistics, as the förbund has chosen."""
    SelfAssessmentLink.objects.filter(enrolment__participant=participant, used_at__isnull=True).delete()
    sessions = AssessmentSession.objects.filter(enrolment__participant=participant)
    if policy == "delete":
        sessions.delete()  # answers go with them; links keep only their use date
    else:
        sessions.update(consent_withdrawn=True)
