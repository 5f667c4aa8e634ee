"""Shapes shared by every report: tables for HTML/CSV/XLSX/PDF, and the context that suppresses."""

from dataclasses import dataclass, field
from typing import Any

from progression.reports.filters import ReportFilter
from progression.reports.suppression import DEFAULT_THRESHOLD, hidden_label, suppress_matrix

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

    def as_json(self) -> dict[str, Any]:
        return {
            "report": self.name,
            "title": self.title,
            "filters": self.filters.as_params(),
            "suppressed": self.external,
            **self.data,
        }


@dataclass
class Context:
    filters: ReportFilter
    external: bool
    threshold: int = DEFAULT_THRESHOLD

    def kon_counts(self, counts: dict[str, int]) -> dict[str, int | str]:
        """{"kvinna", "man", "total"} with the implicit other/unknown cell taken into account."""
        full = {"kvinna": counts.get("kvinna", 0), "man": counts.get("man", 0), "total": counts.get("total", 0)}
        if not self.external:
            return full
        other = full["total"] - full["kvinna"] - full["man"]
        cells = {
            ("r", "kvinna"): full["kvinna"],
            ("r", "man"): full["man"],
            ("r", "ovrigt"): other,
            ("r", "total"): full["total"],
        }
        hidden = suppress_matrix(
            cells, row_keys=["r"], col_keys=["kvinna", "man", "ovrigt", "total"], threshold=self.threshold
        )
        return {k: hidden_label(v, self.threshold) if ("r", k) in hidden else v for k, v in full.items()}

    def matrix(
        self, cells: dict[tuple[str, str], int], row_keys: list[str], col_keys: list[str]
    ) -> dict[tuple[str, str], int | str]:
        """A table of counts whose last row and column are totals."""
        if not self.external:
            return dict(cells)
        hidden = suppress_matrix(cells, row_keys=row_keys, col_keys=col_keys, threshold=self.threshold)
        return {key: hidden_label(value, self.threshold) if key in hidden else value for key, value in cells.items()}


def share(part: int | str, whole: int | str) -> float | None:
    """Percent with one decimal, or None when either count is hidden or the whole is zero."""
    if isinstance(part, str) or isinstance(whole, str) or not whole:
        return None
    return round(100 * part / whole, 1)


def visible(value: Any) -> Any:
    return "–" if value is None else value
