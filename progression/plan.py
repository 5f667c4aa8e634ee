"""Min plan: a personal link that shows a participant their own plan and ladder, without an account.

The mentor creates the link (the token is shown once; only its hash is stored) in the participant's
language, and may revoke it. It works while the enrolment is open, the person's identity is not
erased and their consent to progression measurement is in force: the link is checked against all of
that each time it is opened, so avslut, erasure or a withdrawal close it at once. Whoever may change
the enrolment (participants.access.enrolments_writable_by) creates and revokes its link; both are
written to the förbund's access log.

The page (progression/plan_views.py) shows the målbild, delmål, next steps and the participant's own
self-assessments per area over time, and nothing that names the person: no name, personnummer or
pseudonym, and no one else's readings."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from config.languages import BY_KEY
from participants import access
from participants.models import AccessAction, ConsentPurpose, Enrolment, Participant
from participants.selectors import consent_current
from participants.services import access_event_log
from progression import selectors
from progression.models import MilestoneStatus, PlanLink
from surveys.models import Perspective
from surveys.selectors import (
    FormStage,
    area_labels,
    ladder_stages,
    progression_areas,
    session_dimension_means,
    session_list_for_enrolment,
    stage_of,
)

NOT_YOURS = _("Du kan inte dela planen för den här inskrivningen.")


class PlanLinkUnusable(Exception):
    """A Min plan link that cannot be opened; `message` says why, for the participant (translated when
    shown, so in the language the page is in), and `reason` for tests and staff."""

    def __init__(self, reason: str, message: Promise, link: PlanLink | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.link = link


UNUSABLE = {
    "unknown": _(
        "Den här länken till Min plan finns inte. Kontrollera att du har skrivit av den rätt, "
        "eller fråga din handledare."
    ),
    "revoked": _("Din handledare har stängt den här länken. Be din handledare om en ny länk om du vill se din plan."),
    "ended": _("Din tid i insatsen är avslutad. Därför fungerar länken inte längre."),
    "erased": _("Dina uppgifter är raderade. Därför fungerar länken inte längre."),
    "consent": _("Du har tagit tillbaka ditt samtycke. Därför fungerar länken inte längre."),
}


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _writable(user: User, enrolment: Enrolment) -> bool:
    return access.enrolments_writable_by(user).filter(pk=enrolment.pk).exists()


def _consent_in_force(participant: Participant) -> bool:
    """Progression measurement consented to (what the page shows rests on it), and registration not
    withdrawn."""
    progression = consent_current(participant=participant, purpose=ConsentPurpose.PROGRESSION)
    registration = consent_current(participant=participant, purpose=ConsentPurpose.REGISTRATION)
    return bool(progression and progression.granted) and (registration is None or registration.granted)


def _closed_reason(enrolment: Enrolment) -> str | None:
    """Why no link to this enrolment's plan may work now, if anything stops it."""
    if enrolment.end_date is not None:
        return "ended"
    if enrolment.participant.identity_erased_at is not None:
        return "erased"
    if not _consent_in_force(enrolment.participant):
        return "consent"
    return None


CREATE_REFUSED = {
    "ended": _("Inskrivningen är avslutad. Min plan kan inte delas."),
    "erased": _("Deltagarens uppgifter är raderade. Min plan kan inte delas."),
    "consent": _("Deltagaren har inte samtyckt till mätning av stegförflyttning. Min plan kan inte delas."),
}


def plan_link_refusal(*, enrolment: Enrolment) -> str:
    """Why no Min plan link can be made for the enrolment now (for staff), or "" when one can."""
    reason = _closed_reason(enrolment)
    return str(CREATE_REFUSED[reason]) if reason else ""


@dataclass(frozen=True)
class NewPlanLink:
    link: PlanLink
    token: str  # shown once, never stored
    replaced: PlanLink | None  # the link in force before, revoked by this one


def plan_link_current(*, enrolment: Enrolment) -> PlanLink | None:
    """The enrolment's link in force (not revoked), if any, with who made it."""
    return PlanLink.objects.filter(enrolment=enrolment, revoked_at__isnull=True).select_related("created_by").first()


@transaction.atomic
def plan_link_create(*, enrolment: Enrolment, language: str, by: User, token: str = "") -> NewPlanLink:
    """A new Min plan link in the participant's language; the link in force before is revoked (one
    per enrolment). Returns the token once. `token` is for the demo data only (a token derived from
    the secret key, so the demo's address stays the same); everyone else gets a random one."""
    access.require(_writable(by, enrolment), str(NOT_YOURS))
    enrolment = Enrolment.objects.select_for_update().select_related("participant").get(pk=enrolment.pk)
    errors = {}
    if language not in BY_KEY:
        errors["language"] = f"Okänt språk: {language}"
    reason = _closed_reason(enrolment)
    if reason is not None:
        errors["enrolment"] = str(CREATE_REFUSED[reason])
    if errors:
        raise ValidationError(errors)
    replaced = PlanLink.objects.select_for_update().filter(enrolment=enrolment, revoked_at__isnull=True).first()
    if replaced is not None:
        _revoke(replaced, by=by, why="ersatt av en ny länk")
    token = token or secrets.token_urlsafe(32)
    link = PlanLink.objects.create(token_hash=_token_hash(token), enrolment=enrolment, language=language, created_by=by)
    access_event_log(
        user=by,
        participant=enrolment.participant,
        action=AccessAction.EXPORT,
        reason=f"Min plan: personlig länk skapad ({BY_KEY[language].name}), gäller till avslut",
    )
    return NewPlanLink(link=link, token=token, replaced=replaced)


def _revoke(link: PlanLink, *, by: User, why: str) -> None:
    link.revoked_at, link.revoked_by = timezone.now(), by
    link.save(update_fields=["revoked_at", "revoked_by"])
    access_event_log(
        user=by,
        participant=link.enrolment.participant,
        action=AccessAction.EXPORT,
        reason=f"Min plan: länken från {timezone.localdate(link.created_at):%Y-%m-%d} återkallad ({why})",
    )


@transaction.atomic
def plan_link_revoke(*, link: PlanLink, by: User) -> PlanLink:
    """Revoke a Min plan link: it stops working at once (a phone that kept the page drops it the next
    time it has a connection). Revoking a revoked link changes nothing."""
    access.require(_writable(by, link.enrolment), str(NOT_YOURS))
    locked = PlanLink.objects.select_for_update().select_related("enrolment__participant").get(pk=link.pk)
    if locked.revoked_at is None:
        _revoke(locked, by=by, why="av handledaren")
    return locked


def plan_link_by_token(*, token: str) -> PlanLink | None:
    """The link behind a token, working or not, with its enrolment and participant."""
    if not token:
        return None
    return PlanLink.objects.select_related("enrolment__participant").filter(token_hash=_token_hash(token)).first()


def plan_link_open(*, token: str) -> PlanLink:
    """The link behind a token, if it still works, with its enrolment and participant; records when it
    was opened. PlanLinkUnusable says why not, for the participant."""
    link = plan_link_by_token(token=token)
    if link is None:
        raise PlanLinkUnusable("unknown", UNUSABLE["unknown"])
    reason = "revoked" if link.revoked_at is not None else _closed_reason(link.enrolment)
    if reason is not None:
        raise PlanLinkUnusable(reason, UNUSABLE[reason], link)
    PlanLink.objects.filter(pk=link.pk).update(last_opened_at=timezone.now())
    return link


# --- What the page shows -------------------------------------------------------------------------

# The handlingsplan's "who" as the conversation screen offers it, said to the participant.
WHO_FOR_PARTICIPANT = {
    "Deltagaren": _("Du"),
    "Handledaren": _("Din handledare"),
    "Tillsammans": _("Du och din handledare"),
}


@dataclass(frozen=True)
class PlanMilestone:
    text: str
    area: str  # the area's name in the participant's language, or ""
    target_date: date | None
    achieved_on: date | None


@dataclass(frozen=True)
class PlanStep:
    what: str
    who: str
    due_date: date | None


@dataclass(frozen=True)
class AreaReading:
    code: str
    label: str
    points: list[tuple[date, float]]  # the participant's own readings, oldest first

    @property
    def latest(self) -> float:
        return self.points[-1][1]


@dataclass(frozen=True)
class MyPlan:
    goal: str
    open_milestones: list[PlanMilestone]
    reached_milestones: list[PlanMilestone]
    next_steps: list[PlanStep]
    steps_done: int
    areas: list[AreaReading]
    readings: list[date]  # the days of the self-assessments
    stages: tuple[FormStage, ...]  # the ladder's stages in the language

    def stage(self, value: float) -> str:
        return stage_of(value, self.stages)


def my_plan(*, link: PlanLink, language: str) -> MyPlan:
    """The plan of the link's enrolment, for the participant, in their language (language key): the
    målbild, delmål open and reached, steps not done yet (soonest first), and their own
    self-assessments per area. Only this enrolment: never another enrolment's or person's data."""
    enrolment = link.enrolment
    goal = selectors.goal_current(enrolment=enrolment)
    labels = area_labels(language=language)
    open_milestones: list[PlanMilestone] = []
    reached: list[PlanMilestone] = []
    for row in goal.milestones.all() if goal else []:
        milestone = PlanMilestone(row.text, labels.get(row.area, ""), row.target_date, row.achieved_on)
        (reached if row.status == MilestoneStatus.ACHIEVED else open_milestones).append(milestone)
    steps = list(goal.steps.all()) if goal else []
    next_steps = sorted(
        (PlanStep(s.what, str(WHO_FOR_PARTICIPANT.get(s.who, s.who)), s.due_date) for s in steps if not s.done_on),
        key=lambda step: (step.due_date is None, step.due_date or date.max),
    )
    sessions = list(session_list_for_enrolment(enrolment=enrolment).filter(perspective=Perspective.SELF))
    means = session_dimension_means(session_ids=[s.pk for s in sessions])
    order = list(progression_areas()) + sorted({code for by_area in means.values() for code in by_area})
    areas = []
    for code in dict.fromkeys(order):
        points = [
            (timezone.localdate(s.occurred_at), means[s.pk][code]) for s in sessions if code in means.get(s.pk, {})
        ]
        if points:
            areas.append(AreaReading(code=code, label=labels.get(code, code), points=points))
    return MyPlan(
        goal=goal.text if goal else "",
        open_milestones=open_milestones,
        reached_milestones=sorted(reached, key=lambda m: m.achieved_on or date.min),
        next_steps=next_steps,
        steps_done=sum(1 for s in steps if s.done_on),
        areas=areas,
        readings=sorted({timezone.localdate(s.occurred_at) for s in sessions if s.pk in means}),
        stages=ladder_stages(language=language),
    )
