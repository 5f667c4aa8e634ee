"""Reads for the registry. Every selector that returns scoped data takes the acting user."""

from datetime import date
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery

from participants import access
from participants.access import AnyUser
from participants.models import (
    AccessEvent,
    AccessLogReview,
    Consent,
    Enrolment,
    Forbund,
    Insats,
    MentorAssignment,
    Participant,
)

if TYPE_CHECKING:  # django-stubs-ext is installed with the tests' requirements only
    from django_stubs_ext import WithAnnotations


def insats_overview(*, insatser: QuerySet[Insats]) -> QuerySet[Insats]:
    """The given insatser with their förbund and number of open enrolments, for landing pages."""
    return insatser.select_related("forbund").annotate(
        open_enrolments=Count("enrolments", filter=Q(enrolments__end_date__isnull=True))
    )


def _current_mentor_prefetch() -> Prefetch:
    return Prefetch(
        "mentor_assignments",
        queryset=MentorAssignment.objects.filter(end_date__isnull=True).select_related("mentor"),
        to_attr="current_mentor_assignments",
    )


class CurrentMentor(TypedDict):
    current_mentor_id: int | None


def enrolment_list_for_user(
    *, user: AnyUser, insats: Insats | None = None, open_only: bool = True
) -> "QuerySet[WithAnnotations[Enrolment, CurrentMentor]]":
    """Enrolments the user may see (access.enrolments_readable_by), pseudonymous, with the current mentor."""
    enrolments = (
        access.enrolments_readable_by(user)
        .select_related("participant", "insats", "exit_reason")
        .prefetch_related(_current_mentor_prefetch())
        .annotate(
            current_mentor_id=Subquery(
                MentorAssignment.objects.filter(enrolment=OuterRef("pk"), end_date__isnull=True).values("mentor_id")[:1]
            )
        )
    )
    if insats is not None:
        enrolments = enrolments.filter(insats=insats)
    if open_only:
        enrolments = enrolments.filter(end_date__isnull=True)
    return enrolments.order_by("insats__name", "participant__pseudonym")


def caseload_for_mentor(*, user: AnyUser) -> QuerySet[Enrolment]:
    """The mentor's own caseload: open enrolments they may see where they are the current mentor."""
    return enrolment_list_for_user(user=user).filter(
        mentor_assignments__mentor_id=user.pk, mentor_assignments__end_date__isnull=True
    )


def participant_list_for_user(*, user: AnyUser) -> QuerySet[Participant]:
    """Participants the user may see as pseudonyms (access.participants_readable_by)."""
    return access.participants_readable_by(user).select_related("forbund")


def participant_detail_for_user(*, user: AnyUser, pseudonym: str) -> Participant:
    """One participant in scope with the enrolments the user may see (and their mentor history) and
    the consents; DoesNotExist otherwise."""
    return (
        participant_list_for_user(user=user)
        .prefetch_related(
            Prefetch(
                "enrolments",
                queryset=access.enrolments_readable_by(user)
                .select_related("insats", "income_before", "income_after", "education", "exit_reason")
                .prefetch_related(
                    Prefetch("mentor_assignments", queryset=MentorAssignment.objects.select_related("mentor"))
                ),
            ),
            Prefetch(
                "consents", queryset=Consent.objects.select_related("recorded_by").order_by("-recorded_at", "-id")
            ),
        )
        .get(pseudonym=pseudonym)
    )


def consent_current(*, participant: Participant, purpose: str) -> Consent | None:
    """The consent record in force for a purpose: the latest one, given or withdrawn."""
    return participant.consents.filter(purpose=purpose).order_by("-recorded_at", "-id").first()


def consent_granted(*, participant: Participant, purpose: str) -> bool:
    """True when the latest consent record for the purpose grants it."""
    current = consent_current(participant=participant, purpose=purpose)
    return bool(current and current.granted)


def access_event_list(
    *,
    user: AnyUser,
    forbund: Forbund | None = None,
    actor_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    action: str = "",
) -> QuerySet[AccessEvent]:
    """The access log of the förbund the user administers, newest first, filtered by who acted, when
    and what; exports of whole reports included."""
    events = AccessEvent.objects.select_related("user", "participant", "forbund").filter(
        forbund__in=access.forbund_administered_by(user)
    )
    if forbund is not None:
        events = events.filter(forbund=forbund)
    if actor_id is not None:
        events = events.filter(user_id=actor_id)
    if date_from is not None:
        events = events.filter(created_at__date__gte=date_from)
    if date_to is not None:
        events = events.filter(created_at__date__lte=date_to)
    if action:
        events = events.filter(action=action)
    return events


def access_log_reviews(*, user: AnyUser) -> QuerySet[AccessLogReview]:
    """Earlier reviews of the access log in the förbund the user administers, newest first."""
    return AccessLogReview.objects.select_related("forbund", "reviewed_by").filter(
        forbund__in=access.forbund_administered_by(user)
    )
