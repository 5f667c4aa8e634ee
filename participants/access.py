"""Who may do what in Stegvis: the one module that answers every access question.

Pages, the API, the import, the Django admin and the exports never look at roles themselves: they
ask this module, directly or through the selectors and services, which take the acting user.
docs/privacy.md ("Behörigheter") states the same rules for people.

The rules:
- A membership gives a role in one insats, or in one förbund (and then in each of its insatser).
  Every question is asked about one object, and only memberships that cover that object's insats
  or förbund count: roles held in different förbund never combine.
- Casework (register, enrol, consent, close, readings, goals) is for mentors and admins; reports,
  exports and the import for coordinators and admins; identity data only where a relationship
  justifies it.
- A mentor relates to a person through an enrolment in an insats where they are mentor now, until
  that enrolment is closed as a felregistrering. Through it they read the person's identity and that
  enrolment's readings; the person's enrolments in other insatser stay hidden unless the person has
  consented to sharing between the förbund's insatser (sammanhållen journalföring's model).
- A membership marked "får läsa identitetsuppgifter" reads identity within its insats or förbund.
- Looking a personnummer up is for mentors of the förbund and identity access to the whole förbund;
  for anyone else nothing is revealed.
- Förbund-wide admins review the access log and use the Django admin for their förbund only, never
  on their own roles; with identity access they answer registerutdrag and erasure requests. Shared
  code lists are edited by superusers only.
- A superuser (the service's operator) passes every check; everything they read is logged as for
  anyone else.
"""

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from participants.models import (
    ConsentPurpose,
    Enrolment,
    Forbund,
    ImportJob,
    Insats,
    Membership,
    Participant,
    Role,
    consent_granted_subquery,
)

if TYPE_CHECKING:  # django-stubs-ext is installed for the type check only, not in production
    from django_stubs_ext import StrOrPromise

AnyUser = User | AnonymousUser

# The roles behind each kind of work, inside the insats or förbund a membership covers.
CASEWORK_ROLES = (Role.MENTOR, Role.ADMIN)
REPORTING_ROLES = (Role.COORDINATOR, Role.ADMIN)
ALL_ROLES = tuple(Role.values)
TWO_FACTOR_ROLES = (Role.COORDINATOR, Role.ADMIN)


class Page(StrEnum):
    """Pages that show no single object: each is opened by the roles in PAGE_ROLES."""

    CASELOAD = "caseload"
    COORDINATOR_START = "coordinator_start"
    ADMIN_START = "admin_start"
    REGISTER = "register"
    REPORTS = "reports"
    IMPORT = "import"
    ACCESS_LOG = "access_log"


# Which roles open each page, and whether the membership must cover a whole förbund.
PAGE_ROLES: dict[Page, tuple[tuple[str, ...], bool]] = {
    Page.CASELOAD: ((Role.MENTOR,), False),
    Page.COORDINATOR_START: (REPORTING_ROLES, False),
    Page.ADMIN_START: ((Role.ADMIN,), False),
    Page.REGISTER: (CASEWORK_ROLES, False),
    Page.REPORTS: (REPORTING_ROLES, False),
    Page.IMPORT: (REPORTING_ROLES, True),
    Page.ACCESS_LOG: ((Role.ADMIN,), True),
}
# The start page of each role, in the order a user holding several is sent to.
LANDING_PAGES = [
    (Page.CASELOAD, "mentor_home"),
    (Page.ADMIN_START, "admin_home"),
    (Page.COORDINATOR_START, "coordinator_home"),
]

# An enrolment closed as a felregistrering never happened: it gives no access to anyone's data.
NOT_FELREGISTRERING = Q(exit_reason__isnull=True) | Q(exit_reason__excluded_from_reports=False)


def require(allowed: bool, message: "StrOrPromise") -> None:
    """Raise PermissionDenied with a Swedish message unless allowed."""
    if not allowed:
        raise PermissionDenied(message)


def signed_in(user: AnyUser) -> User:
    """The user, for code behind a check that already let only signed-in users through (the admin
    site, an API role permission) where the user's type does not say so."""
    if not user.is_authenticated:
        raise PermissionDenied("Logga in först.")
    return user


def _is_superuser(user: AnyUser) -> bool:
    return bool(user.is_authenticated and user.is_superuser)


def _memberships(user: AnyUser, roles: tuple[str, ...]) -> QuerySet[Membership]:
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user, role__in=roles)


# A membership as the questions answered in Python read it: (role, förbund id, insats id, får läsa
# identitetsuppgifter); exactly one of the ids is set.
HeldRow = tuple[str, int | None, int | None, bool]

# While a request is answered (memberships_read_once, around every request): each user's memberships,
# by user id, so that the two-factor check, the API's role check, an API key's fingerprint and the
# write check of one enrolment read them once. Outside a request (tasks, commands, tests asking this
# module) every question reads the database.
_held_in_request: ContextVar[dict[int, tuple[HeldRow, ...]] | None] = ContextVar("held_in_request", default=None)


@contextmanager
def memberships_read_once() -> Iterator[None]:
    """Read each user's memberships at most once inside the block (one request)."""
    token = _held_in_request.set({})
    try:
        yield
    finally:
        _held_in_request.reset(token)


def memberships_changed() -> None:
    """Forget the memberships read in this request: the services that change one call it."""
    held = _held_in_request.get()
    if held is not None:
        held.clear()


def _held(user: AnyUser) -> tuple[HeldRow, ...]:
    """The user's memberships (none when signed out); read once per request (memberships_read_once)."""
    if not user.is_authenticated:
        return ()
    held = _held_in_request.get()
    if held is not None and user.pk in held:
        return held[user.pk]
    # From the primary even inside replica_read: access is never decided on a lagging copy.
    memberships = Membership.objects.using(DEFAULT_DB_ALIAS).filter(user=user)
    rows = tuple(memberships.values_list("role", "forbund_id", "insats_id", "can_read_identity"))
    if held is not None:
        held[user.pk] = rows
    return rows


def _holds_role(user: AnyUser, roles: tuple[str, ...]) -> bool:
    return any(row[0] in roles for row in _held(user))


# --- Roles and where they reach ---------------------------------------------------------------


def insatser_where(user: AnyUser, roles: tuple[str, ...]) -> QuerySet[Insats]:
    """Insatser a membership with one of the roles covers (on the insats or on its förbund)."""
    if not user.is_authenticated:
        return Insats.objects.none()
    if user.is_superuser:
        return Insats.objects.all()
    memberships = _memberships(user, roles)
    return Insats.objects.filter(
        Q(id__in=memberships.filter(insats__isnull=False).values("insats_id"))
        | Q(forbund_id__in=memberships.filter(forbund__isnull=False).values("forbund_id"))
    )


def forbund_where(user: AnyUser, roles: tuple[str, ...], *, forbund_wide: bool = False) -> QuerySet[Forbund]:
    """Förbund where the user holds one of the roles: on the förbund itself, or (unless forbund_wide)
    on one of its insatser."""
    if not user.is_authenticated:
        return Forbund.objects.none()
    if user.is_superuser:
        return Forbund.objects.all()
    memberships = _memberships(user, roles)
    wide = Q(id__in=memberships.filter(forbund__isnull=False).values("forbund_id"))
    if forbund_wide:
        return Forbund.objects.filter(wide)
    return Forbund.objects.filter(
        wide | Q(id__in=memberships.filter(insats__isnull=False).values("insats__forbund_id"))
    )


def insatser_for_page(user: AnyUser, page: Page) -> QuerySet[Insats]:
    """The insatser a page lists: those where the user holds one of the roles that open it."""
    roles, _ = PAGE_ROLES[page]
    return insatser_where(user, roles)


def insatser_readable_by(user: AnyUser) -> QuerySet[Insats]:
    """Insatser whose page, volumes and surveys the user may open (any role)."""
    return insatser_where(user, ALL_ROLES)


def insatser_for_casework(user: AnyUser) -> QuerySet[Insats]:
    """Insatser where the user registers, enrols and holds målbildssamtal."""
    return insatser_where(user, CASEWORK_ROLES)


def insatser_for_reports(user: AnyUser) -> QuerySet[Insats]:
    """Insatser whose reports, exports and report texts the user may read and write."""
    return insatser_where(user, REPORTING_ROLES)


def mentor_candidates(insats: Insats) -> QuerySet:
    """Active users who may be a participant's mentor in the insats."""
    mentors = Membership.objects.filter(role=Role.MENTOR).filter(Q(insats=insats) | Q(forbund_id=insats.forbund_id))
    return get_user_model().objects.filter(id__in=mentors.values("user_id"), is_active=True).order_by("username")


def has_any_role(user: AnyUser) -> bool:
    """Holds at least one role somewhere (the API's entry condition)."""
    return _is_superuser(user) or _holds_role(user, ALL_ROLES)


def may_open(user: AnyUser, page: Page) -> bool:
    """Whether the user may open a page that shows no single object."""
    return page.value in pages_open_to(user)


def pages_open_to(user: AnyUser) -> set[str]:
    """Every page of PAGE_ROLES the user may open, for the navigation."""
    if not user.is_authenticated:
        return set()
    if user.is_superuser:
        return {page.value for page in Page}
    held = list(_memberships(user, ALL_ROLES).values_list("role", "forbund_id"))
    return {
        page.value
        for page, (roles, forbund_wide) in PAGE_ROLES.items()
        if any(role in roles and (forbund_id is not None or not forbund_wide) for role, forbund_id in held)
    }


def landing_page(user: AnyUser) -> str | None:
    """The URL name of the user's start page, or None when they hold no role."""
    pages = pages_open_to(user)
    return next((url_name for page, url_name in LANDING_PAGES if page in pages), None)


def requires_two_factor(user: AnyUser) -> bool:
    """Coordinators, admins and superusers log in with a TOTP code as well."""
    return _is_superuser(user) or _holds_role(user, TWO_FACTOR_ROLES)


def roles_fingerprint(user: User) -> str:
    """A digest of everything the user's roles allow; it changes whenever a membership does. An API
    key made under one fingerprint stops working under another."""
    rows = _held(user)
    text = f"superuser={bool(getattr(user, 'is_superuser', False))};" + ";".join(sorted(map(str, rows)))
    return hashlib.sha256(text.encode()).hexdigest()


# --- Relationships: enrolments, participants, identity ----------------------------------------


@dataclass(frozen=True)
class _Grant:
    """A membership with one of the roles that covers an enrolment's insats (on the insats or on its
    förbund) reaches the enrolment; with `ends_at_felregistrering` only until it is closed as one."""

    roles: tuple[str, ...]
    ends_at_felregistrering: bool


# A mentor relates to the person through an enrolment in an insats where they are mentor now.
MENTOR_RELATIONSHIP = _Grant((Role.MENTOR,), ends_at_felregistrering=True)
# Who changes an enrolment and records its readings and goals. enrolments_writable_by asks it of many
# enrolments in SQL, enrolment_writable_by of one in Python; both read these grants, nothing else.
WRITE_GRANTS = (MENTOR_RELATIONSHIP, _Grant((Role.ADMIN,), ends_at_felregistrering=False))


def _grant_q(user: AnyUser, grant: _Grant) -> Q:
    reached = Q(insats__in=insatser_where(user, grant.roles))
    return reached & NOT_FELREGISTRERING if grant.ends_at_felregistrering else reached


def _in_mentor_relationship(user: AnyUser) -> Q:
    """Enrolments through which a mentor relates to the person: in an insats where they are mentor
    now, not a felregistrering."""
    return _grant_q(user, MENTOR_RELATIONSHIP)


@dataclass(frozen=True)
class EnrolmentPlace:
    """Where an enrolment is, as the access rules see it: its insats and förbund, and whether it was
    closed as a felregistrering (the Python form of NOT_FELREGISTRERING)."""

    insats_id: int
    forbund_id: int
    felregistrering: bool

    @classmethod
    def of(cls, enrolment: Enrolment) -> "EnrolmentPlace":
        """The place of an enrolment read with ENROLMENT_PLACE's annotations."""
        annotated: Any = enrolment
        return cls(enrolment.insats_id, annotated.place_forbund_id, bool(annotated.place_felregistrering))


# Annotations that read an enrolment's place along with it (EnrolmentPlace.of); the felregistrering
# flag is NULL without an exit reason.
ENROLMENT_PLACE = {
    "place_forbund_id": F("insats__forbund_id"),
    "place_felregistrering": F("exit_reason__excluded_from_reports"),
}


def enrolment_place(enrolment_id: int) -> EnrolmentPlace | None:
    """The place of one enrolment by id (None if there is none), in one query."""
    enrolment = Enrolment.objects.annotate(**ENROLMENT_PLACE).filter(pk=enrolment_id).first()
    return EnrolmentPlace.of(enrolment) if enrolment else None


def _grant_holds(held: tuple[HeldRow, ...], grant: _Grant, place: EnrolmentPlace) -> bool:
    """_grant_q for one enrolment, given the user's memberships; a membership covers the enrolment
    as insatser_where says: on its insats or on its förbund."""
    if grant.ends_at_felregistrering and place.felregistrering:
        return False
    return any(
        role in grant.roles and (insats_id == place.insats_id or forbund_id == place.forbund_id)
        for role, forbund_id, insats_id, _ in held
    )


def _sharing_consented() -> QuerySet[Participant]:
    """Participants whose consent in force lets the förbund's insatser share their data."""
    return Participant.objects.alias(
        sharing=consent_granted_subquery(purpose=ConsentPurpose.INSATS_SHARING, participant_ref="pk")
    ).filter(sharing=True)


def enrolments_readable_by(user: AnyUser) -> QuerySet[Enrolment]:
    """Enrolments (pseudonymous data, readings, goals) the user may read: a mentor's own insatser
    and, with the person's consent to sharing, the person's other enrolments; every enrolment in an
    insats where the user is coordinator or admin."""
    if not user.is_authenticated:
        return Enrolment.objects.none()
    if user.is_superuser:
        return Enrolment.objects.all()
    related = Enrolment.objects.filter(_in_mentor_relationship(user)).values("participant_id")
    shared = Q(participant__in=related) & Q(participant__in=_sharing_consented()) & NOT_FELREGISTRERING
    overseen = Q(insats__in=insatser_where(user, REPORTING_ROLES))
    return Enrolment.objects.filter(_in_mentor_relationship(user) | shared | overseen)


def enrolments_writable_by(user: AnyUser) -> QuerySet[Enrolment]:
    """Enrolments the user may change and record readings and goals for: a mentor's relationships,
    every enrolment in an insats the user administers."""
    if not user.is_authenticated:
        return Enrolment.objects.none()
    if user.is_superuser:
        return Enrolment.objects.all()
    reached = Q()
    for grant in WRITE_GRANTS:
        reached |= _grant_q(user, grant)
    return Enrolment.objects.filter(reached)


def enrolment_writable_by(user: AnyUser, place: EnrolmentPlace) -> bool:
    """enrolments_writable_by for one enrolment (its place read with it): the same grants, checked
    against the user's memberships (read once per request) instead of composing nested querysets."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    held = _held(user)
    return any(_grant_holds(held, grant, place) for grant in WRITE_GRANTS)


def participants_readable_by(user: AnyUser) -> QuerySet[Participant]:
    """Participants the user may see as pseudonyms: through a readable enrolment, through a
    förbund-wide role, or registered and not yet enrolled in a förbund where the user does casework."""
    if not user.is_authenticated:
        return Participant.objects.none()
    if user.is_superuser:
        return Participant.objects.all()
    never_enrolled = Q(forbund__in=forbund_where(user, CASEWORK_ROLES)) & ~Exists(
        Enrolment.objects.filter(participant=OuterRef("pk"))
    )
    return Participant.objects.filter(
        Q(id__in=enrolments_readable_by(user).values("participant_id"))
        | Q(forbund__in=forbund_where(user, ALL_ROLES, forbund_wide=True))
        | never_enrolled
    )


def can_read_identity(user: AnyUser, participant: Participant) -> bool:
    """A mentor in a relationship with the person, or a membership granted identity access that
    covers the person's förbund or one of their (non-felregistrerade) enrolments."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    if Enrolment.objects.filter(participant=participant).filter(_in_mentor_relationship(user)).exists():
        return True
    enrolled_in = Enrolment.objects.filter(participant=participant).filter(NOT_FELREGISTRERING).values("insats_id")
    return (
        Membership.objects.filter(user=user, can_read_identity=True)
        .filter(Q(forbund_id=participant.forbund_id) | Q(insats_id__in=enrolled_in))
        .exists()
    )


def can_look_up_personnummer(user: AnyUser, forbund: Forbund) -> bool:
    """Mentors of the förbund (they register people) and holders of identity access for the whole
    förbund may look a personnummer up; every hit is logged. Identity access to one insats reads that
    insats' people and finds nobody else."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    mentor = Q(role=Role.MENTOR) & (Q(forbund=forbund) | Q(insats__forbund=forbund))
    forbund_wide_identity = Q(can_read_identity=True, forbund=forbund)
    return Membership.objects.filter(user=user).filter(mentor | forbund_wide_identity).exists()


def can_register_in(user: AnyUser, forbund: Forbund) -> bool:
    """Register people in a förbund: casework there (an import registers by forbund_for_import).
    Identified people need can_look_up_personnummer as well."""
    return _is_superuser(user) or insatser_for_casework(user).filter(forbund=forbund).exists()


def can_enrol(user: AnyUser, insats: Insats) -> bool:
    """Enrol a person in an insats: casework there (the service refuses a person of another förbund)."""
    return insatser_for_casework(user).filter(pk=insats.pk).exists()


def can_record_consent(user: AnyUser, participant: Participant) -> bool:
    """Record or withdraw consent: whoever may change one of the person's enrolments, or, for a person
    registered and not yet enrolled, whoever does casework in their förbund."""
    if enrolments_writable_by(user).filter(participant=participant).exists():
        return True
    never_enrolled = not Enrolment.objects.filter(participant=participant).exists()
    return never_enrolled and can_register_in(user, participant.forbund)


def can_answer_data_subject_requests(user: AnyUser, participant: Participant) -> bool:
    """Registerutdrag and erasure: the förbund's admins (förbund-wide) with identity access, since a
    registerutdrag holds the person's identity and the person must be identified to ask for it."""
    return forbund_administered_by(user).filter(pk=participant.forbund_id).exists() and can_read_identity(
        user, participant
    )


# --- Administration, import, reports ------------------------------------------------------------


def forbund_administered_by(user: AnyUser) -> QuerySet[Forbund]:
    """Förbund where the user is admin for the whole förbund (all of them for a superuser)."""
    return forbund_where(user, (Role.ADMIN,), forbund_wide=True)


def insatser_of_administered_forbund(user: AnyUser) -> QuerySet[Insats]:
    """Every insats of the förbund the user administers: what the Django admin lets them pick."""
    return Insats.objects.filter(forbund__in=forbund_administered_by(user))


def forbund_for_import(user: AnyUser) -> QuerySet[Forbund]:
    """Förbund the user may import into: coordinator or admin for the whole förbund, because a file
    may touch every insats in it."""
    return forbund_where(user, REPORTING_ROLES, forbund_wide=True)


def import_jobs_for(user: AnyUser) -> QuerySet[ImportJob]:
    """The import jobs the user may follow, confirm or cancel: their own, in förbund they may still
    import into."""
    if not user.is_authenticated:
        return ImportJob.objects.none()
    return ImportJob.objects.filter(user_id=user.pk, forbund__in=forbund_for_import(user))


def can_link_analysis_exports(user: AnyUser, forbund: Forbund) -> bool:
    """Let two analysis exports share a pseudonym key (so they can be joined): the förbund's admins."""
    return forbund_administered_by(user).filter(pk=forbund.pk).exists()


def can_read_reports_on(user: AnyUser, forbund_code: str, insats_codes: list[str]) -> bool:
    """Whether the user still reaches a report's förbund and insatser (an export made earlier is
    downloaded only while they do)."""
    reachable = insatser_for_reports(user).filter(forbund__code=forbund_code)
    if not insats_codes:
        return reachable.exists()
    return reachable.filter(code__in=insats_codes).count() == len(set(insats_codes))


def can_download_export(user: AnyUser, *, owner_id: int, forbund_code: str, insats_codes: list[str]) -> bool:
    """An export file is fetched by whoever ordered it, and only while they still read those reports."""
    return user.is_authenticated and owner_id == user.pk and can_read_reports_on(user, forbund_code, insats_codes)


def forbund_for_reports(user: AnyUser) -> QuerySet[Forbund]:
    """Förbund where the user reads reports on at least one insats (and sees its closed periods)."""
    return forbund_where(user, REPORTING_ROLES)


def forbund_for_period_closing(user: AnyUser) -> QuerySet[Forbund]:
    """Förbund whose report periods the user may close: coordinator or admin for the whole förbund,
    because a closed period freezes every insats's reports."""
    return forbund_where(user, REPORTING_ROLES, forbund_wide=True)


def can_close_period(user: AnyUser, forbund: Forbund) -> bool:
    return forbund_for_period_closing(user).filter(pk=forbund.pk).exists()


def can_reopen_period(user: AnyUser, forbund: Forbund) -> bool:
    """Reopening a closed period (its published figures may then change): the förbund's admins."""
    return forbund_administered_by(user).filter(pk=forbund.pk).exists()


def can_use_admin_site(user: AnyUser) -> bool:
    """The Django admin: superusers and förbund-wide admins (who see only their förbund there)."""
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or forbund_administered_by(user).exists()


def can_edit_shared_reference_data(user: AnyUser) -> bool:
    """Code lists, cost parameters and reliability settings that every förbund's reports depend on."""
    return _is_superuser(user)


def users_assignable_by(user: AnyUser) -> QuerySet:
    """Accounts a förbund admin may give a role: people already working in their förbund, and new
    accounts with no role anywhere; never themselves. Another förbund's staff are never listed."""
    users = get_user_model().objects.filter(is_active=True)
    if not user.is_authenticated:
        return users.none()
    if user.is_superuser:
        return users
    administered = forbund_administered_by(user)
    in_forbund = Membership.objects.filter(Q(forbund__in=administered) | Q(insats__forbund__in=administered))
    return users.filter(
        Q(id__in=in_forbund.values("user_id")) | ~Exists(Membership.objects.filter(user=OuterRef("pk")))
    ).exclude(pk=user.pk)


def can_assign_role(user: AnyUser, target: User, forbund_id: int) -> bool:
    """Give, change or take away a role in a förbund: its admins, never on their own account (no one
    grants themselves identity access), and only to people who work in that förbund already or have no
    role anywhere, so that someone who administers two förbund cannot carry staff between them."""
    if _is_superuser(user):
        return True
    if target.pk == user.pk or not forbund_administered_by(user).filter(pk=forbund_id).exists():
        return False
    held = Membership.objects.filter(user=target)
    return not held.exists() or held.filter(Q(forbund_id=forbund_id) | Q(insats__forbund_id=forbund_id)).exists()


def rows_in_administered_forbund(user: AnyUser, rows: QuerySet, forbund_path: str) -> QuerySet:
    """The rows (of any model) whose förbund, at `forbund_path`, the user administers; all for a superuser."""
    if _is_superuser(user):
        return rows
    return rows.filter(**{f"{forbund_path}__in": forbund_administered_by(user)}).distinct()


def memberships_administered_by(user: AnyUser) -> QuerySet[Membership]:
    """Memberships a förbund admin sees and changes: those in their förbund and its insatser."""
    administered = forbund_administered_by(user)
    return Membership.objects.filter(Q(forbund__in=administered) | Q(insats__forbund__in=administered))
