"""Min plan's pages: the mentor's page that creates, shows and revokes the link (with its QR code),
the participant's own page behind the link (/min-plan/<token>/), and the small service worker that
keeps that page on the participant's phone once visited (/min-plan/sw.js, scope /min-plan/).

The participant's page shows nothing that names the person and is never indexed, kept by a shared
cache or sent on as a referrer. The rules are in progression/plan.py."""

import hashlib
import json
from datetime import date
from functools import cache
from typing import Any

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.safestring import SafeString
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from config.languages import BY_KEY, PARTICIPANT_LANGUAGES, Language, participant_language
from config.requests import SignedInRequest
from participants import access
from participants.models import Enrolment
from participants.selectors import enrolment_list_for_user
from progression import plan
from surveys import charts
from surveys.models import Perspective
from surveys.speech import speech_generate

# What the participant's phone keeps for the page besides its HTML (the scripts' translations too).
PLAN_ASSETS = [
    "stegvis/stegvis.css",
    "stegvis/device.js",
    "surveys/readaloud.css",
    "surveys/readaloud.js",
    "progression/plan.css",
    "progression/plan.js",
]
SCOPE = "/min-plan/"


class PlanLinkForm(forms.Form):
    language = forms.ChoiceField(
        label=gettext_lazy("Deltagarens språk"),
        widget=forms.RadioSelect,
        choices=[
            (
                language.key,
                format_lazy("{} – {}", language.name, gettext_lazy("utkast till översättning, inte granskad ännu"))
                if language.draft
                else language.name,
            )
            for language in PARTICIPANT_LANGUAGES
        ],
    )


def _qr_svg(url: str) -> str:
    """The link as a QR code (as surveys.views does for the self-assessment link)."""
    return segno.make(url, error="m").svg_data_uri(scale=5, border=2)


# --- The mentor's page -----------------------------------------------------------------------------


def _enrolment(request: HttpRequest, enrolment_id: int) -> Enrolment:
    """An enrolment the user sees (else 404) and may change (else 403): who may share its plan."""
    enrolment = get_object_or_404(enrolment_list_for_user(user=request.user, open_only=False), pk=enrolment_id)
    access.require(
        access.enrolments_writable_by(request.user).filter(pk=enrolment.pk).exists(),
        _("Du kan inte dela planen för den här inskrivningen."),
    )
    return enrolment


def _latest_self_language(enrolment: Enrolment) -> str:
    """The language of the participant's latest self-assessment: the likeliest one for their plan."""
    latest = enrolment.assessment_sessions.filter(perspective=Perspective.SELF).order_by("-occurred_at").first()
    return latest.language if latest and latest.language in BY_KEY else "sv"


@login_required
def plan_link_page(request: SignedInRequest, enrolment_id: int) -> HttpResponse:
    """The link in force (who made it, when it was last opened), and a form for a new one; a new link
    is shown once, with its QR code."""
    enrolment = _enrolment(request, enrolment_id)
    form = PlanLinkForm(request.POST or None, initial={"language": _latest_self_language(enrolment)})
    if request.method == "POST" and form.is_valid():
        try:
            new = plan.plan_link_create(enrolment=enrolment, language=form.cleaned_data["language"], by=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            url = request.build_absolute_uri(reverse("my_plan", args=[new.token]))
            return render(
                request,
                "progression/plan_link_created.html",
                {
                    "enrolment": enrolment,
                    "link": new.link,
                    "replaced": new.replaced,
                    "language": BY_KEY[new.link.language],
                    "url": url,
                    "qr": _qr_svg(url),
                },
            )
    current = plan.plan_link_current(enrolment=enrolment)
    return render(
        request,
        "progression/plan_link.html",
        {
            "enrolment": enrolment,
            "form": form,
            "current": current,
            "current_language": BY_KEY.get(current.language) if current else None,
            "refused": plan.plan_link_refusal(enrolment=enrolment),
        },
    )


@login_required
def plan_link_revoke(request: SignedInRequest, enrolment_id: int) -> HttpResponse:
    """Revoke the link in force, after a confirmation."""
    enrolment = _enrolment(request, enrolment_id)
    current = plan.plan_link_current(enrolment=enrolment)
    if current is None:
        messages.info(request, _("Det finns ingen länk till Min plan att återkalla."))
        return redirect("plan_link", enrolment_id=enrolment.pk)
    if request.method == "POST":
        plan.plan_link_revoke(link=current, by=request.user)
        messages.success(request, _("Länken till Min plan är återkallad. Den fungerar inte längre."))
        return redirect("plan_link", enrolment_id=enrolment.pk)
    return render(
        request,
        "progression/plan_link_revoke.html",
        {"enrolment": enrolment, "current": current, "current_language": BY_KEY.get(current.language)},
    )


# --- The participant's page ------------------------------------------------------------------------


def _private(response: HttpResponse) -> HttpResponse:
    """Never in a shared cache, never indexed, and the address (the token) never sent on as a referrer.
    The browser asks the server each time, so a revoked link stops showing as soon as it is online."""
    response["Cache-Control"] = "private, no-cache"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _participant_context(language: Language) -> dict[str, object]:
    return {
        "languages": PARTICIPANT_LANGUAGES,
        "language": language,
        "worker_url": reverse("plan_service_worker"),
        "worker_scope": SCOPE,
    }


def my_plan_page(request: HttpRequest, token: str) -> HttpResponse:
    """The participant's plan, in the link's language unless they choose another (?sprak=)."""
    participant_language(request)
    try:
        link = plan.plan_link_open(token=token)
    except plan.PlanLinkUnusable as exc:
        language = participant_language(request, exc.link.language if exc.link else None)
        context = {**_participant_context(language), "message": exc.message}
        return _private(render(request, "progression/plan_gone.html", context, status=410))
    language = participant_language(request, link.language)
    content = plan.my_plan(link=link, language=language.key)
    texts = _plan_texts(content)
    speech_generate((language.key, text) for text in _spoken(texts, content))
    context = {
        **_participant_context(language),
        **texts,
        "plan": content,
        "chart": _ladder_chart(content, language),
    }
    return _private(render(request, "progression/my_plan.html", context))


def _spoken(texts: dict[str, Any], content: plan.MyPlan) -> list[str]:
    """What the page's Lyssna buttons read: its audio is generated (once per text) for devices without
    a voice for the language, as the instruments' texts are when they are loaded."""
    blocks = texts["blocks"]
    said = [
        blocks[key]
        for key in ("intro", "no_goal", "no_milestones", "no_steps", "caption", "latest_said", "no_readings")
    ]
    if content.goal:
        said.append(blocks["goal"])
    said += [row["said"] for row in (*texts["milestones_open"], *texts["milestones_reached"], *texts["steps"])]
    return [text for text in said if text]


def _day(day: date | None) -> str:
    return formats.date_format(day, "DATE_FORMAT") if day else ""


def _sentences(*parts: str) -> str:
    """Parts said one after the other, each a sentence of its own (for the read-aloud button)."""
    return " ".join(part if part.endswith((".", "!", "?", ":")) else f"{part}." for part in parts if part)


def _plan_texts(content: plan.MyPlan) -> dict[str, object]:
    """Every text of the page in the participant's language (active now), each with what its
    read-aloud button says: the visible words, with the heading they stand under."""
    milestones_open, milestones_reached, steps = [], [], []
    for m in content.open_milestones:
        meta = [_("Område: %(area)s") % {"area": m.area} if m.area else ""]
        meta.append(_("Klart senast %(date)s") % {"date": _day(m.target_date)} if m.target_date else "")
        said = _sentences(_("Delmål: %(text)s") % {"text": m.text}, *meta)
        milestones_open.append({"text": m.text, "meta": " · ".join(filter(None, meta)), "said": said})
    for m in content.reached_milestones:
        meta = [_("Område: %(area)s") % {"area": m.area} if m.area else ""]
        meta.append(_("Klart %(date)s") % {"date": _day(m.achieved_on)} if m.achieved_on else "")
        said = _sentences(_("Delmål du har klarat: %(text)s") % {"text": m.text}, *meta)
        milestones_reached.append({"text": m.text, "meta": " · ".join(filter(None, meta)), "said": said})
    for step in content.next_steps:
        who = _("Vem: %(who)s") % {"who": step.who}
        when = _("När: %(date)s") % {"date": _day(step.due_date)} if step.due_date else _("När: inget datum ännu")
        steps.append({"text": step.what, "meta": f"{who} · {when}", "said": _sentences(step.what, who, when)})
    high = content.stages[-1].last if content.stages else 10
    latest = [
        _("%(area)s: %(value)s av %(max)s, %(stage)s")
        % {
            "area": area.label,
            "value": formats.number_format(area.latest, 1),
            "max": high,
            "stage": content.stage(area.latest),
        }
        for area in content.areas
    ]
    stages = ", ".join(f"{stage.first}–{stage.last} {stage.label}" for stage in content.stages)
    caption = _sentences(
        _(
            "Bilden visar hur du själv har svarat inom varje område, på en stege från 1 till 10. "
            "Högre upp betyder att det går lättare. Varje punkt är en självskattning."
        ),
        _("Stegen: %(stages)s") % {"stages": stages} if stages else "",
    )
    latest_heading = (
        _("Din senaste självskattning, %(date)s:") % {"date": _day(content.readings[-1])} if content.readings else ""
    )
    now = timezone.localtime()
    blocks = {
        "intro": _(
            "Här är din plan. Du ser vart du vill komma, dina delmål och dina nästa steg. "
            "Du har gjort planen tillsammans med din handledare."
        ),
        "goal": _("Din målbild: %(goal)s") % {"goal": content.goal},
        "no_goal": _("Du och din handledare har inte skrivit någon målbild ännu."),
        "no_milestones": _("Du har inga delmål att arbeta med just nu."),
        "no_steps": _("Du har inga nästa steg just nu."),
        "steps_done": _("Steg som du redan har gjort: %(count)s") % {"count": content.steps_done}
        if content.steps_done
        else "",
        "caption": caption,
        "latest_heading": latest_heading,
        "latest_said": _sentences(latest_heading, *latest),
        "no_readings": _("Du har inte gjort någon självskattning ännu. När du har gjort en syns den här."),
        "fetched": _("Planen hämtades %(date)s klockan %(time)s.")
        % {"date": _day(now.date()), "time": now.strftime("%H:%M")},
    }
    return {
        "blocks": blocks,
        "milestones_open": milestones_open,
        "milestones_reached": milestones_reached,
        "steps": steps,
        "latest": latest,
    }


def _ladder_chart(content: plan.MyPlan, language: Language) -> SafeString | None:
    """The participant's own self-assessments per area on the ladder over time, in their language."""
    if not content.areas:
        return None
    low = content.stages[0].first if content.stages else 1
    high = content.stages[-1].last if content.stages else 10
    lanes = [
        charts.Lane(
            label=area.label,
            series=[area.points],
            min_value=low,
            max_value=high,
            note=" · ".join(filter(None, [formats.number_format(area.latest, 1), content.stage(area.latest)])),
        )
        for area in content.areas
    ]
    return charts.ladder_lanes_svg(
        title=_("Så har du skattat dig själv inom varje område, från 1 till 10, vid varje självskattning"),
        lanes=lanes,
        start_label=formats.date_format(content.readings[0], "DATE_FORMAT"),
        end_label=formats.date_format(content.readings[-1], "DATE_FORMAT"),
        rtl=language.rtl,
    )


# --- The service worker ----------------------------------------------------------------------------


@cache
def _worker_version() -> str:
    """A digest of the files the worker keeps: a new release gets a new worker and fresh copies."""
    digest = hashlib.sha256(render_to_string("progression/plan_sw.js").encode())
    for asset in PLAN_ASSETS:
        path = finders.find(asset)
        digest.update(asset.encode())
        if path:
            with open(path, "rb") as handle:
                digest.update(handle.read())
    return digest.hexdigest()[:16]


def _offline_page() -> str:
    """The page shown by a phone that has never opened the plan and has no connection: in every
    participant language, since the worker cannot know which one is wanted."""
    lines = []
    for language in PARTICIPANT_LANGUAGES:
        with translation.override(language.code):
            lines.append((language, _("Min plan behöver anslutning första gången. Försök igen när du har anslutning.")))
    return render_to_string("progression/plan_offline.html", {"lines": lines})


@require_GET
def plan_service_worker(request: HttpRequest) -> HttpResponse:
    """/min-plan/sw.js: its scope is /min-plan/, so the app's own worker (/sw.js, scope /) keeps every
    other page of a mentor's tablet; a page under /min-plan/ belongs to this one (the longer scope wins)."""
    assets = [static(asset) for asset in PLAN_ASSETS] + [
        reverse("javascript_catalog", args=[language.code]) for language in PARTICIPANT_LANGUAGES
    ]
    response = render(
        request,
        "progression/plan_sw.js",
        {
            "version_json": json.dumps(_worker_version()),
            "scope_json": json.dumps(SCOPE),
            "assets_json": json.dumps(assets),
            "offline_json": json.dumps(_offline_page()),
        },
        content_type="application/javascript; charset=utf-8",
    )
    response["Cache-Control"] = "no-cache"
    return response
