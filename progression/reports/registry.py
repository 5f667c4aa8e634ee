"""The one selector every report output goes through: scope, exact figures, and suppression for
anything that leaves the organisation (HTML, JSON, CSV, XLSX, PDF and chart data alike)."""

from collections.abc import Callable

from django.conf import settings

from progression.reports import definitions, socioeconomic
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


def build_report(name: str, *, filters: ReportFilter, external: bool) -> Report:
    """Compute a report for filters already scoped to the user (parse_filter does that).

    external=True suppresses small cells (threshold REPORT_SUPPRESSION_THRESHOLD, default 5)."""
    if name not in REPORTS:
        raise UnknownReport(name)
    threshold = getattr(settings, "REPORT_SUPPRESSION_THRESHOLD", 5)
    return REPORTS[name][1](Context(filters=filters, external=external, threshold=threshold))
