"""The mentor's pages of the målbildssamtal: Mina deltagare (who is due), the conversation's last
screen (compare on the ladder and agree the plan), and the participant's journey, goals and plan."""

import re
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.requests import SignedInRequest
from participants import access
from participants.access import Page
from participants.models import Enrolment, Participant
from participants.permissions import page_access
from participants.selectors import enrolment_list_for_user, insats_overview
from participants.services import personnummer_find_among
from progression import goals, selectors
from progression.forms import GoalForm, MilestoneForm, StepForm
from progression.models import ActionPlanStep, Milestone, MilestoneStatus
from surveys import charts
from surveys.models import PROGRESSION_INSTRUMENT, Perspective
from surveys.selectors import (
    FormStage,
    InstrumentForm,
    instrument_version_current,
    instrument_version_form,
    ladder_stages,
    progression_areas,
    session_answers,
    session_dimension_means,
    session_list_for_enrolment,
    stage_of,
)

GAP_TO_TALK_ABOUT = 3  # steps on the ladder between the two readings of an area: "prata om"
LOW_LADDER_VALUE = 5  # both readings below the ladder's middle (Står still, Tar emot stöd): an area to work on


def _enrolment(request: HttpRequest, enrolment_id: int) -> Enrolment:
    return get_object_or_404(enrolment_list_for_user(user=request.user, open_only=False), pk=enrolment_id)


def _can_plan(request: HttpRequest, enrolment: Enrolment) -> bool:
    return enrolment.end_date is None and access.enrolments_writable_by(request.user).filter(pk=enrolment.pk).exists()


def _journey_story(
    enrolment: Enrolment, readings: list, dimensions: list[tuple[str, str]], ladder: dict[int, dict[str, float]]
) -> dict[str, Any]:
    """The journey for people: each area's readings on the ladder (`ladder`: each reading's area
    means) over time with the hours per week, delmål reached and mentor changes on one timeline, and
    each area's stage move in words."""
    stages = ladder_stages()
    by_perspective: dict[str, list] = {Perspective.SELF: [], Perspective.MENTOR: []}
    for reading in readings:
        if reading.session.perspective in by_perspective:
            by_perspective[reading.session.perspective].append(reading.session)
    lanes, moves = [], []
    for code, label in dimensions:
        series = [
            [(timezone.localdate(s.occurred_at), ladder[s.pk][code]) for s in sessions if code in ladder.get(s.pk, {})]
            for sessions in by_perspective.values()
        ]
        note = "\n".join(
            f"{mark} {points[-1][1]:.1f} {stage_of(points[-1][1], stages)}".replace(".", ",")
            for mark, points in zip(("■", "●"), series, strict=True)
            if points
        )
        lanes.append(charts.Lane(label=label, series=series, min_value=1, max_value=10, note=note))
        move: dict[str, Any] = {"code": code, "label": label}
        for key, points in zip(("self", "mentor"), series, strict=True):
            if points:
                first, last = points[0][1], points[-1][1]
                move[key] = {
                    "first": first,
                    "latest": last,
                    "first_stage": stage_of(first, stages),
                    "latest_stage": stage_of(last, stages),
                    "single": len(points) == 1,
                }
        moves.append(move)
    hours = selectors.activity_hours(enrolment=enrolment)
    if hours:
        hour_series = [
            [(timezone.localdate(s.occurred_at), float(v)) for s, v in hours if s.perspective == perspective]
            for perspective in by_perspective
        ]
        lanes.append(
            charts.Lane(
                label=_("Timmar/vecka"),
                series=hour_series,
                min_value=0,
                max_value=max(40, max(v for _, v in hours)),
                note=_("%(hours)s tim/v") % {"hours": hours[-1][1]},
            )
        )
    reached = Milestone.objects.filter(goal__enrolment=enrolment, achieved_on__isnull=False).order_by("achieved_on")
    mentors = list(selectors.mentor_history(enrolment=enrolment))
    events = [
        charts.Event(day=m.achieved_on, label=_("Delmål uppnått: %(text)s") % {"text": m.text}, kind="goal")
        for m in reached
        if m.achieved_on is not None  # always, by the filter above; this says so to mypy
    ]
    events += [
        charts.Event(
            day=a.start_date,
            label=_("Ny handledare: %(mentor)s") % {"mentor": a.mentor.get_full_name() or a.mentor.username},
            kind="mentor",
        )
        for a in mentors[1:]
    ]
    end = enrolment.end_date or timezone.localdate()
    timeline = None
    if readings or hours:
        timeline = charts.timeline_svg(
            title=_(
                "Resan: varje område på stegen 1–10 över tid, timmar i aktivitet, uppnådda delmål och handledarbyten"
            ),
            start=enrolment.start_date,
            end=max(end, enrolment.start_date + timedelta(days=30)),
            lanes=lanes,
            series_names=[_("Deltagaren"), _("Handledaren")],
            events=events,
        )
    return {"timeline": timeline, "moves": moves, "reached": reached, "mentors": mentors}


@login_required
def journey(request: HttpRequest, enrolment_id: int) -> HttpResponse:
    enrolment = _enrolment(request, enrolment_id)
    readings = selectors.readings_for_enrolment(enrolment=enrolment)
    dimensions = selectors.dimensions_for_enrolment(enrolment=enrolment)
    ladder = session_dimension_means(session_ids=[r.session.pk for r in readings])
    classification = {
        (p.dimension_code, p.perspective): p for p in selectors.progression_for_enrolment(enrolment=enrolment)
    }
    story = _journey_story(enrolment, readings, dimensions, ladder)
    for move in story["moves"]:
        for key, perspective in (("self", Perspective.SELF), ("mentor", Perspective.MENTOR)):
            if key in move:
                move[key]["progression"] = classification.get((move["code"], perspective))
    goal = selectors.goal_current(enrolment=enrolment)
    labels = progression_areas()
    return render(
        request,
        "progression/journey.html",
        {
            "enrolment": enrolment,
            "readings": [
                {"session": r.session, "means": [ladder.get(r.session.pk, {}).get(code) for code, _ in dimensions]}
                for r in readings
            ],
            "dimensions": dimensions,
            **story,
            "goal": goal,
            "area_labels": labels,
            "history": selectors.plan_history(enrolment=enrolment)[:30],
            "can_plan": _can_plan(request, enrolment),
            "goal_form": GoalForm(initial={"text": goal.text if goal else ""}),
            "milestone_form": MilestoneForm(),
            "step_form": StepForm(),
            "statuses": MilestoneStatus.choices,
            "area_choices": labels.items(),
        },
    )


def _plan_post(request: HttpRequest, enrolment_id: int) -> Enrolment:
    enrolment = _enrolment(request, enrolment_id)
    if not _can_plan(request, enrolment):
        raise PermissionDenied(_("Du kan inte ändra planen för den här inskrivningen."))
    return enrolment


def _done(request: HttpRequest, enrolment: Enrolment, error: ValidationError | None = None) -> HttpResponse:
    """Back to where the form was (the journey page or the målbildssamtal), with a message."""
    if error is not None:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Planen är uppdaterad."))
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("journey", enrolment_id=enrolment.pk)


@login_required
@require_POST
def goal_save(request: SignedInRequest, enrolment_id: int) -> HttpResponse:
    enrolment = _plan_post(request, enrolment_id)
    form = GoalForm(request.POST)
    if not form.is_valid():
        return _done(request, enrolment, ValidationError(_("Skriv målbilden.")))
    try:
        goals.goal_set(enrolment=enrolment, text=form.cleaned_data["text"], by=request.user)
    except ValidationError as exc:
        return _done(request, enrolment, exc)
    return _done(request, enrolment)


def _active_goal(enrolment: Enrolment):  # noqa: ANN202
    goal = selectors.goal_current(enrolment=enrolment)
    if goal is None:
        raise ValidationError(_("Skriv en målbild först."))
    return goal


@login_required
@require_POST
def milestone_add(request: SignedInRequest, enrolment_id: int) -> HttpResponse:
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
def milestone_status(request: SignedInRequest, enrolment_id: int, milestone_id: int) -> HttpResponse:
    enrolment = _plan_post(request, enrolment_id)
    milestone = get_object_or_404(Milestone, pk=milestone_id, goal__enrolment=enrolment)
    try:
        goals.milestone_set_status(milestone=milestone, status=request.POST.get("status", ""), by=request.user)
    except ValidationError as exc:
        return _done(request, enrolment, exc)
    return _done(request, enrolment)


@login_required
@require_POST
def step_add(request: SignedInRequest, enrolment_id: int) -> HttpResponse:
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
def step_mark(request: SignedInRequest, enrolment_id: int, step_id: int) -> HttpResponse:
    enrolment = _plan_post(request, enrolment_id)
    step = get_object_or_404(ActionPlanStep, pk=step_id, goal__enrolment=enrolment)
    goals.action_step_mark(step=step, done=request.POST.get("done") == "1", by=request.user)
    return _done(request, enrolment)


# --- Mina deltagare: the caseload, who is due -------------------------------------------------------


def _looks_like_personnummer(query: str) -> bool:
    """Digits (at least eight) with separators only: a personnummer, maybe mistyped, never a pseudonym
    fragment; such a query is looked up on the server and never written back into the page."""
    return bool(re.fullmatch(r"[\d\s+\-–−—]+", query)) and sum(ch.isdigit() for ch in query) >= 8


@page_access(Page.CASELOAD)
def mentor_home(request: SignedInRequest) -> HttpResponse:
    """Mina deltagare: the mentor's own participants, whoever is due for a reading first. The search
    is posted, so that a personnummer never stands in an address or the server's access log."""
    insatser = insats_overview(insatser=access.insatser_for_page(request.user, Page.CASELOAD))
    enrolments = enrolment_list_for_user(user=request.user).filter(insats__in=insatser)
    mine = enrolments.filter(current_mentor_id=request.user.pk)
    query = (request.POST if request.method == "POST" else request.GET).get("q", "").strip()
    search_error = ""
    by_personnummer = _looks_like_personnummer(query)
    if by_personnummer and request.method != "POST":  # an address with a personnummer in it: not looked up
        search_error = _("Sök på personnummer i sökrutan på sidan.")
        mine = mine.none()
    elif by_personnummer:
        try:
            found = personnummer_find_among(
                user=request.user,
                participants=Participant.objects.filter(enrolments__in=mine),
                personnummer=re.sub(r"[–−—]", "-", query),
                reason="Sökning i Mina deltagare",
            )
        except ValidationError as exc:
            found, search_error = [], " ".join(exc.messages)
        mine = mine.filter(participant__in=found)
    elif query:
        mine = mine.filter(participant__pseudonym__icontains=query)
    rows = selectors.caseload_rows(enrolments=mine)
    by_name = request.GET.get("sortera") == "namn"
    if by_name:
        rows.sort(key=lambda row: row.enrolment.participant.pseudonym)
    return render(
        request,
        "progression/caseload.html",
        {
            "insatser": insatser,
            "rows": rows,
            "query": "" if by_personnummer else query,  # a personnummer is never written back into a page
            "searched": bool(query),
            "by_personnummer": by_personnummer,
            "search_error": search_error,
            "by_name": by_name,
            "other_enrolments": enrolments.filter(
                Q(current_mentor_id__isnull=True) | ~Q(current_mentor_id=request.user.pk)
            ),
            "today": timezone.localdate(),
        },
    )


# --- The målbildssamtal's last screen: compare and agree the plan ---------------------------------


def signed(value: float | None, *, decimals: int = 0) -> str:
    """A difference as Swedish typography writes it: +1,5, −2, 0 (a true minus sign)."""
    if value is None:
        return "–"
    if round(value, decimals) == 0:
        return "0"
    return f"{value:+.{decimals}f}".replace(".", ",").replace("-", "−")


def _area_rows(
    form: InstrumentForm, self_means: dict[str, float], mentor_means: dict[str, float], stages: tuple[FormStage, ...]
) -> list[dict[str, Any]]:
    """Per rating area: both readings' means on the ladder (session_dimension_means, reverse-coded
    items turned) with their stage words, and the gap."""
    rows = []
    for dimension in form.dimensions:
        if not dimension.is_rating:
            continue
        own, theirs = self_means.get(dimension.code), mentor_means.get(dimension.code)
        gap: float | None = None
        low = False
        if own is not None and theirs is not None:
            gap = theirs - own
            low = max(own, theirs) < LOW_LADDER_VALUE
        rows.append(
            {
                "code": dimension.code,
                "label": dimension.label,
                "items": " ".join(item.code for item in dimension.items),
                "self": own,
                "self_stage": stage_of(own, stages),
                "mentor": theirs,
                "mentor_stage": stage_of(theirs, stages),
                "gap": gap,
                "gap_text": signed(gap, decimals=1),
                "talk_about": gap is not None and abs(gap) >= GAP_TO_TALK_ABOUT,
                "low": low,
            }
        )
    return rows


@login_required
def conversation_compare(request: HttpRequest, enrolment_id: int) -> HttpResponse:
    """The conversation's last screen: the latest self-assessment and assessment side by side per
    area on the ladder, and the plan agreed from them (målbild, delmål tied to an area, delmål
    reached, handlingsplan), saved with one button through the tablet's outbox. Readings of this
    conversation still on the device are shown in their place (surveys/conversation.js)."""
    enrolments = access.enrolments_writable_by(request.user).filter(end_date__isnull=True)
    enrolment = get_object_or_404(enrolments.select_related("participant", "insats"), pk=enrolment_id)
    history = list(session_list_for_enrolment(enrolment=enrolment))
    latest = {s.perspective: s for s in history}  # oldest first, so the last one wins
    self_session = latest.get(Perspective.SELF)
    mentor_session = latest.get(Perspective.MENTOR)
    latest_session = mentor_session or self_session
    version = latest_session.version if latest_session else None
    version = version or instrument_version_current(code=PROGRESSION_INSTRUMENT)
    if version is None:
        raise Http404(_("Inget stegförflyttningsinstrument är laddat."))
    form = instrument_version_form(version=version, perspective=Perspective.MENTOR, language="sv")
    self_form_texts = instrument_version_form(version=version, perspective=Perspective.SELF, language="sv")
    self_texts = {item.code: item.text for d in self_form_texts.dimensions for item in d.items}
    self_answers = session_answers(session=self_session) if self_session else {}
    mentor_answers = session_answers(session=mentor_session) if mentor_session else {}
    stages = ladder_stages()
    rows = []
    for dimension in form.dimensions:
        for item in dimension.items:
            s, m = self_answers.get(item.code), mentor_answers.get(item.code)
            rows.append(
                {
                    "dimension": dimension.label,
                    "text": self_texts.get(item.code, item.text),
                    "code": item.code,
                    "self": s,
                    "mentor": m,
                    "gap": signed(m - s) if s is not None and m is not None and dimension.is_rating else "–",
                    "is_rating": dimension.is_rating,
                }
            )
    means = session_dimension_means(session_ids=[s.pk for s in history])
    areas = _area_rows(
        form,
        means.get(self_session.pk, {}) if self_session else {},
        means.get(mentor_session.pk, {}) if mentor_session else {},
        stages,
    )
    radar = charts.radar_svg(
        title=_("Självskattning och handledarens bedömning per område (stegen 1–10)"),
        axes=[area["label"] for area in areas],
        series=[
            charts.Series(_("Deltagaren"), [area["self"] for area in areas]),
            charts.Series(_("Handledaren"), [area["mentor"] for area in areas]),
        ],
        min_value=1,
        max_value=10,
        keep_frame=True,  # conversation.js draws the tablet's readings of today into it
    )
    previous = [
        {"session": s, "means": [means.get(s.pk, {}).get(area["code"]) for area in areas]} for s in reversed(history)
    ]
    goal = selectors.goal_current(enrolment=enrolment)
    labels = progression_areas()
    open_milestones = [m for m in goal.milestones.all() if m.status != MilestoneStatus.ACHIEVED] if goal else []
    return render(
        request,
        "progression/conversation.html",
        {
            "enrolment": enrolment,
            "rows": rows,
            "areas": areas,
            "radar": radar,
            "previous": previous,
            "self_session": self_session,
            "mentor_session": mentor_session,
            "goal": goal,
            "open_milestones": open_milestones,
            "area_labels": labels,
            "area_choices": labels.items(),
            "stages": [{"first": st.first, "last": st.last, "label": st.label} for st in stages],
            "rhythm_days": enrolment.insats.reading_interval_weeks * 7,
            "save_url": reverse("api_conversation_save", args=[enrolment.pk]),
        },
    )
