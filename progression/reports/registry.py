"""The one selector every report output goes through: scope, exact figures, and protection of
anything that leaves the organisation (HTML, JSON, CSV, XLSX, PDF and chart data alike)."""

import re
import unicodedata
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from config.replica import replica_read
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


# What a person calls the exports that are not one report (jobs.PACK, jobs.ANALYSIS).
EXPORT_KINDS = {
    "pdf-pack": "Rapportbilaga",
    "analysis-long": "Analysdata, lång form",
    "analysis-wide": "Analysdata, bred form",
}
FORMAT_WORDS = {"csv": "CSV", "xlsx": "Excel", "pdf": "PDF", "zip": "ZIP med CSV"}
# Not in a file name on Windows, macOS or Linux (and a quote would end the header's filename="…").
UNSAFE_IN_FILE_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


class UnknownReport(KeyError):
    pass


def export_kind_name(kind: str) -> str:
    """ "Försörjning före och efter", "Rapportbilaga": a report or an export kind in Swedish."""
    return REPORTS[kind][0] if kind in REPORTS else EXPORT_KINDS.get(kind, "Export")


def _period_words(kind: str, filters: ReportFilter) -> str:
    """ "helår 2026", "delår jan–aug 2026" or the dates; every year for the analysis data set."""
    if kind.startswith("analysis-"):
        return "alla år"
    label = periods.period_label(filters.date_from, filters.date_to)
    return label[:1].lower() + label[1:]


def _selection_parts(filters: ReportFilter, forbund_name: str) -> list[str]:
    """The förbund, then the insatser unless all of them, kön and age band, in words."""
    parts = [forbund_name]
    if filters.insatser and not filters.all_insatser:
        parts.append(filters.insatser[0].name if len(filters.insatser) == 1 else f"{len(filters.insatser)} insatser")
    parts.extend(filters.person_words())
    if filters.by_kon:
        parts.append("per kön")
    return parts


def export_heading(kind: str, file_format: str) -> str:
    """ "Rapportbilaga (PDF)", "Försörjning före och efter (Excel)"."""
    return f"{export_kind_name(kind)} ({FORMAT_WORDS.get(file_format, file_format.upper())})"


def export_selection(kind: str, filters: ReportFilter) -> str:
    """ "Samordningsförbundet Centrala Östergötland, Jonsbo försteg, helår 2026"; internal exports say so."""
    parts = [*_selection_parts(filters, filters.forbund.name), _period_words(kind, filters)]
    if not filters.external and not kind.startswith("analysis-"):
        parts.append("exakta tal för internt bruk")
    return ", ".join(parts)


def export_file_name(kind: str, filters: ReportFilter, extension: str) -> str:
    """The name a downloaded file gets, the one place every download takes it from: "Försörjning före
    och efter – Centrala Östergötland – helår 2026.xlsx" (the förbund without "Samordningsförbundet",
    which every förbund's files would share). Internal exact figures end in "internt"."""
    forbund = re.sub(r"^Samordningsförbundet\s+", "", filters.forbund.name) or filters.forbund.name
    parts = [export_kind_name(kind), ", ".join(_selection_parts(filters, forbund)), _period_words(kind, filters)]
    if not filters.external and not kind.startswith("analysis-"):
        parts.append("internt")
    stem = UNSAFE_IN_FILE_NAMES.sub("-", " – ".join(parts)).strip(" .")[:150]
    return f"{stem}.{extension}"


def ascii_file_name(name: str) -> str:
    """The name without å, ä, ö and other letters an old client cannot take (å → a, – → -)."""
    name = UNSAFE_IN_FILE_NAMES.sub("-", name.replace("–", "-").replace("—", "-"))
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"\s+", " ", plain).strip() or "stegvis"


def attachment_header(name: str) -> str:
    """Content-Disposition for a download: an ASCII filename for old clients and the real one in
    RFC 5987 form (filename*=UTF-8''…), which browsers prefer, so that å, ä and ö survive."""
    return f"attachment; filename=\"{ascii_file_name(name)}\"; filename*=UTF-8''{quote(name, safe='')}"


def build_report(name: str, *, filters: ReportFilter) -> Report:
    """The report for filters already scoped to the user (parse_filter does that): as frozen when
    its period was closed, otherwise computed now and marked preliminary (periods.py).

    filters.external publishes every figure protected by the cell-key method (disclosure.py).
    Read from the read replica if there is one (config/replica.py); freezing a period reads the
    primary (report_compute)."""
    if name not in REPORTS:
        raise UnknownReport(name)
    return replica_read(lambda: periods.report_for_period(name, filters, report_compute))


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
