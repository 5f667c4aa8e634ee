"""Pseudonymised analysis export for evaluators: readings, scores, progression and enrolment
background, in long or wide shape, as XLSX (with a LÄS MIG sheet) or CSV (zipped with LASMIG.txt).

An export covers the whole förbund and every year (export_scope), so two exports made at the same
time hold the same rows and neither says what the other generalised. Each export gets its own random
key, and every person and enrolment appears under an export pseudonym = HMAC(key, id), unless an
admin chose to reuse an earlier export's key. Every background column that someone outside could
know about a person is a quasi-identifier (insats, kön, födelseår, dates, avslutsanledning,
försörjning, utbildning, år i offentlig försörjning); they are generalised until every combination
of them is shared by at least K persons in the file, checked before the file is written. Only
participants whose research consent is in force take part; no free text (goals, reasons, names) is
included. Rows are streamed from the database, never held all at once."""

import csv
import hashlib
import hmac
import io
import secrets
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Set
from dataclasses import dataclass, replace
from datetime import date
from itertools import islice, product
from pathlib import Path
from typing import Any

from django.db.models import Count, DateField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from openpyxl import Workbook

from participants.models import ConsentPurpose, Enrolment, consent_granted_subquery
from progression.models import DimensionScore, Progression
from progression.reports.filters import ReportFilter
from progression.spreadsheets import csv_row, xlsx_row

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


# --- k-anonymity ------------------------------------------------------------------------------------

K = 5  # every combination of the quasi-identifiers is shared by at least this many persons
QUASI_IDENTIFIERS = (
    "insats, kön, födelseår, inskrivnings- och avslutsdatum, avslutsanledning, försörjning före och efter "
    "(med omfattning), utbildning, år i offentlig försörjning och antal mätningar per perspektiv"
)
LEFT_OUT = "*"  # a quasi-identifier generalised all the way: left out of the file
MERGED_INSATS = "ovriga_insatser"
OTHER_KON = "annat_eller_okant"
BIRTH_BANDS = (5, 10, 20, None)  # years per band; None: left out
DATE_UNITS = ("month", "quarter", "half", "year", None)  # None: left out
DATE_WORDS = {"month": "månad", "quarter": "kvartal", "half": "halvår", "year": "år"}
# Years in public support, never exact (one decimal is a fingerprint): these bands, or left out.
SUPPORT_BANDS = ((1, "<1"), (2, "1-2"), (3, "2-3"), (5, "3-5"), (10, "5-10"), (None, ">10"))
# How many readings an enrolment has per perspective: someone who knows a person had two talks could
# find their row by it. Exact, in these bands, or left out (the long shape shows it in its rows:
# always exact there).
READING_BANDS = ((1, "0"), (2, "1"), (3, "2"), (5, "3-4"), (None, "5+"))
PERSPECTIVES = ("self", "mentor", "agreed")
BACKGROUND_COUNT = 12  # the background columns from insats to ar_i_offentlig_forsorjning
QUASI_IDENTIFIER_COUNT = BACKGROUND_COUNT + len(PERSPECTIVES)


class NotAnonymous(ValueError):
    """Fewer than K persons: no generalisation makes the file k-anonymous."""


@dataclass(frozen=True)
class Generalisation:
    """How coarsely each quasi-identifier is written: the level on its hierarchy (0 = finest)."""

    birth: int = 0  # index into BIRTH_BANDS
    dates: int = 0  # index into DATE_UNITS: inskrivning, avslut and mätning alike
    insats: int = 0  # 0 as is, 1 the small insatser merged, 2 left out
    kon: int = 0  # 0 as is, 1 annat and okänt merged, 2 left out
    exit: int = 0  # avslutsanledning: 0 as is, 1 left out
    income: int = 0  # försörjning före and efter: 0 with omfattning, 1 without, 2 left out
    education: int = 0  # 0 as is, 1 left out
    support: int = 0  # år i offentlig försörjning: 0 in SUPPORT_BANDS, 1 left out
    readings: int = 0  # readings per perspective: 0 exact, 1 in READING_BANDS, 2 left out
    merged_insatser: frozenset[str] = frozenset()

    def birth_band(self, year: int) -> str:
        width = BIRTH_BANDS[self.birth]
        if width is None:
            return LEFT_OUT
        low = year - year % width
        return f"{low}-{low + width - 1}"

    def period(self, day: date | None) -> str:
        """The date at this level; an open enrolment's missing avslut is empty until dates are left out."""
        unit = DATE_UNITS[self.dates]
        if unit is None:
            return LEFT_OUT
        if day is None:
            return ""
        if unit == "month":
            return f"{day.year}-{day.month:02}"
        if unit == "quarter":
            return f"{day.year}-K{(day.month - 1) // 3 + 1}"
        if unit == "half":
            return f"{day.year}-H{(day.month - 1) // 6 + 1}"
        return f"{day.year}"

    def insats_code(self, code: str) -> str:
        if self.insats == 2:
            return LEFT_OUT
        return MERGED_INSATS if self.insats == 1 and code in self.merged_insatser else code

    def kon_code(self, kon: str) -> str:
        if self.kon == 2:
            return LEFT_OUT
        return OTHER_KON if self.kon == 1 and kon not in ("kvinna", "man") else kon

    def income_cells(self, code: str | None, extent: Any) -> tuple[str, str]:
        if self.income == 2:
            return LEFT_OUT, LEFT_OUT
        written = code or ""
        return written, (LEFT_OUT if self.income == 1 else "" if extent is None else str(extent))

    def support_band(self, years: Any) -> str:
        if self.support == 1:
            return LEFT_OUT
        if years is None:
            return ""
        return next(label for upper, label in SUPPORT_BANDS if upper is None or years < upper)

    def readings_cell(self, count: int) -> str:
        if self.readings == 2:
            return LEFT_OUT
        if self.readings == 0:
            return str(count)
        return next(label for upper, label in READING_BANDS if upper is None or count < upper)

    def part(self, name: str, row: dict[str, Any]) -> tuple[str, ...]:
        """The cells one quasi-identifier (a key of LEVELS) writes for a row, at this level."""
        if name == "insats":
            return (self.insats_code(row["insats__code"]),)
        if name == "kon":
            return (self.kon_code(row["participant__kon"]),)
        if name == "birth":
            return (self.birth_band(row["participant__birth_year"]),)
        if name == "dates":
            return self.period(row["start_date"]), self.period(row["end_date"])
        if name == "exit":
            return (LEFT_OUT if self.exit else row["exit_reason__code"] or "",)
        if name == "income":
            return (
                *self.income_cells(row["income_before__code"], row["income_before_extent"]),
                *self.income_cells(row["income_after__code"], row["income_after_extent"]),
            )
        if name == "education":
            return (LEFT_OUT if self.education else row["education__code"] or "",)
        if name == "support":
            return (self.support_band(row["years_in_public_support"]),)
        return tuple(self.readings_cell(row[f"readings_{p}"]) for p in PERSPECTIVES)

    def quasi_identifiers(self, row: dict[str, Any]) -> tuple[str, ...]:
        """The twelve background cells as written (insats to år i offentlig försörjning, in the
        file's column order: FILE_ORDER), then the readings per perspective."""
        return tuple(cell for name in FILE_ORDER for cell in self.part(name, row))

    def describe(self) -> list[str]:
        """What the file's reader needs to know, in Swedish."""
        width, unit = BIRTH_BANDS[self.birth], DATE_UNITS[self.dates]
        lines = [
            f"Födelseår redovisas i {width}-årsgrupper (t.ex. {self.birth_band(1987)})."
            if width
            else f"Födelseår är utelämnat ({LEFT_OUT}).",
            f"Datum (inskrivning, avslut och mätning) redovisas som {DATE_WORDS[unit]} "
            f"(t.ex. {self.period(date(2025, 8, 14))})."
            if unit
            else f"Datum (inskrivning, avslut och mätning) är utelämnade ({LEFT_OUT}).",
        ]
        if self.insats == 1 and self.merged_insatser:
            lines.append(
                f"Insatserna {', '.join(sorted(self.merged_insatser))} redovisas tillsammans som {MERGED_INSATS}."
            )
        elif self.insats == 2:
            lines.append(f"Insats är utelämnad ({LEFT_OUT}).")
        if self.kon == 1:
            lines.append(f"Kön annat och okänt redovisas tillsammans som {OTHER_KON}.")
        elif self.kon == 2:
            lines.append(f"Kön är utelämnat ({LEFT_OUT}).")
        if self.exit:
            lines.append(f"Avslutsanledning är utelämnad ({LEFT_OUT}).")
        if self.income == 1:
            lines.append(f"Försörjningens omfattning är utelämnad ({LEFT_OUT}); försörjningskällan finns kvar.")
        elif self.income == 2:
            lines.append(f"Försörjning före och efter är utelämnad ({LEFT_OUT}).")
        if self.education:
            lines.append(f"Utbildning är utelämnad ({LEFT_OUT}).")
        lines.append(
            f"År i offentlig försörjning är utelämnat ({LEFT_OUT})."
            if self.support
            else "År i offentlig försörjning redovisas i grupper (<1, 1-2, 2-3, 3-5, 5-10, >10), aldrig exakt."
        )
        if self.readings == 1:
            lines.append("Antal mätningar (kolumnerna …_antal) redovisas i grupper (0, 1, 2, 3-4, 5+).")
        elif self.readings == 2:
            lines.append(f"Antal mätningar (kolumnerna …_antal) är utelämnat ({LEFT_OUT}).")
        return lines


FINEST = Generalisation()
# The quasi-identifiers in the order of the file's columns (LONG_COLUMNS[3:15]), then the readings.
FILE_ORDER = ("insats", "kon", "birth", "dates", "exit", "income", "education", "support", "readings")
BACKGROUND_ORDER = FILE_ORDER[:-1]
LEVELS = {
    "birth": 4,
    "dates": 5,
    "insats": 3,
    "kon": 3,
    "exit": 2,
    "income": 3,
    "education": 2,
    "support": 2,
    "readings": 3,
}
# What a level coarser costs an evaluator, per quasi-identifier: kön matters most (reports are by kön),
# then the insats and age; a date a little coarser, the extent of an income or the support band least.
LOSS_PER_LEVEL = {
    "dates": 1.0,
    "birth": 1.5,
    "insats": 2.0,
    "kon": 3.0,
    "exit": 1.5,
    "income": 1.0,
    "education": 1.0,
    "support": 0.5,
    "readings": 1.0,
}


# At most this share of the persons may have every quasi-identifier left out (local suppression),
# so that a few unusual combinations do not coarsen everyone's.
SUPPRESSION_LIMIT = 0.1


@dataclass(frozen=True)
class AnonymityPlan:
    generalisation: Generalisation
    persons: int
    smallest_class: int
    suppressed: frozenset[int] = frozenset()  # persons (participant ids) with every quasi-identifier left out
    # In the long shape the rows show the number of readings, so suppressed persons leave the file.
    suppressed_leave: bool = False

    def quasi_identifiers(self, row: dict[str, Any]) -> tuple[str, ...]:
        if row["participant_id"] in self.suppressed:
            return (LEFT_OUT,) * QUASI_IDENTIFIER_COUNT
        return self.generalisation.quasi_identifiers(row)

    def background(self, row: dict[str, Any]) -> tuple[str, ...]:
        """The twelve background cells (quasi_identifiers without the readings per perspective)."""
        if row["participant_id"] in self.suppressed:
            return (LEFT_OUT,) * BACKGROUND_COUNT
        return tuple(cell for name in BACKGROUND_ORDER for cell in self.generalisation.part(name, row))

    def period(self, participant_id: int, day: date) -> str:
        return LEFT_OUT if participant_id in self.suppressed else self.generalisation.period(day)

    def describe(self) -> list[str]:
        lines = self.generalisation.describe()
        if self.suppressed and self.suppressed_leave:
            lines.append(
                f"{len(self.suppressed)} av {self.persons} personer hade en ovanlig kombination (som antal "
                "mätningar, som syns i radernas antal): de ingår inte i denna fil men i den breda formen."
            )
        elif self.suppressed:
            lines.append(
                f"{len(self.suppressed)} av {self.persons} personer hade en ovanlig kombination: för dem är alla "
                f"bakgrundsuppgifter, datum och antal mätningar utelämnade ({LEFT_OUT})."
            )
        return lines


QUASI_IDENTIFIER_FIELDS = (
    "participant_id",
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
    *(f"readings_{perspective}" for perspective in PERSPECTIVES),
)


class QuasiTable:
    """Every row's cells at every level of every quasi-identifier, worked out once, so that trying
    thousands of generalisations is table look-ups rather than formatting dates again."""

    def __init__(self, rows: list[dict[str, Any]], merged_insatser: frozenset[str]) -> None:
        self.rows = rows
        levels = {
            name: [Generalisation(**{name: level}, merged_insatser=merged_insatser) for level in range(count)]
            for name, count in LEVELS.items()
        }
        self.cells = [
            [[generalisation.part(name, row) for generalisation in at_levels] for name, at_levels in levels.items()]
            for row in rows
        ]

    def classes(self, generalisation: Generalisation, *, leaving_out: Set[int] = frozenset()) -> dict[tuple, set[int]]:
        """The persons behind each combination of quasi-identifiers, persons `leaving_out` aside."""
        levels = [getattr(generalisation, name) for name in LEVELS]
        found: dict[tuple, set[int]] = defaultdict(set)
        for row, cells in zip(self.rows, self.cells, strict=True):
            person = row["participant_id"]
            if person not in leaving_out:
                found[tuple(part[level] for part, level in zip(cells, levels, strict=True))].add(person)
        return found


def _merged_small_insatser(rows: list[dict[str, Any]]) -> frozenset[str]:
    """The insatser with fewer than K persons, and, while together they are still fewer than K, the
    next smallest: the insatser shown as MERGED_INSATS."""
    persons: dict[str, set[int]] = defaultdict(set)
    for row in rows:
        persons[row["insats__code"]].add(row["participant_id"])
    merged: set[str] = set()
    together: set[int] = set()
    for code in sorted(persons, key=lambda c: (len(persons[c]), c)):
        if len(persons[code]) >= K and (not merged or len(together) >= K):
            break
        merged.add(code)
        together |= persons[code]
    return frozenset(merged)


def generalisations(rows: list[dict[str, Any]], *, shape: str = "wide") -> list[Generalisation]:
    """Every combination of levels, least loss first (LOSS_PER_LEVEL; ties: finer dates first). In
    the long shape the readings stay exact: the rows show how many there are."""
    merged = _merged_small_insatser(rows)
    every = []
    for levels in product(*(range(count) for count in LEVELS.values())):
        named = dict(zip(LEVELS, levels, strict=True))
        if shape == "long" and named["readings"]:
            continue
        every.append(Generalisation(**named, merged_insatser=merged if named["insats"] == 1 else frozenset()))
    return sorted(
        every, key=lambda g: (sum(LOSS_PER_LEVEL[name] * getattr(g, name) for name in LOSS_PER_LEVEL), g.dates)
    )


def suppression_needed(
    rows: list[dict[str, Any]], generalisation: Generalisation, table: QuasiTable | None = None
) -> frozenset[int] | None:
    """The persons whose quasi-identifiers must all be left out for every combination to have at
    least K persons (they form one group of at least K themselves); None above SUPPRESSION_LIMIT."""
    table = table or QuasiTable(rows, generalisation.merged_insatser)
    persons = len({row["participant_id"] for row in rows})
    suppressed: set[int] = set()
    while True:
        groups = table.classes(generalisation, leaving_out=suppressed)
        small = {person for members in groups.values() if len(members) < K for person in members}
        if small:
            suppressed |= small
        elif suppressed and len(suppressed) < K:  # the left-out group needs K persons too
            suppressed |= min(groups.values(), key=len)
        else:
            return frozenset(suppressed)
        if len(suppressed) > SUPPRESSION_LIMIT * persons:
            return None


def anonymity_plan(enrolments: QuerySet[Enrolment], *, shape: str = "wide") -> AnonymityPlan:
    """The generalisation with the least loss under which every combination of quasi-identifiers of
    these enrolments is shared by at least K persons, leaving out every quasi-identifier of at most
    SUPPRESSION_LIMIT of the persons (in the long shape, whose rows show the number of readings,
    those persons leave the file instead). Raises NotAnonymous below K persons or when no
    generalisation reaches K."""
    rows = list(enrolments.values(*QUASI_IDENTIFIER_FIELDS))
    persons = len({row["participant_id"] for row in rows})
    if not rows:  # an empty file points out no one
        return AnonymityPlan(FINEST, 0, 0)
    if persons < K:
        raise NotAnonymous(
            f"Förbundet har färre än {K} personer med forskningssamtycke: en analysexport skulle kunna peka ut någon."
        )
    table = QuasiTable(rows, _merged_small_insatser(rows))
    for generalisation in generalisations(rows, shape=shape):
        suppressed = suppression_needed(rows, generalisation, table)
        if suppressed is not None:
            plan = AnonymityPlan(generalisation, persons, 0, suppressed, suppressed_leave=shape == "long")
            kept = [row for row in rows if not (plan.suppressed_leave and row["participant_id"] in suppressed)]
            smallest = min(len(members) for members in _plan_classes(kept, plan).values())
            return replace(plan, smallest_class=smallest)
    raise NotAnonymous(
        "Antalet mätningar skiljer sig för mycket mellan förbundets personer för att den långa formen ska "
        f"kunna delas av minst {K} personer i varje grupp. Välj den breda formen, där antalet kan grovindelas."
    )


def _plan_classes(rows: list[dict[str, Any]], plan: AnonymityPlan) -> dict[tuple, set[int]]:
    found: dict[tuple, set[int]] = defaultdict(set)
    for row in rows:
        found[plan.quasi_identifiers(row)].add(row["participant_id"])
    return found


# --- Rows -------------------------------------------------------------------------------------------


def export_scope(filters: ReportFilter) -> ReportFilter:
    """An analysis export always covers the whole förbund (every insats the user reaches in it) and
    every year: a file per insats or period could be subtracted from another, and the difference
    would say what the other file generalised (which insats, which year a row belongs to). The
    evaluator filters the file."""
    return replace(filters, date_from=date(1900, 1, 1), date_to=date(9999, 12, 31), kon="", age_band="")


def _consenting_enrolments(filters: ReportFilter) -> QuerySet[Enrolment]:
    return (
        Enrolment.objects.filter(insats_id__in=filters.insats_ids, start_date__lte=filters.date_to)
        .exclude(end_date__lt=filters.date_from)
        .exclude(exit_reason__excluded_from_reports=True)
        .alias(research=consent_granted_subquery(purpose=ConsentPurpose.RESEARCH))
        .filter(research=True)
    )


def _readings(enrolment_ids: Any) -> QuerySet[DimensionScore]:
    return DimensionScore.objects.filter(
        session__enrolment_id__in=enrolment_ids, session__status="submitted", session__consent_withdrawn=False
    )


def enrolments_in_file(filters: ReportFilter, shape: str) -> QuerySet[Enrolment]:
    """The enrolments that get rows: all consenting ones (wide), those with a reading (long), with
    their number of readings per perspective (readings_self, …)."""
    enrolments = _consenting_enrolments(filters).annotate(
        **{
            f"readings_{perspective}": Count(
                "assessment_sessions",
                filter=Q(
                    assessment_sessions__perspective=perspective,
                    assessment_sessions__status="submitted",
                    assessment_sessions__consent_withdrawn=False,
                ),
                distinct=True,
            )
            for perspective in PERSPECTIVES
        }
    )
    if shape == "long":
        readings = DimensionScore.objects.filter(
            session__enrolment_id=OuterRef("pk"), session__status="submitted", session__consent_withdrawn=False
        )
        enrolments = enrolments.filter(Exists(readings))
    return enrolments


def _background(key: str, row: dict[str, Any], plan: AnonymityPlan) -> list[Any]:
    return [
        export_pseudonym(key, "person", row["participant_id"]),
        export_pseudonym(key, "inskrivning", row["id"]),
        row["insats__forbund__code"],
        *plan.background(row),
    ]


BACKGROUND_FIELDS = ["id", "insats__forbund__code", *QUASI_IDENTIFIER_FIELDS]
# The long rows show the readings themselves: their background needs no count of them.
LONG_BACKGROUND_FIELDS = [name for name in BACKGROUND_FIELDS if not name.startswith("readings_")]


EXPORT_ENROLMENTS_PER_QUERY = 1000


def _scores_in_file_order(enrolment_ids: Iterable[int]) -> Iterator[tuple[Any, ...]]:
    """The readings' scores of these enrolments in the long file's order, each with its reading's
    local day (converted by PostgreSQL: AT TIME ZONE)."""
    return (
        _readings(enrolment_ids)
        .order_by("session__enrolment_id", "session__occurred_at", "session_id", "dimension__order")
        .values_list(
            "session__enrolment_id",
            "session_id",
            # A date already: the wrapper leaves out TruncDate's per-row conversion, which is for
            # databases that return a datetime (about 7 % of the export's CPU at M).
            ExpressionWrapper(TruncDate("session__occurred_at"), output_field=DateField()),
            "session__perspective",
            "session__version__instrument__code",
            "session__version__number",
            "dimension__code",
            "score",
            "answered",
            "items",
        )
        .iterator(chunk_size=5000)
    )


def long_rows(filters: ReportFilter, key: str, plan: AnonymityPlan) -> Iterator[list[Any]]:
    """One row per reading and dimension, with the enrolment's background. Streamed a thousand
    enrolments at a time, each thousand's scores in one query that sorts only its own rows, so the
    first row leaves at once (docs/performance.md, measure 5); the background cells are worked out
    once per enrolment and the reading's cells once per reading."""
    yield LONG_COLUMNS
    enrolments = (
        _consenting_enrolments(filters)
        .order_by("id")
        .values(*LONG_BACKGROUND_FIELDS)
        .iterator(chunk_size=EXPORT_ENROLMENTS_PER_QUERY)
    )
    while batch := list(islice(enrolments, EXPORT_ENROLMENTS_PER_QUERY)):
        background = {
            row["id"]: (_background(key, row, plan), row["participant_id"])
            for row in batch
            if not (plan.suppressed_leave and row["participant_id"] in plan.suppressed)
        }
        reading_id, reading = None, ()
        for enrolment_id, session_id, day, *about, dimension, score, answered, items in _scores_in_file_order(
            list(background)
        ):
            if session_id != reading_id:  # a reading's rows come together: its cells once
                cells, participant_id = background[enrolment_id]
                reading_id, reading = session_id, (*cells, plan.period(participant_id, day), *about)
            yield [*reading, dimension, None if score is None else round(score, 4), answered, items]


def wide_rows(filters: ReportFilter, key: str, plan: AnonymityPlan) -> Iterator[list[Any]]:
    """One row per enrolment: background, then first, latest, change, n and classification per
    dimension and perspective."""
    enrolments = enrolments_in_file(filters, "wide")
    enrolment_ids = enrolments.values("pk")
    keys = sorted(
        set(Progression.objects.filter(enrolment__in=enrolment_ids).values_list("dimension_code", "perspective"))
    )
    measures = ["forsta", "senaste", "forandring", "antal", "rci", "klassning"]
    yield BACKGROUND + [f"{d}_{p}_{m}" for d, p in keys for m in measures]
    progression: dict[int, dict[tuple[str, str], Progression]] = {}
    for stored in Progression.objects.filter(enrolment__in=enrolment_ids).iterator(chunk_size=5000):
        progression.setdefault(stored.enrolment_id, {})[(stored.dimension_code, stored.perspective)] = stored
    for row in enrolments.values(*BACKGROUND_FIELDS).order_by("id").iterator(chunk_size=5000):
        cells = _background(key, row, plan)
        readings = dict(zip(PERSPECTIVES, plan.quasi_identifiers(row)[BACKGROUND_COUNT:], strict=True))
        own = progression.get(row["id"], {})
        for dimension_key in keys:
            p = own.get(dimension_key)
            cells += (
                [
                    round(p.first_score, 4),
                    round(p.latest_score, 4),
                    None if p.change is None else round(p.change, 4),
                    readings[dimension_key[1]],  # the perspective's readings, as generalised
                    None if p.rci is None else round(p.rci, 4),
                    p.classification,
                ]
                if p
                else [None] * 6
            )
        yield cells


def readme(*, filters: ReportFilter, shape: str, plan: AnonymityPlan, rows: int) -> list[str]:
    """What the file is and what was generalised: the LÄS MIG sheet (XLSX) or LASMIG.txt (CSV)."""
    return [
        f"Analysexport från Stegvis {timezone.localdate():%Y-%m-%d}: {filters.forbund.name}, alla insatser och alla år "
        "(en export gäller alltid hela förbundet, så att två exporter inte kan jämföras med varandra).",
        f"{'Lång form: en rad per mätning och område' if shape == 'long' else 'Bred form: en rad per inskrivning'}; "
        f"{rows} rader, {plan.persons} personer med forskningssamtycke.",
        "Personer (P-…) och inskrivningar (I-…) har pseudonymer som bara gäller i denna export.",
        f"k-anonymitet: varje kombination av {QUASI_IDENTIFIERS} delas av minst {K} personer "
        f"(den minsta gruppen i filen har {plan.smallest_class}). Det kontrollerades innan filen skrevs.",
        "Generaliserat i denna fil:",
        *(f"- {line}" for line in plan.describe()),
        "Inga namn, personnummer, kontaktuppgifter eller fritexter (mål, anledningar) ingår.",
        "Se docs/analysis-export.md för kolumnerna.",
    ]


def export_file(*, filters: ReportFilter, key: str, shape: str, file_format: str, stem: Path) -> Path:
    """Check k-anonymity (NotAnonymous if it cannot be reached), then write the file; its path."""
    filters = export_scope(filters)
    plan = anonymity_plan(enrolments_in_file(filters, shape), shape=shape)
    rows = (long_rows if shape == "long" else wide_rows)(filters, key, plan)

    def about(count: int) -> list[str]:
        return readme(filters=filters, shape=shape, plan=plan, rows=count)

    if file_format == "xlsx":
        return write_xlsx(rows, stem.with_suffix(".xlsx"), about)
    return write_zip(rows, stem.with_suffix(".zip"), about)


def write_xlsx(rows: Iterator[list[Any]], path: Path, about: Callable[[int], list[str]]) -> Path:
    """A Data sheet (write-only, streamed) and a LÄS MIG sheet with about(number of data rows)."""
    book = Workbook(write_only=True)
    data = book.create_sheet("Data")
    count = -1
    for row in rows:
        data.append(xlsx_row(data, row))
        count += 1
    sheet = book.create_sheet("LÄS MIG")
    for line in about(count):
        sheet.append(xlsx_row(sheet, [line]))
    book.save(path)
    return path


def write_zip(rows: Iterator[list[Any]], path: Path, about: Callable[[int], list[str]]) -> Path:
    """A ZIP with the rows as CSV (streamed into it) and LASMIG.txt with about(number of data rows)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with (
            archive.open(f"{path.stem}.csv", "w", force_zip64=True) as raw,
            io.TextIOWrapper(raw, encoding="utf-8", newline="") as handle,
        ):
            count = write_csv(rows, handle)
        archive.writestr("LASMIG.txt", "\n".join(about(count)) + "\n")
    return path


def write_csv(rows: Iterator[list[Any]], handle: Any) -> int:
    """Write rows as CSV (semicolon) to an open text handle; returns the number of data rows."""
    count = -1
    writer = csv.writer(handle, delimiter=";")
    for row in rows:
        writer.writerow(csv_row(row))
        count += 1
    return count
