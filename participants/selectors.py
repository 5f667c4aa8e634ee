"""Reads for the registry. Every selector that returns scoped data takes the acting user."""

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from participants.models import (
    AccessEvent,
    Consent,
    Enrolment,
    Forbund,
    Insats,
    Membership,
    MentorAssignment,
    Participant,
    Role,
)

AnyUser = AbstractBaseUser | AnonymousUser
ALL_ROLES = tuple(Role.values)


def user_roles(*, user: AnyUser) -> set[str]:
    """The roles a user holds anywhere; a superuser counts as admin."""
    if not user.is_authenticated:
        return set()
    roles = set(Membership.objects.filter(user=user).values_list("role", flat=True))
    if user.is_superuser:
        roles.add(Role.ADMIN)
    return roles


def _insats_scope(*, user: AnyUser, roles: Iterable[str]) -> Q:
    """Insatser the user reaches through a membership on the insats or on its förbund."""
    memberships = Membership.objects.filter(user=user, role__in=list(roles))
    return Q(id__in=memberships.filter(insats__isnull=False).values("insats_id")) | Q(
        forbund_id__in=memberships.filter(forbund__isnull=False).values("forbund_id")
    )


def insats_list_for_user(*, user: AnyUser, roles: Iterable[str] = ALL_ROLES) -> QuerySet[Insats]:
    """Insatser within the user's scope for the given roles (all for a superuser)."""
    if not user.is_authenticated:
        return Insats.objects.none()
    insatser = Insats.objects.select_related("forbund")
    if user.is_superuser:
        return insatser
    return insatser.filter(_insats_scope(user=user, roles=roles))


def forbund_list_for_user(*, user: AnyUser, roles: Iterable[str] = ALL_ROLES) -> QuerySet[Forbund]:
    """Förbund the user reaches at all (through a förbund or one of its insatser)."""
    if not user.is_authenticated:
        return Forbund.objects.none()
    if user.is_superuser:
        return Forbund.objects.all()
    return Forbund.objects.filter(id__in=insats_list_for_user(user=user, roles=roles).values("forbund_id")).distinct()


def insats_overview_for_user(*, user: AnyUser, roles: Iterable[str] = ALL_ROLES) -> QuerySet[Insats]:
    """Insatser in scope with the number of open enrolments, for landing pages."""
    return insats_list_for_user(user=user, roles=roles).annotate(
        open_enrolments=Count("enrolments", filter=Q(enrolments__end_date__isnull=True))
    )


def _current_mentor_prefetch() -> Prefetch:
    return Prefetch(
        "mentor_assignments",
        queryset=MentorAssignment.objects.filter(end_date__isnull=True).select_related("mentor"),
        to_attr="current_mentor_assignments",
    )


def enrolment_list_for_user(
    *, user: AnyUser, insats: Insats | None = None, open_only: bool = True
) -> QuerySet[Enrolment]:
    """Enrolments a mentor, coordinator or admin may see, pseudonymous, with the current mentor."""
    enrolments = (
        Enrolment.objects.select_related("participant", "insats", "exit_reason")
        .prefetch_related(_current_mentor_prefetch())
        .annotate(
            current_mentor_id=Subquery(
                MentorAssignment.objects.filter(enrolment=OuterRef("pk"), end_date__isnull=True).values("mentor_id")[:1]
            )
        )
        .filter(insats__in=insats_list_for_user(user=user))
    )
    if insats is not None:
        enrolments = enrolments.filter(insats=insats)
    if open_only:
        enrolments = enrolments.filter(end_date__isnull=True)
    return enrolments.order_by("insats__name", "participant__pseudonym")


def participant_list_for_user(*, user: AnyUser) -> QuerySet[Participant]:
    """Participants enrolled (now or before) in an insats in scope, or registered in a förbund
    where the user holds a förbund-wide role."""
    if not user.is_authenticated:
        return Participant.objects.none()
    participants = Participant.objects.select_related("forbund")
    if user.is_superuser:
        return participants
    forbund_wide = Membership.objects.filter(user=user, forbund__isnull=False).values("forbund_id")
    enrolled_in_scope = Enrolment.objects.filter(insats__in=insats_list_for_user(user=user)).values("participant_id")
    # Registered but not yet enrolled anywhere: visible (as a pseudonym) to everyone working in the
    # förbund, so that the mentor who registered someone can enrol them.
    forbund_of_insatser = insats_list_for_user(user=user).values("forbund_id")
    not_enrolled = Q(forbund_id__in=forbund_of_insatser) & ~Exists(Enrolment.objects.filter(participant=OuterRef("pk")))
    return participants.filter(Q(forbund_id__in=forbund_wide) | Q(id__in=enrolled_in_scope) | not_enrolled)


def participant_detail_for_user(*, user: AnyUser, pseudonym: str) -> Participant:
    """One participant in scope, with enrolments (and mentor history) and consents; DoesNotExist otherwise."""
    return (
        participant_list_for_user(user=user)
        .prefetch_related(
            Prefetch(
                "enrolments",
                queryset=Enrolment.objects.select_related(
                    "insats", "income_before", "income_after", "education", "exit_reason"
                ).prefetch_related(
                    Prefetch("mentor_assignments", queryset=MentorAssignment.objects.select_related("mentor"))
                ),
            ),
            Prefetch(
                "consents", queryset=Consent.objects.select_related("recorded_by").order_by("-recorded_at", "-id")
            ),
        )
        .get(pseudonym=pseudonym)
    )


def identity_access_allowed(*, user: AnyUser, participant: Participant) -> bool:
    """Mentors of an insats the person is or was enrolled in, and roles granted identity access."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    enrolled_insatser = Enrolment.objects.filter(participant=participant).values("insats_id")
    mentor_reach = Membership.objects.filter(user=user, role=Role.MENTOR).filter(
        Q(insats_id__in=enrolled_insatser) | Q(forbund_id=participant.forbund_id)
    )
    granted_reach = Membership.objects.filter(user=user, can_read_identity=True).filter(
        Q(insats_id__in=enrolled_insatser) | Q(forbund_id=participant.forbund_id)
    )
    return mentor_reach.exists() or granted_reach.exists()


def consent_current(*, participant: Participant, purpose: str) -> Consent | None:
    """The consent record in force for a purpose: the latest one, given or withdrawn."""
    return participant.consents.filter(purpose=purpose).order_by("-recorded_at", "-id").first()


def consent_granted(*, participant: Participant, purpose: str) -> bool:
    """True when the latest consent record for the purpose grants it."""
    current = consent_current(participant=participant, purpose=purpose)
    return bool(current and current.granted)


def consent_granted_subquery(*, purpose: str, participant_ref: str = "participant_id") -> Coalesce:
    """consent_granted as an expression for annotating many rows at once: whether the latest consent
    record for the purpose of the participant in `participant_ref` (on the outer rows) grants it."""
    latest = (
        Consent.objects.filter(participant=OuterRef(participant_ref), purpose=purpose)
        .order_by("-recorded_at", "-id")
        .values("granted")[:1]
    )
    return Coalesce(Subquery(latest), Value(False))


def mentor_choices_for_insats(*, insats: Insats) -> QuerySet:
    """Users who may be a participant's mentor in the insats."""
    mentors = Membership.objects.filter(role=Role.MENTOR).filter(Q(insats=insats) | Q(forbund=insats.forbund))
    return get_user_model().objects.filter(id__in=mentors.values("user_id"), is_active=True).order_by("username")


def access_event_list_for_user(*, user: AnyUser, participant: Participant | None = None) -> QuerySet[AccessEvent]:
    """The access log for admins of the förbund (all of it for a superuser)."""
    events = AccessEvent.objects.select_related("user", "participant")
    if not user.is_superuser:
        events = events.filter(participant__forbund__in=forbund_list_for_user(user=user, roles=[Role.ADMIN]))
    if participant is not None:
        events = events.filter(participant=participant)
    return events
