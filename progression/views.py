"""The participant's journey: readings over time, progression, goals and action plan."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from participants import access
from participants.models import Enrolment
from participants.selectors import enrolment_list_for_user
from progression import goals, selectors
from progression.forms import GoalForm, MilestoneForm, StepForm
from progression.models import ActionPlanStep, Classification, Milestone, MilestoneStatus
from surveys import charts
from surveys.models import Perspective


def _enrolment(request: HttpRequest, enrolment_id: int) -> Enrolment:
    return get_object_or_404(enrolment_list_for_user(user=request.user, open_only=False), pk=enrolment_id)


def _can_plan(request: HttpRequest, enrolment: Enrolment) -> bool:
    return enrolment.end_date is None and access.enrolments_writable_by(request.user).filter(pk=enrolment.pk).exists()


@login_required
def journey(request: HttpRequest, enrolment_id: int) -> HttpResponse:
    enrolment = _enrolment(request, enrolment_id)
    readings = selectors.readings_for_enrolment(enrolment=enrolment)
    dimensions = selectors.dimensions_for_enrolment(enrolment=enrolment)
    dates = sorted({r.session.occurred_at.date() for r in readings})
    labels = [d.strftime("%Y-%m-%d") for d in dates]

    def series(perspective: str, code: str) -> list[float | None]:
        by_date = {
            r.session.occurred_at.date(): r.scores.get(code) for r in readings if r.session.perspective == perspective
        }
        return [by_date.get(d) for d in dates]

    line_charts = [
        (
            label,
            charts.line_svg(
                title=f"{label} över tid (0–100)",
                x_labels=labels,
                series=[
                    charts.Series("Deltagaren", series(Perspective.SELF, code)),
                    charts.Series("Handledaren", series(Perspective.MENTOR, code)),
                ],
                min_value=0,
                max_value=100,
                width=520,
                height=230,
            ),
        )
        for code, label in dimensions
    ]
    radars = []
    for perspective, name in [
        (Perspective.SELF, "Deltagarens självskattning"),
        (Perspective.MENTOR, "Handledarens bedömning"),
    ]:
        own = [r for r in readings if r.session.perspective == perspective]
        if own:
            radars.append(
                charts.radar_svg(
                    title=f"{name}: första och senaste mätningen (0–100)",
                    axes=[label for _, label in dimensions],
                    series=[
                        charts.Series(
                            f"Första {own[0].session.occurred_at:%Y-%m-%d}",
                            [own[0].scores.get(c) for c, _ in dimensions],
                        ),
                        charts.Series(
                            f"Senaste {own[-1].session.occurred_at:%Y-%m-%d}",
                            [own[-1].scores.get(c) for c, _ in dimensions],
                        ),
                    ],
                    min_value=0,
                    max_value=100,
                )
            )
    hours = selectors.activity_hours(enrolment=enrolment)
    hours_chart = None
    if hours:
        hours_chart = charts.line_svg(
            title="Timmar i aktivitet per vecka",
            x_labels=[s.occurred_at.strftime("%Y-%m-%d") for s, _ in hours],
            series=[charts.Series("Timmar per vecka", [float(v) for _, v in hours])],
            min_value=0,
            max_value=max(40, max(v for _, v in hours)),
            width=520,
            height=200,
        )
    goal = selectors.goal_current(enrolment=enrolment)
    return render(
        request,
        "progression/journey.html",
        {
            "enrolment": enrolment,
            "readings": readings,
            "dimensions": dimensions,
            "line_charts": line_charts,
            "radars": radars,
            "progressions": selectors.progression_for_enrolment(enrolment=enrolment),
            "gaps": selectors.mentor_self_gaps(readings=readings),
            "mentors": selectors.mentor_history(enrolment=enrolment),
            "hours": hours,
            "hours_chart": hours_chart,
            "goal": goal,
            "history": selectors.plan_history(enrolment=enrolment)[:30],
            "can_plan": _can_plan(request, enrolment),
            "goal_form": GoalForm(initial={"text": goal.text if goal else ""}),
            "milestone_form": MilestoneForm(),
            "step_form": StepForm(),
            "statuses": MilestoneStatus.choices,
            "classification": Classification,
        },
    )


def _plan_post(request: HttpRequest, enrolment_id: int) -> Enrolment:
    enrolment = _enrolment(request, enrolment_id)
    if not _can_plan(request, enrolment):
        raise PermissionDenied("Du kan inte ändra planen för den här inskrivningen.")
    return enrolment


def _done(request: HttpRequest, enrolment: Enrolment, error: ValidationError | None = None) -> HttpResponse:
    """Back to where the form was (the journey page or the målbildssamtal), with a message."""
    if error is not None:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, "Planen är uppdaterad.")
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("journey", enrolment_id=enrolment.pk)


@login_required
@require_POST
def goal_save(request: HttpRequest, enrolment_id: int) -> HttpResponse:
    enrolment = _plan_post(request, enrolment_id)
    form = GoalForm(request.POST)
    if not form.is_valid():
        return _done(request, enrolment, ValidationError("Skriv målbilden."))
    try:
        goals.goal_set(enrolment=enrolment, text=form.cleaned_data["text"], by=request.user)
    except ValidationError as exc:
        return _done(request, enrolment, exc)
    return _done(request, enrolment)


def _active_goal(enrolment: Enrolment):  # noqa: ANN202
    goal = selectors.goal_current(enrolment=enrolment)
    if goal is None:
        raise ValidationError("Skriv en målbild först.")
    return goal


@login_required
@require_POST
def milestone_add(request: HttpRequest, enrolment_id: int) -> HttpResponse:
    enrolment = _plan_post(request, enrolment_id)
    form = MilestoneForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError([e for errors in form.errors.values() for e in errors])
        goals.milestone_add(goal=_active_goal(enrolment), by=request.user, **form.cleaned_data)
    except ValidationError as exc:
        return _done(request, enrolment, exc)
    return _done(request, enrolment)


@login_required
@require_POST
def milestone_status(request: HttpRequest, enrolment_id: int, milestone_id: int) -> HttpResponse:
    enrolment = _plan_post(request, enrolment_id)
    milestone = get_object_or_404(Milestone, pk=milestone_id, goal__enrolment=enrolment)
    try:
        goals.milestone_set_status(milestone=milestone, status=request.POST.get("status", ""), by=request.user)
    except ValidationError as exc:
        return _done(request, enrolment, exc)
    return _done(request, enrolment)


@login_required
@require_POST
def step_add(request: HttpRequest, enrolment_id: int) -> HttpResponse:
    enrolment = _plan_post(request, enrolment_id)
    form = StepForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError([e for errors in form.errors.values() for e in errors])
        goals.action_step_add(goal=_active_goal(enrolment), by=request.user, **form.cleaned_data)
    except ValidationError as exc:
        return _done(request, enrolment, exc)
    return _done(request, enrolment)


@login_required
@require_POST
def step_mark(request: HttpRequest, enrolment_id: int, step_id: int) -> HttpResponse:
    enrolment = _plan_post(request, enrolment_id)
    step = get_object_or_404(ActionPlanStep, pk=step_id, goal__enrolment=enrolment)
    goals.action_step_mark(step=step, done=request.POST.get("done") == "1", by=request.user)
    return _done(request, enrolment)
