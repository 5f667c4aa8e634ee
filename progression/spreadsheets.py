"""Spreadsheet safety for every CSV and XLSX Stegvis writes (reports, analysis exports).

A text cell that starts with = + - @, a tab or a carriage return is a formula to Excel and
LibreOffice (CSV injection, OWASP): a volume category "=HYPERLINK(…)" would become a live link. Such
text is written as text: prefixed with ' in CSV (the convention spreadsheet programs show as text),
as a string cell in XLSX. Numbers stay numbers, negative ones included."""

from collections.abc import Iterable
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value: Any) -> Any:
    """A value for csv.writer: empty for None, risky text quoted as text with a leading '."""
    if value is None:
        return ""
    return "'" + value if is_formula_like(value) else value


def xlsx_row(sheet: WriteOnlyWorksheet, values: Iterable[Any]) -> list[Any]:
    """Cells for sheet.append: risky text becomes a string cell, never a formula."""
    row: list[Any] = []
    for value in values:
        if is_formula_like(value):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            row.append(cell)
        else:
            row.append("" if value is None else value)
    return row
