"""Links and export sections progression adds to the registry (registered in ProgressionConfig.ready)."""

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext

from progression.models import Goal
from surveys.selectors import area_labels


def report_dashboard_url() -> str:
    return reverse("report_dashboard")


def journey_links(enrolment: Any, user: Any) -> list[tuple[str, str]]:
    """Every enrolment in scope has a journey page."""
    return [(gettext("Deltagarens resa"), reverse("journey", args=[enrolment.pk]))]


def goals_export_section(participant: Any) -> dict[str, Any]:
    """Målbild, delmål, handlingsplan and their history, for the GDPR export."""
    goals = (
        Goal.objects.filter(enrolment__participant=participant)
        .select_related("enrolment__insats")
        .prefetch_related("milestones", "steps", "events")
        .order_by("created_at")
    )
    areas = area_labels()
    return {
        "malbilder": [
            {
                "insats": goal.enrolment.insats.name,
                "malbild": goal.text,
                "aktiv": goal.active,
                "skapad": goal.created_at.isoformat(),
                "delmal": [
                    {
                        "text": m.text,
                        "omrade": areas.get(m.area, ""),
                        "status": m.get_status_display(),
                        "klart_senast": str(m.target_date or ""),
                    }
                    for m in goal.milestones.all()
                ],
                "handlingsplan": [
                    {"vad": s.what, "vem": s.who, "nar": str(s.due_date or ""), "klart": str(s.done_on or "")}
                    for s in goal.steps.all()
                ],
                "historik": [{"tid": e.at.isoformat(), "handelse": e.description} for e in goal.events.all()],
            }
            for goal in goals
        ]
    }
