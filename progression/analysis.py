"""Pseudonymised analysis export for evaluators: readings, scores, progression and enrolment
background, in long or wide shape, as CSV or XLSX.

Each export gets its own random key, and every person and enrolment appears under an export
pseudonym = HMAC(key, id): two exports cannot be joined on person unless an admin chose to reuse an
earlier export's key. Only participants whose research consent is in force take part; no free text
(goals, reasons, names) is included. Rows are streamed from the database, never held all at once."""

import csv
import hashlib
import hmac
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.db.models import QuerySet
from openpyxl import Workbook

from participants.models import ConsentPurpose, Enrolment, consent_granted_subquery
from progression.models import DimensionScore, Progression
from progression.reports.filters import ReportFilter
from progression.spreadsheets import csv_cell, xlsx_row

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
LONG_COLUMNS = [
    "person",
    "inskrivning",
    "forbund",
    "insats",
    "kon",
    "fodelsear",
    "inskrivningsdatum",
    "avslutsdatum",
    "avslutsanledning",
    "forsorjning_fore",
    "forsorjning_fore_omfattning",
    "forsorjning_efter",
    "forsorjning_efter_omfattning",
    "utbildning",
    "ar_i_offentlig_forsorjning",
    "matdatum",
    "perspektiv",
    "instrument",
    "version",
    "dimension",
    "poang",
    "besvarade",
    "fragor",
]
BACKGROUND = LONG_COLUMNS[:15]


def new_key() -> str:
    return secrets.token_hex(32)


def export_pseudonym(key: str, kind: str, value: int) -> str:
    digest = hmac.new(key.encode(), f"{kind}:{value}".encode(), hashlib.sha256).digest()
    return kind[0].upper() + "-" + "".join(ALPHABET[b % len(ALPHABET)] for b in digest[:10])


def _consenting_enrolments(filters: ReportFilter) -> QuerySet[Enrolment]:
    return (
        Enrolment.objects.filter(insats_id__in=filters.insats_ids, start_date__lte=filters.date_to)
        .exclude(end_date__lt=filters.date_from)
        .exclude(exit_reason__excluded_from_reports=True)
        .alias(research=consent_granted_subquery(purpose=ConsentPurpose.RESEARCH))
        .filter(research=True)
    )


def _background(key: str, row: dict[str, Any]) -> list[Any]:
    return [
        export_pseudonym(key, "person", row["participant_id"]),
        export_pseudonym(key, "inskrivning", row["id"]),
        row["insats__forbund__code"],
        row["insats__code"],
        row["participant__kon"],
        row["participant__birth_year"],
        row["start_date"],
        row["end_date"],
        row["exit_reason__code"],
        row["income_before__code"],
        row["income_before_extent"],
        row["income_after__code"],
        row["income_after_extent"],
        row["education__code"],
        row["years_in_public_support"],
    ]


BACKGROUND_FIELDS = [
    "id",
    "participant_id",
    "insats__forbund__code",
    "insats__code",
    "participant__kon",
    "participant__birth_year",
    "start_date",
    "end_date",
    "exit_reason__code",
    "income_before__code",
    "income_before_extent",
    "income_after__code",
    "income_after_extent",
    "education__code",
    "years_in_public_support",
]


def long_rows(filters: ReportFilter, key: str) -> Iterator[list[Any]]:
    """One row per reading and dimension, with the enrolment's background."""
    yield LONG_COLUMNS
    enrolments = _consenting_enrolments(filters)
    background = {row["id"]: _background(key, row) for row in enrolments.values(*BACKGROUND_FIELDS).iterator()}
    scores = (
        DimensionScore.objects.filter(
            session__enrolment_id__in=list(background), session__status="submitted", session__consent_withdrawn=False
        )
        .order_by("session__enrolment_id", "session__occurred_at", "session_id", "dimension__order")
        .values(
            "session__enrolment_id",
            "session__occurred_at",
            "session__perspective",
            "session__version__instrument__code",
            "session__version__number",
            "dimension__code",
            "score",
            "answered",
            "items",
        )
    )
    for s in scores.iterator(chunk_size=5000):
        yield [
            *background[s["session__enrolment_id"]],
            s["session__occurred_at"].date(),
            s["session__perspective"],
            s["session__version__instrument__code"],
            s["session__version__number"],
            s["dimension__code"],
            None if s["score"] is None else round(s["score"], 4),
            s["answered"],
            s["items"],
        ]


def wide_rows(filters: ReportFilter, key: str) -> Iterator[list[Any]]:
    """One row per enrolment: background, then first, latest, change, n and classification per
    dimension and perspective."""
    enrolments = _consenting_enrolments(filters)
    keys = sorted(
        set(Progression.objects.filter(enrolment__in=enrolments).values_list("dimension_code", "perspective"))
    )
    measures = ["forsta", "senaste", "forandring", "antal", "rci", "klassning"]
    yield BACKGROUND + [f"{d}_{p}_{m}" for d, p in keys for m in measures]
    progression: dict[int, dict[tuple[str, str], Progression]] = {}
    for p in Progression.objects.filter(enrolment__in=enrolments).iterator(chunk_size=5000):
        progression.setdefault(p.enrolment_id, {})[(p.dimension_code, p.perspective)] = p
    for row in enrolments.values(*BACKGROUND_FIELDS).order_by("id").iterator(chunk_size=5000):
        cells = _background(key, row)
        own = progression.get(row["id"], {})
        for dimension_key in keys:
            p = own.get(dimension_key)
            cells += (
                [
                    round(p.first_score, 4),
                    round(p.latest_score, 4),
                    None if p.change is None else round(p.change, 4),
                    p.n_readings,
                    None if p.rci is None else round(p.rci, 4),
                    p.classification,
                ]
                if p
                else [None] * 6
            )
        yield cells


def write(rows: Iterator[list[Any]], path: Path, file_format: str) -> int:
    """Write rows to CSV or XLSX (write-only); returns the number of data rows."""
    count = -1
    if file_format == "xlsx":
        book = Workbook(write_only=True)
        sheet = book.create_sheet("Data")
        for row in rows:
            sheet.append(xlsx_row(sheet, row))
            count += 1
        book.save(path)
        return count
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        for row in rows:
            writer.writerow([csv_cell(value) for value in row])
            count += 1
    return count
