"""The one selector every report output goes through: scope, exact figures, and protection of
anything that leaves the organisation (HTML, JSON, CSV, XLSX, PDF and chart data alike)."""

from collections.abc import Callable
from typing import Any

from participants.models import AccessAction
from participants.services import access_event_log
from progression.reports import definitions, disclosure, periods, socioeconomic
from progression.reports.base import Context, Report
from progression.reports.filters import ReportFilter

REPORTS: dict[str, tuple[str, Callable[[Context], Report]]] = {
    "participant-flow": ("Deltagarflöde", definitions.participant_flow),
    "exits": ("Avslut", definitions.exits),
    "income-sources": ("Försörjning före och efter", definitions.income_sources),
    "background": ("Bakgrund", definitions.background),
    "survey": ("Deltagarenkät", definitions.survey),
    "progression": ("Stegförflyttning", definitions.progression),
    "volumes": ("Volymer", definitions.volumes),
    "socioeconomic": ("Samhällsekonomi", socioeconomic.socioeconomic),
}


class UnknownReport(KeyError):
    pass


def build_report(name: str, *, filters: ReportFilter) -> Report:
    """The report for filters already scoped to the user (parse_filter does that): as frozen when
    its period was closed, otherwise computed now and marked preliminary (periods.py).

    filters.external publishes every figure protected by the cell-key method (disclosure.py)."""
    if name not in REPORTS:
        raise UnknownReport(name)
    return periods.report_for_period(name, filters, report_compute)


def report_compute(name: str, filters: ReportFilter) -> Report:
    """The report computed from today's data (build_report, and freezing a closed period)."""
    report = REPORTS[name][1](Context(filters=filters, external=filters.external))
    if filters.external:
        report.definitions.append(disclosure.FOOTNOTE)
    return report


def report_export(name: str, *, user: Any, filters: ReportFilter, channel: str) -> Report:
    """A report that leaves Stegvis as it is built (a CSV download, figures fetched through the API),
    logged as an export in the förbund's access log. `channel` names it there, e.g. "exits.csv"."""
    report = build_report(name, filters=filters)
    access_event_log(
        user=user,
        participant=None,
        forbund=filters.forbund,
        action=AccessAction.EXPORT,
        reason=f"Rapport {channel} ({'extern' if filters.external else 'intern'}): {filters.describe()}",
    )
    return report
