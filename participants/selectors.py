"""Reads for the registry. Every selector that returns scoped data takes the acting user."""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet

from participants.models import Enrolment, Forbund, Insats, Membership, Role

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
    return Forbund.objects.filter(
        id__in=insats_list_for_user(user=user, roles=roles).values("forbund_id")
    ).distinct()


def insats_overview_for_user(*, user: AnyUser, roles: Iterable[str] = ALL_ROLES) -> QuerySet[Insats]:
    """Insatser in scope with the number of open enrolments, for landing pages."""
    return insats_list_for_user(user=user, roles=roles).annotate(
        open_enrolments=Count("enrolments", filter=Q(enrolments__end_date__isnull=True))
    )


def enrolment_list_for_user(
    *, user: AnyUser, insats: Insats | None = None, open_only: bool = True
) -> QuerySet[Enrolment]:
    """Enrolments a mentor or coordinator may see, pseudonymous, newest first."""
    enrolments = Enrolment.objects.select_related("participant", "insats", "mentor").filter(
        insats__in=insats_list_for_user(user=user, roles=[Role.MENTOR, Role.COORDINATOR, Role.ADMIN])
    )
    if insats is not None:
        enrolments = enrolments.filter(insats=insats)
    if open_only:
        enrolments = enrolments.filter(end_date__isnull=True)
    return enrolments.order_by("insats__name", "participant__pseudonym")
