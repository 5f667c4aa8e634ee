"""What progression plugs into the apps it depends on (registered in ProgressionConfig.ready)."""

import logging
from typing import TYPE_CHECKING

from kombu.exceptions import OperationalError

if TYPE_CHECKING:
    from participants.models import Participant

logger = logging.getLogger(__name__)


def enqueue_session_processing(session_id: int) -> None:
    """After commit of a submitted reading. If the broker is down the reading is still stored and
    acknowledged; the periodic sweep scores it later."""
    from progression.tasks import process_session

    try:
        process_session.delay(session_id)
    except OperationalError:
        logger.warning("Kunde inte köa poängberäkning för bedömning %s; svepet tar den senare", session_id)


def progression_after_withdrawal(participant: "Participant", policy: str) -> None:
    """Consent to progression measurement withdrawn: the readings were deleted or set aside by
    surveys; recompute the person's progression and their insatser's summaries right away, so that
    the incremental tables equal a rebuild."""
    from participants.models import Enrolment
    from progression import scoring

    scoring.enrolments_recompute(
        enrolment_ids=list(Enrolment.objects.filter(participant=participant).values_list("id", flat=True))
    )


def plan_texts_erase(participant: "Participant") -> None:
    """Identity erased: the person's målbild, delmål, handlingsplan and plan history may name them
    or others around them; each text becomes the marker (dates and statuses stay)."""
    from participants.erasure import ERASED
    from progression.models import ActionPlanStep, Goal, Milestone, PlanEvent

    goals = Goal.objects.filter(enrolment__participant=participant)
    goals.update(text=ERASED)
    Milestone.objects.filter(goal__in=goals).update(text=ERASED)
    ActionPlanStep.objects.filter(goal__in=goals).update(what=ERASED, who=ERASED)
    PlanEvent.objects.filter(goal__in=goals).update(description=ERASED)


def forbund_text_fields() -> list[tuple[object, str, str]]:
    """progression's free texts, for participants.hooks.FORBUND_TEXT_FIELDS: other people's plans
    and the report appendix texts may name a person who is erased."""
    from progression.models import ActionPlanStep, Goal, Milestone, PlanEvent, ReportText

    enrolment_forbund = "enrolment__insats__forbund_id"
    goal_forbund = f"goal__{enrolment_forbund}"
    return [
        (Goal, "text", enrolment_forbund),
        (Milestone, "text", goal_forbund),
        (ActionPlanStep, "what", goal_forbund),
        (ActionPlanStep, "who", goal_forbund),
        (PlanEvent, "description", goal_forbund),
        *((ReportText, field, "insats__forbund_id") for field in ReportText.TEXT_FIELDS),
    ]
