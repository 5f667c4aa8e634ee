from django import template

from config.numbers import swedish_number
from progression.reports.base import Table

register = template.Library()


@register.filter
def num(value: object) -> object:
    """Swedish number format for report cells: 1 903 500 and 11,75; hidden cells and text as they are."""
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return swedish_number(value)


@register.filter
def cell_kind(value: object) -> str:
    """ "num" for a figure (or a hidden one), "text" for words: numbers line up right, words left."""
    if value is None or value == "–" or (isinstance(value, int | float) and not isinstance(value, bool)):
        return "num"
    return "text"


@register.filter
def header_cells(table: Table) -> list[tuple[str, str]]:
    """Each column's heading with how its cells line up: "text" when it holds words, else "num"."""
    kinds = [
        "text" if any(cell_kind(row[index]) == "text" for row in table.rows if index < len(row)) else "num"
        for index in range(len(table.columns))
    ]
    return list(zip(table.columns, kinds, strict=True))


def _decimals(value: float) -> int:
    """The decimals a report value carries (at most two): 55.6 → 1, 61.0 → 0, 11.75 → 2."""
    return len(f"{value:.2f}".rstrip("0").split(".")[1])


@register.filter
def table_cells(table: Table) -> list[list[tuple[object, str]]]:
    """A report table's rows as shown: each cell's text and how it lines up ("num" or "text"), with
    the same number of decimals down a column (61,0 under 55,6, never 61), and at least one in every
    percent column (50,0 % beside 22,8 %)."""
    decimals = [
        max(
            (_decimals(row[index]) for row in table.rows if index < len(row) and isinstance(row[index], float)),
            default=0,
        )
        for index in range(len(table.columns))
    ]
    in_percent = ["%" in column for column in table.columns]
    decimals = [max(places, 1) if percent else places for places, percent in zip(decimals, in_percent, strict=True)]
    return [
        [
            (
                swedish_number(value, decimals[index]) if isinstance(value, float) else num(value),
                cell_kind(value),
            )
            for index, value in enumerate(row)
        ]
        for row in table.rows
    ]
