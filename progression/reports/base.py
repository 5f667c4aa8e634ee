"""Shapes shared by every report: tables for HTML/CSV/XLSX/PDF, and the context that protects
what leaves the organisation (progression/reports/disclosure.py)."""

from dataclasses import dataclass, field
from typing import Any

from progression.reports import disclosure
from progression.reports.disclosure import Cell
from progression.reports.filters import ReportFilter
from progression.reports.statistics import stable_round

# A kön table's columns: women, men, everyone else (annat kön, okänt kön, a volume registered
# without kön) and the total, so that the parts add up to the total in exact figures. Each column is
# a cell of its own (never a total minus its parts), protected like every other outside.
KON_PARTS = ("kvinna", "man", "annat")
KON_COLUMNS = [*KON_PARTS, "total"]
KON_LABELS = {"kvinna": "Kvinnor", "man": "Män", "annat": "Annat/okänt", "total": "Totalt"}


def kon_column(kon: str | None) -> str:
    """The column of a kön table a person of this kön is counted in."""
    return kon if kon in ("kvinna", "man") else "annat"


HIDDEN = "–"  # a figure not shown (disclosure.hidden_mark_note says why)


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""

    @property
    def has_figures(self) -> bool:
        """Whether any figure is other than 0 or hidden: a table of zeros is left off a page whose
        report has nothing to count (Report.empty_message)."""
        return any(
            isinstance(value, int | float) and not isinstance(value, bool) and value != 0
            for row in self.rows
            for value in row[1:]
        )

    @property
    def shows_hidden_mark(self) -> bool:
        """Whether a figure column shows "–" (a figure not shown), alone or in a text such as
        "– (n = 6 avslutade)", which a footnote then explains."""
        return any(
            value is None or (isinstance(value, str) and HIDDEN in value.split())
            for row in self.rows
            for value in row[1:]
        )


@dataclass
class Chart:
    kind: str  # "bar" or "radar"
    title: str
    labels: list[str]
    series: list[tuple[str, list[float | None]]]
    min_value: float = 0
    max_value: float = 100
    # Under the title on the page and in the PDF: what is counted, its unit and n, e.g. "Antal
    # avslut, n = 54. Kvinnor: fylld stapel, män: randig."
    caption: str = ""


@dataclass
class Report:
    name: str
    title: str
    filters: ReportFilter
    external: bool
    data: dict[str, Any]
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    definitions: list[str] = field(default_factory=list)
    # Whether the figures are frozen with a closed period or may still change (periods.py).
    period_status: dict[str, Any] = field(default_factory=dict)
    # When the selection has nothing to count: a sentence naming what is missing and for which
    # selection, which the page and the PDF show instead of its charts and its tables of zeros (a
    # table with figures, such as who was enrolled but not measured, still shows). Files and JSON
    # keep their shape, with the sentence added. Empty when there are figures.
    empty_message: str = ""

    @property
    def hidden_mark_note(self) -> str:
        """What "–" means in this report's tables (protected or exact figures)."""
        return disclosure.hidden_mark_note(external=self.external)

    def as_json(self) -> dict[str, Any]:
        return {
            "report": self.name,
            "title": self.title,
            "filters": self.filters.as_params(),
            "protected": self.external,
            "period_status": self.period_status,
            **self.data,
            "empty_message": self.empty_message,
            "definitions": self.definitions,
        }


@dataclass
class Context:
    """What a report is computed for: the filters, and whether it leaves the organisation. Every
    figure a report shows goes through count, mean or amount: exact inside, protected outside."""

    filters: ReportFilter
    external: bool

    def count(self, cell: Cell) -> int:
        return disclosure.published_count(cell) if self.external else cell.count

    def counts(self, cells: dict[Any, Cell]) -> dict[Any, int]:
        return {key: self.count(cell) for key, cell in cells.items()}

    def mean(self, cell: Cell, purpose: str, digits: int | None) -> float | None:
        """The mean of the cell's amount per row (rounded to `digits`, unless None); None without
        rows, and outside the organisation with too few."""
        if self.external:
            value = disclosure.published_mean(cell, purpose)
        else:
            value = cell.amount / cell.count if cell.count else None
        if value is None or digits is None:
            return value
        return stable_round(value, digits)

    def share(self, part: int | None, whole: int | None) -> float | None:
        """share(); outside the organisation none of a whole published below MINIMUM_FOR_MEANS (the
        rule for means): a share of a handful would read as exact, and a count of 1–4 is published
        as 0 or 5, so "100 %" of 5 may be 3 of 7 or point at one person."""
        if self.external and (whole or 0) < disclosure.MINIMUM_FOR_MEANS:
            return None
        return share(part, whole)

    def shares_summing_to_100(self, counts: dict[str, int], *, total: int) -> dict[str, float | None]:
        """shares_summing_to_100(); outside, none when the published parts sum to a handful or the
        published total of the same persons (shown beside them as n) is one: either would break
        the rule that a share needs at least MINIMUM_FOR_MEANS persons behind it."""
        if self.external and min(sum(counts.values()), total) < disclosure.MINIMUM_FOR_MEANS:
            return {key: None for key in counts}
        return shares_summing_to_100(counts)

    def target_met(self, part: int | None, whole: int | None, target: float | None) -> bool | None:
        """Whether the share part ÷ whole reaches the target (%). Outside the organisation the
        verdict is given only when every true count the published ones can stand for gives the same
        one (disclosure.possible_counts): a verdict the noise could turn is None, never a guess."""
        if target is None or part is None or not whole:
            return None
        if not self.external:
            return 100 * part / whole >= target
        part_low, part_high = disclosure.possible_counts(part)
        whole_low, whole_high = disclosure.possible_counts(whole)
        lowest = part_low / whole_high
        highest = min(1.0, part_high / max(whole_low, 1))
        if 100 * lowest >= target:
            return True
        if 100 * highest < target:
            return False
        return None

    def amount(self, cell: Cell, purpose: str) -> float | None:
        """The cell's summed amount; outside, perturbed, and None when its rows are too few."""
        return disclosure.published_amount(cell, purpose) if self.external else cell.amount


def share(part: int | None, whole: int | None) -> float | None:
    """Percent with one decimal, or None when either count is missing or the whole is zero. Outside
    the organisation both counts are published ones, and a part's noise may take it past the
    whole's: the share is then 100 %."""
    if part is None or not whole:
        return None
    return round(100 * min(part, whole) / whole, 1)


def shares_summing_to_100(counts: dict[str, int]) -> dict[str, float | None]:
    """Each count's percent of their sum, with one decimal, adding up to exactly 100.0 (largest
    remainder), so a table never shows 100.1 %. Outside the organisation the counts are the published
    ones, whose sum may differ from the published total by the noise: the shares still add up."""
    whole = sum(counts.values())
    if not whole:
        return {key: None for key in counts}
    tenths = {key: 1000 * value / whole for key, value in counts.items()}
    floors = {key: int(value) for key, value in tenths.items()}
    leftover = 1000 - sum(floors.values())
    for key in sorted(tenths, key=lambda k: tenths[k] - floors[k], reverse=True)[:leftover]:
        floors[key] += 1
    return {key: floors[key] / 10 for key in counts}


def visible(value: Any) -> Any:
    return HIDDEN if value is None else value


def selection_words(filters: ReportFilter) -> str:
    """The selection in words for a sentence: "Jonsbo försteg, kvinnor, 25–34 år"; the förbund's name
    when every insats is chosen."""
    if filters.all_insatser or not filters.insatser:
        parts = [filters.forbund.name]
    else:
        parts = [", ".join(insats.name for insats in filters.insatser)]
    return ", ".join([*parts, *filters.person_words()])


def empty_sentence(ctx: Context, nothing: str, why: str = "") -> str:
    """ "Inga avslut under perioden 2026-01-01–2026-12-31 för Jonsbo försteg.", then `why` (what the
    report counts). Outside the organisation a count of 1–4 may be published as 0: the sentence says
    so rather than claim there were none."""
    f = ctx.filters
    sentence = f"{nothing} under perioden {f.date_from:%Y-%m-%d}–{f.date_to:%Y-%m-%d} för {selection_words(f)}."
    if why:
        sentence += f" {why}"
    if ctx.external:
        sentence += " (Skyddade tal: 1–4 visas som 0, så några få kan finnas.)"
    return sentence
