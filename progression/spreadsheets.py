"""Spreadsheet safety and number format for every CSV and XLSX Stegvis writes (reports, analysis
exports).

A text cell that starts with = + - @, a tab or a carriage return is a formula to Excel and
LibreOffice (CSV injection, OWASP): a volume category "=HYPERLINK(…)" would become a live link. Such
text is written as text: prefixed with ' in CSV (the convention spreadsheet programs show as text),
as a string cell in XLSX. Numbers stay numbers, negative ones included.

Report CSV files are read by Swedish Excel (semicolons, decimal commas): their numbers are written
66,7 and 1903500 (no thousands separator, so that Excel reads a number and not text). XLSX cells are
numbers of their own and need no format."""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def csv_number(value: float | int | Decimal) -> str:
    """A number as Swedish Excel reads it from a CSV file: 66,7, -3,5, 1903500, 100 (a hyphen-minus:
    Excel does not read U+2212 as a minus sign)."""
    if isinstance(value, int):
        return str(value)
    text = f"{value:.10f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text.replace(".", ",")


def csv_cell(value: Any, *, decimal_comma: bool = False) -> Any:
    """A value for csv.writer: empty for None, risky text quoted as text with a leading '; with
    decimal_comma (report files), numbers with a decimal comma."""
    if value is None:
        return ""
    if decimal_comma and is_number(value):
        return csv_number(value)
    return "'" + value if is_formula_like(value) else value


def csv_row(values: Iterable[Any]) -> list[Any]:
    """csv_cell of every value, without decimal commas (analysis files): one pass, as fast as a
    row of millions may need. None stays None: csv.writer writes it as an empty cell."""
    return ["'" + v if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v for v in values]


def xlsx_row(sheet: WriteOnlyWorksheet, values: Iterable[Any]) -> list[Any]:
    """Cells for sheet.append: numbers as numbers, risky text as a string cell (never a formula)."""
    row: list[Any] = []
    for value in values:
        if is_formula_like(value):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            row.append(cell)
        else:
            row.append("" if value is None else value)
    return row
