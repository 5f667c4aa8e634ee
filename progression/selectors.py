"""Reads for progression: a participant's journey, goals, and what the API returns."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from participants.models import ConsentPurpose, Enrolment, MentorAssignment, consent_granted_subquery
from progression.models import (
    ActionPlanStep,
    DimensionScore,
    Goal,
    Milestone,
    MilestoneStatus,
    PlanEvent,
    Progression,
)
from surveys.models import Answer, AssessmentSession, ScaleKind, SessionStatus


@dataclass
class Reading:
    session: AssessmentSession
    scores: dict[str, float | None]  # by dimension code


def readings_for_enrolment(*, enrolment: Enrolment) -> list[Reading]:
    """Submitted, scored readings of an enrolment, oldest first, with their dimension scores."""
    sessions = (
        AssessmentSession.objects.filter(enrolment=enrolment, status=SessionStatus.SUBMITTED, consent_withdrawn=False)
        .select_related("version__instrument", "recorded_by")
        .prefetch_related(
            Prefetch(
                "dimension_scores",
                queryset=DimensionScore.objects.select_related("dimension").order_by("dimension__order"),
            )
        )
        .order_by("occurred_at", "id")
    )
    return [Reading(s, {ds.dimension.code: ds.score for ds in s.dimension_scores.all()}) for s in sessions]


def dimensions_for_enrolment(*, enrolment: Enrolment) -> list[tuple[str, str]]:
    """(code, label) of the rating dimensions the enrolment has scores in, in instrument order."""
    rows = (
        DimensionScore.objects.filter(session__enrolment=enrolment)
        .values_list("dimension__code", "dimension__label", "dimension__order")
        .distinct()
        .order_by("dimension__order")
    )
    seen: dict[str, str] = {}
    for code, label, _order in rows:
        seen.setdefault(code, label.get("sv", code))
    return list(seen.items())


def activity_hours(*, enrolment: Enrolment) -> list[tuple[AssessmentSession, int]]:
    """Hours per week in activity, as answered in each reading (number items of non-rating dimensions)."""
    answers = (
        Answer.objects.filter(
            session__enrolment=enrolment,
            session__status=SessionStatus.SUBMITTED,
            session__consent_withdrawn=False,
            item__scale__kind=ScaleKind.NUMBER,
            value__isnull=False,
        )
        .select_related("session")
        .order_by("session__occurred_at", "session_id")
    )
    return [(a.session, a.value) for a in answers if a.value is not None]  # always, by value__isnull=False


def mentor_history(*, enrolment: Enrolment) -> QuerySet[MentorAssignment]:
    return MentorAssignment.objects.filter(enrolment=enrolment).select_related("mentor").order_by("start_date", "id")


def progression_for_enrolment(*, enrolment: Enrolment) -> QuerySet[Progression]:
    return (
        Progression.objects.filter(enrolment=enrolment)
        .select_related("instrument")
        .order_by("perspective", "dimension_code")
    )


def goal_current(*, enrolment: Enrolment) -> Goal | None:
    """The active målbild with its delmål, steps and history."""
    return (
        Goal.objects.filter(enrolment=enrolment, active=True)
        .prefetch_related(
            Prefetch("milestones", queryset=Milestone.objects.order_by("created_at", "id")),
            Prefetch("steps", queryset=ActionPlanStep.objects.order_by("due_date", "id")),
        )
        .first()
    )


def plan_history(*, enrolment: Enrolment) -> QuerySet[PlanEvent]:
    return PlanEvent.objects.filter(goal__enrolment=enrolment).select_related("by").order_by("-at", "-id")


# --- The mentor's caseload: who is due for a målbildssamtal ---------------------------------------


@dataclass
class CaseloadRow:
    enrolment: Enrolment
    last_reading: date | None
    next_due: date
    open_milestones: int
    consented: bool  # to progression measurement: without it there is no conversation to hold

    @property
    def days_overdue(self) -> int:
        return (timezone.localdate() - self.next_due).days

    @property
    def days_until(self) -> int:
        return -self.days_overdue


def caseload_rows(*, enrolments: QuerySet[Enrolment]) -> list[CaseloadRow]:
    """The enrolments with their last reading, the next reading due by the insats' rhythm (from the
    inskrivning when there is none yet) and their open delmål; whoever is due first comes first, and
    those who have not consented to progression measurement last. One SQL statement."""
    readings = AssessmentSession.objects.filter(
        enrolment=OuterRef("pk"), status=SessionStatus.SUBMITTED, consent_withdrawn=False
    ).order_by("-occurred_at")
    open_milestones = (
        Milestone.objects.filter(goal__enrolment=OuterRef("pk"), goal__active=True)
        .exclude(status=MilestoneStatus.ACHIEVED)
        .values("goal__enrolment")
        .annotate(n=Count("pk"))
        .values("n")
    )
    annotated = enrolments.annotate(
        last_reading_at=Subquery(readings.values("occurred_at")[:1]),
        open_milestone_count=Coalesce(Subquery(open_milestones), 0),
        consented=consent_granted_subquery(purpose=ConsentPurpose.PROGRESSION),
    ).select_related("insats", "participant")
    rows = []
    for enrolment in annotated:
        last = timezone.localdate(enrolment.last_reading_at) if enrolment.last_reading_at else None
        rhythm = timedelta(weeks=enrolment.insats.reading_interval_weeks)
        rows.append(
            CaseloadRow(
                enrolment=enrolment,
                last_reading=last,
                next_due=last + rhythm if last else enrolment.start_date,
                open_milestones=enrolment.open_milestone_count,
                consented=enrolment.consented,
            )
        )
    return sorted(rows, key=lambda row: (not row.consented, row.next_due, row.enrolment.participant.pseudonym))
