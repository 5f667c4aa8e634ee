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
            cells,
            row_keys=["r"],
            col_keys=["kvinna", "man", "ovrigt", "total"],
            threshold=self.threshold,
            rows_add_up=False,
        )
        return {k: hidden_label(v, self.threshold) if ("r", k) in hidden else v for k, v in full.items()}

    def kon_table(self, rows: dict[str, dict[str, int]], *, total: str) -> dict[str, dict[str, int | str]]:
        """Lines of counts by kön whose line `total` is the sum of the others (e.g. age bands and all
        registrations): suppressed together, so that no hidden cell follows from the total line."""
        exact = {
            key: {"kvinna": c.get("kvinna", 0), "man": c.get("man", 0), "total": c.get("total", 0)}
            for key, c in rows.items()
        }
        if not self.external:
            return exact
        cells = {}
        for key, c in exact.items():
            cells.update(
                {
                    (key, "kvinna"): c["kvinna"],
                    (key, "man"): c["man"],
                    (key, "ovrigt"): c["total"] - c["kvinna"] - c["man"],
                    (key, "total"): c["total"],
                }
            )
        hidden = suppress_matrix(
            cells, row_keys=list(exact), col_keys=["kvinna", "man", "ovrigt", "total"], threshold=self.threshold
        )
        return {
            key: {k: hidden_label(v, self.threshold) if (key, k) in hidden else v for k, v in c.items()}
            for key, c in exact.items()
        }

    def matrix(
        self,
        cells: dict[tuple[str, str], int],
        row_keys: list[str],
        col_keys: list[str],
        *,
        rows_add_up: bool = True,
        cols_add_up: bool = True,
    ) -> dict[tuple[str, str], int | str]:
        """A table of counts whose last row and column are totals."""
        if not self.external:
            return dict(cells)
        hidden = suppress_matrix(
            cells,
            row_keys=row_keys,
            col_keys=col_keys,
            threshold=self.threshold,
            rows_add_up=rows_add_up,
            cols_add_up=cols_add_up,
        )
        return {key: hidden_label(value, self.threshold) if key in hidden else value for key, value in cells.items()}


def share(part: int | str, whole: int | str) -> float | None:
    """Percent with one decimal, or None when either count is hidden or the whole is zero."""
    if isinstance(part, str) or isinstance(whole, str) or not whole:
        return None
    return round(100 * part / whole, 1)


def shares_summing_to_100(counts: dict[str, int | str], whole: int | str) -> dict[str, float | None]:
    """Percent shares with one decimal that add up to exactly 100.0 (largest remainder), so a table
    never shows 100.1 %. Hidden counts get None."""
    if isinstance(whole, str) or not whole:
        return {key: None for key in counts}
    visible_counts = {key: value for key, value in counts.items() if not isinstance(value, str)}
    tenths = {key: 1000 * value / whole for key, value in visible_counts.items()}
    floors = {key: int(value) for key, value in tenths.items()}
    if len(visible_counts) == len(counts):
        leftover = 1000 - sum(floors.values())
        for key in sorted(tenths, key=lambda k: tenths[k] - floors[k], reverse=True)[:leftover]:
            floors[key] += 1
    else:
        floors = {key: round(value) for key, value in tenths.items()}
    return {key: (floors[key] / 10 if key in floors else None) for key in counts}


def visible(value: Any) -> Any:
    return "–" if value is None else value
