"""Helpers for the report tests: enrolments through the services, reports built the way the views
build them, and readers for every output format (HTML tables, CSV, XLSX, PDF text)."""

import csv
import io
import shutil
import subprocess
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from django.http import QueryDict
from django.utils import timezone

from participants.models import Enrolment, Insats, Participant
from participants.services import enrolment_close, enrolment_create
from progression.models import Classification, Progression
from progression.reports.base import Report, visible
from progression.reports.filters import parse_filter
from progression.reports.registry import build_report
from progression.spreadsheets import csv_cell
from surveys.models import AssessmentSession, InstrumentVersion, SessionStatus
from tests.factories import education_level, exit_reason, income_source, operator

TODAY = date(2026, 11, 1)  # "today" for the services: every date in the data lies before it
PERIOD = {"from": "2025-01-01", "to": "2025-12-31"}
PDFTOTEXT = shutil.which("pdftotext") or ("/usr/bin/pdftotext" if Path("/usr/bin/pdftotext").exists() else None)


def query(**params: Any) -> QueryDict:
    """A QueryDict as a view would get it; list values become repeated parameters."""
    result = QueryDict(mutable=True)
    for key, value in params.items():
        if isinstance(value, (list, tuple)):
            result.setlist(key, list(value))
        else:
            result[key] = value
    return result


def build(user: Any, name: str, *, external: bool = False, **params: Any) -> Report:
    """Parse the filters for the user (scope included) and build the report, as the views do."""
    filters = parse_filter(
        user=user, params=query(**(PERIOD | params), extern="1" if external else "0"), default_year=2025
    )
    return build_report(name, filters=filters)


def enrol(
    participant: Participant,
    insats: Insats,
    start: date,
    *,
    end: date | None = None,
    reason: str | None = None,
    before: str | None = None,
    before_extent: str = "1",
    after: str | None = None,
    after_extent: str | None = "1",
    education: str | None = None,
    years: str | None = None,
) -> Enrolment:
    """Inskrivning (and, with end, avslut) through participants.services."""
    enrolment = enrolment_create(
        by=operator(),
        participant=participant,
        insats=insats,
        start_date=start,
        income_before=income_source(before) if before else None,
        income_before_extent=Decimal(before_extent),
        education=education_level(education) if education else None,
        years_in_public_support=Decimal(years) if years is not None else None,
        today=TODAY,
    )
    if end is not None:
        enrolment = enrolment_close(
            by=operator(),
            enrolment=enrolment,
            end_date=end,
            exit_reason=exit_reason(reason),
            income_after=income_source(after) if after else None,
            income_after_extent=Decimal(after_extent) if after and after_extent else None,
            today=TODAY,
        )
    return enrolment


def progression_row(
    enrolment: Enrolment,
    version: InstrumentVersion,
    *,
    perspective: str,
    first: float,
    latest: float,
    latest_on: date,
    classification: str,
    mid: bool | None,
    dimension: str = "halsa",
    n_readings: int = 2,
) -> Progression:
    """A Progression row written directly (first and latest reading as submitted sessions)."""

    def session(day: date) -> AssessmentSession:
        moment = datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
        return AssessmentSession.objects.create(
            enrolment=enrolment,
            version=version,
            perspective=perspective,
            client_uuid=uuid.uuid4(),
            status=SessionStatus.SUBMITTED,
            occurred_at=moment,
            submitted_at=moment,
        )

    first_session = session(latest_on - timedelta(days=90))
    latest_session = session(latest_on) if n_readings > 1 else first_session
    change = latest - first
    return Progression.objects.create(
        enrolment=enrolment,
        instrument=version.instrument,
        dimension_code=dimension,
        perspective=perspective,
        n_readings=n_readings,
        first_session=first_session,
        latest_session=latest_session,
        first_score=first,
        latest_score=latest,
        latest_on=latest_on,
        first_on=timezone.localdate(first_session.occurred_at),
        first_version=version,
        latest_version=version,
        change=change if n_readings > 1 else None,
        baseline_sd=15.0,
        reliability=0.8,
        rci=change / (2 * 15.0**2 * 0.2) ** 0.5 if n_readings > 1 else None,
        classification=classification if n_readings > 1 else Classification.INSUFFICIENT,
        meets_mid=mid,
        algorithm_version=1,
    )


# --- Reading the outputs ---------------------------------------------------------------------------


class _TableParser(HTMLParser):
    """Every <table> of a page as rows of cell texts, and the texts of every SVG <text>."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.svg_texts: list[str] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._svg_text: list[str] | None = None
        self._in_svg = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "svg":
            self._in_svg += 1
        elif tag == "text" and self._in_svg:
            self._svg_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None
        elif tag == "svg":
            self._in_svg -= 1
        elif tag == "text" and self._svg_text is not None:
            self.svg_texts.append("".join(self._svg_text).strip())
            self._svg_text = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._svg_text is not None:
            self._svg_text.append(data)


def html_tables(html: str) -> tuple[list[list[list[str]]], list[str]]:
    parser = _TableParser()
    parser.feed(html)
    return parser.tables, parser.svg_texts


def csv_table_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))


def pdf_text(path: Path) -> str:
    result = subprocess.run([PDFTOTEXT, "-layout", str(path), "-"], capture_output=True, check=True, text=True)
    return result.stdout


def cell_text(value: Any) -> str:
    """How a table value is written in the CSV file (None as "–", as on the page; decimal commas)."""
    return str(csv_cell(visible(value), decimal_comma=True))
