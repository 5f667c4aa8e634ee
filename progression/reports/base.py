"""Shapes shared by every report: tables for HTML/CSV/XLSX/PDF, and the context that protects
what leaves the organisation (progression/reports/disclosure.py)."""

from dataclasses import dataclass, field
from typing import Any

from progression.reports import disclosure
from progression.reports.disclosure import Cell
from progression.reports.filters import ReportFilter

KON_COLUMNS = ["kvinna", "man", "total"]
KON_LABELS = {"kvinna": "Kvinnor", "man": "Män", "total": "Totalt"}


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""


@dataclass
class Chart:
    kind: str  # "bar" or "radar"
    title: str
    labels: list[str]
    series: list[tuple[str, list[float | None]]]
    min_value: float = 0
    max_value: float = 100


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

    def as_json(self) -> dict[str, Any]:
        return {
            "report": self.name,
            "title": self.title,
            "filters": self.filters.as_params(),
            "protected": self.external,
            "period_status": self.period_status,
            **self.data,
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
        return round(value, digits)

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
    return "–" if value is None else value
