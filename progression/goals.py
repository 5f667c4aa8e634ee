"""Services for the målbild, delmål and handlingsplan. Every change appends a PlanEvent."""

from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from participants.models import Enrolment
from progression.models import ActionPlanStep, Goal, Milestone, MilestoneStatus, PlanEvent


def _event(goal: Goal, by: AbstractBaseUser, description: str) -> None:
    PlanEvent.objects.create(goal=goal, by=by, description=description[:600])


def _open(enrolment: Enrolment) -> None:
    if enrolment.end_date is not None:
        raise ValidationError({"enrolment": "Inskrivningen är avslutad; planen kan inte ändras."})


@transaction.atomic
def goal_set(*, enrolment: Enrolment, text: str, by: AbstractBaseUser) -> Goal:
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
def milestone_add(*, goal: Goal, text: str, target_date: date | None, by: AbstractBaseUser) -> Milestone:
    """Add a delmål."""
    _open(goal.enrolment)
    if not text.strip():
        raise ValidationError({"text": "Skriv delmålet."})
    milestone = Milestone.objects.create(goal=goal, text=text.strip(), target_date=target_date)
    _event(goal, by, f"Nytt delmål: {milestone.text}")
    return milestone


@transaction.atomic
def milestone_set_status(*, milestone: Milestone, status: str, by: AbstractBaseUser) -> Milestone:
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
def action_step_add(*, goal: Goal, what: str, who: str, due_date: date | None, by: AbstractBaseUser) -> ActionPlanStep:
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
def action_step_mark(*, step: ActionPlanStep, done: bool, by: AbstractBaseUser) -> ActionPlanStep:
    """Mark a step done (today) or not done."""
    _open(step.goal.enrolment)
    step.done_on = timezone.localdate() if done else None
    step.save(update_fields=["done_on"])
    _event(step.goal, by, f"Steg '{step.what}': {'klart' if done else 'inte klart'}")
    return step
