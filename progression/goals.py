"""Services for the målbild, delmål and handlingsplan. Every change appends a PlanEvent.

conversation_save is the målbildssamtal's one write from the tablet: the whole agreed plan at once."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from participants.models import Enrolment
from progression.models import ActionPlanStep, Goal, Milestone, MilestoneStatus, PlanEvent, SavedConversation
from surveys.selectors import progression_areas

NO_GOAL = "Skriv målbilden: deltagaren har ingen ännu."


def _event(goal: Goal, by: User, description: str) -> None:
    PlanEvent.objects.create(goal=goal, by=by, description=description[:600])


def _open(enrolment: Enrolment) -> None:
    if enrolment.end_date is not None:
        raise ValidationError({"enrolment": "Inskrivningen är avslutad; planen kan inte ändras."})


@transaction.atomic
def goal_set(*, enrolment: Enrolment, text: str, by: User) -> Goal:
    """Agree a (new) målbild; the previous one stays in the history, no longer active."""
    _open(enrolment)
    text = text.strip()
    if not text:
        raise ValidationError({"text": "Skriv målbilden."})
    previous = Goal.objects.filter(enrolment=enrolment, active=True).first()
    if previous and previous.text == text:
        return previous
    Goal.objects.filter(enrolment=enrolment, active=True).update(active=False)
    goal = Goal.objects.create(enrolment=enrolment, text=text, created_by=by)
    _event(goal, by, f"Målbild: {text}" if previous is None else f"Ny målbild (ersätter: {previous.text})")
    if previous is not None:
        Milestone.objects.filter(goal=previous).update(goal=goal)
        ActionPlanStep.objects.filter(goal=previous).update(goal=goal)
    return goal


@transaction.atomic
def milestone_add(*, goal: Goal, text: str, target_date: date | None, by: User, area: str = "") -> Milestone:
    """Add a delmål, tied to an area of the instrument (Hälsa, Vardag …) or to none."""
    _open(goal.enrolment)
    if not text.strip():
        raise ValidationError({"text": "Skriv delmålet."})
    areas = progression_areas()
    if area and area not in areas:
        raise ValidationError(
            {"area": f"Området {area!r} finns inte i instrumentet. Välj ett av: {', '.join(areas.values())}."}
        )
    milestone = Milestone.objects.create(goal=goal, text=text.strip(), target_date=target_date, area=area)
    _event(goal, by, f"Nytt delmål{f' ({areas[area]})' if area else ''}: {milestone.text}")
    return milestone


@transaction.atomic
def milestone_set_status(*, milestone: Milestone, status: str, by: User) -> Milestone:
    """Move a delmål to planerad, pågår, uppnådd or ändrad; uppnådd records the date."""
    _open(milestone.goal.enrolment)
    if status not in MilestoneStatus.values:
        raise ValidationError({"status": "Okänd status."})
    if status == milestone.status:
        return milestone
    old = milestone.get_status_display()
    milestone.status = status
    milestone.achieved_on = timezone.localdate() if status == MilestoneStatus.ACHIEVED else None
    milestone.save(update_fields=["status", "achieved_on"])
    _event(milestone.goal, by, f"Delmål '{milestone.text}': {old} → {milestone.get_status_display()}")
    return milestone


@transaction.atomic
def action_step_add(*, goal: Goal, what: str, who: str, due_date: date | None, by: User) -> ActionPlanStep:
    """Add a step to the handlingsplan: what, who, by when."""
    _open(goal.enrolment)
    errors = {}
    if not what.strip():
        errors["what"] = "Skriv vad som ska göras."
    if not who.strip():
        errors["who"] = "Skriv vem som gör det."
    if errors:
        raise ValidationError(errors)
    step = ActionPlanStep.objects.create(goal=goal, what=what.strip(), who=who.strip(), due_date=due_date)
    _event(goal, by, f"Nytt steg i handlingsplanen: {step.what} ({step.who})")
    return step


@transaction.atomic
def action_step_mark(*, step: ActionPlanStep, done: bool, by: User) -> ActionPlanStep:
    """Mark a step done (today) or not done."""
    _open(step.goal.enrolment)
    step.done_on = timezone.localdate() if done else None
    step.save(update_fields=["done_on"])
    _event(step.goal, by, f"Steg '{step.what}': {'klart' if done else 'inte klart'}")
    return step


# --- The målbildssamtal's plan, saved from the tablet --------------------------------------------


@dataclass(frozen=True)
class NewMilestone:
    text: str
    area: str = ""
    target_date: date | None = None


@dataclass(frozen=True)
class NewStep:
    what: str
    who: str
    due_date: date | None = None


def _plan_errors(
    *,
    goal: Goal | None,
    goal_text: str,
    milestones: list[NewMilestone],
    steps: list[NewStep],
    achieved: list[int],
    occurred_on: date,
) -> dict[str, list[str]]:
    """Every problem of a plan at once, each naming its row in words, so the mentor fixes all in one go."""
    errors: dict[str, list[str]] = {}
    if not goal_text.strip() and goal is None:
        errors.setdefault("goal", []).append(NO_GOAL)
    areas = progression_areas()
    for number, milestone in enumerate(milestones, start=1):
        if not milestone.text.strip():
            errors.setdefault("milestones", []).append(f"Delmål {number}: skriv vad delmålet är.")
        if milestone.area and milestone.area not in areas:
            errors.setdefault("milestones", []).append(f"Delmål {number}: området {milestone.area!r} finns inte.")
        if milestone.target_date and milestone.target_date < occurred_on:
            errors.setdefault("milestones", []).append(
                f"Delmål {number}: Klart senast ({milestone.target_date:%Y-%m-%d}) ligger före samtalet."
            )
    for number, step in enumerate(steps, start=1):
        if not step.what.strip():
            errors.setdefault("steps", []).append(f"Steg {number} i handlingsplanen: skriv vad som ska göras.")
        if not step.who.strip():
            errors.setdefault("steps", []).append(f"Steg {number} i handlingsplanen: välj vem som gör det.")
        if step.due_date and step.due_date < occurred_on:
            errors.setdefault("steps", []).append(
                f"Steg {number} i handlingsplanen: När ({step.due_date:%Y-%m-%d}) ligger före samtalet."
            )
    # A delmål reached already (by an earlier plan of the same conversation) is no error.
    known_ids = set(goal.milestones.values_list("id", flat=True)) if goal else set()
    if set(achieved) - known_ids:
        errors.setdefault("achieved", []).append("Ett delmål som markerades uppnått finns inte längre i planen.")
    return errors


@transaction.atomic
def conversation_save(
    *,
    enrolment: Enrolment,
    client_uuid: uuid.UUID,
    occurred_at: datetime,
    by: User,
    goal_text: str,
    milestones: list[NewMilestone],
    steps: list[NewStep],
    achieved: list[int],
) -> SavedConversation:
    """The plan agreed in a målbildssamtal, in one write: the målbild (kept when unchanged), delmål
    reached, new delmål tied to an area and new steps of the handlingsplan. Saved once per
    client_uuid: the tablet may send it again after a lost answer, and nothing is added twice."""
    done = SavedConversation.objects.filter(client_uuid=client_uuid).first()
    if done is not None:
        if done.enrolment_id != enrolment.pk:
            raise ValidationError({"client_uuid": "Samtalet är redan sparat för en annan inskrivning."})
        return done
    _open(enrolment)
    held_on = timezone.localdate(occurred_at)
    if held_on < enrolment.start_date or occurred_at > timezone.now() + timedelta(days=1):
        raise ValidationError(
            {
                "occurred_at": f"Samtalets datum ({held_on:%Y-%m-%d}) ligger utanför inskrivningen. "
                "Kontrollera surfplattans klocka."
            }
        )
    goal = Goal.objects.filter(enrolment=enrolment, active=True).first()
    errors = _plan_errors(
        goal=goal,
        goal_text=goal_text,
        milestones=milestones,
        steps=steps,
        achieved=achieved,
        occurred_on=timezone.localdate(occurred_at),
    )
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            saved = SavedConversation.objects.create(
                client_uuid=client_uuid, enrolment=enrolment, by=by, occurred_at=occurred_at
            )
    except IntegrityError:  # the same plan, sent twice at the same moment: the first one holds
        return SavedConversation.objects.get(client_uuid=client_uuid)
    if goal_text.strip():
        goal = goal_set(enrolment=enrolment, text=goal_text, by=by)
    if goal is None:  # _plan_errors refused a plan without a målbild already
        raise ValidationError({"goal": [NO_GOAL]})
    for milestone in Milestone.objects.filter(goal=goal, pk__in=achieved).exclude(status=MilestoneStatus.ACHIEVED):
        milestone_set_status(milestone=milestone, status=MilestoneStatus.ACHIEVED, by=by)
    for new_milestone in milestones:
        milestone_add(
            goal=goal,
            text=new_milestone.text,
            area=new_milestone.area,
            target_date=new_milestone.target_date,
            by=by,
        )
    for new_step in steps:
        action_step_add(goal=goal, what=new_step.what, who=new_step.who, due_date=new_step.due_date, by=by)
    return saved
