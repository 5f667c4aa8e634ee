"""Reports as files: CSV, XLSX and the PDF report pack. Every writer takes a Report built by
registry.build_report, so the protection of external figures is the same in every format."""

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from openpyxl import Workbook

from progression.reports import disclosure
from progression.reports.base import Chart, Report, visible
from progression.spreadsheets import csv_cell, xlsx_row
from surveys import charts as svg


def csv_rows(report: Report) -> Iterator[list[Any]]:
    """Rows for a CSV or XLSX file: a heading line per table, its columns, rows (a figure not shown
    as "–", as on the page) and notes, the one explaining "–" too (or the sentence that says the
    selection is empty); then the report's definitions and caveats."""
    yield [report.title, report.filters.describe(), disclosure.SHORT_NOTE if report.external else "Exakta tal"]
    if report.empty_message:
        yield []
        yield [report.empty_message]
    for table in report.tables:
        yield []
        yield [table.title]
        yield table.columns
        for row in table.rows:
            yield [visible(value) for value in row]
        if table.note:
            yield [table.note]
        if table.shows_hidden_mark:
            yield [report.hidden_mark_note]
    yield []
    for line in report.definitions:  # the caveats, the norm version, frozen or preliminary
        yield [line]


def csv_text(report: Report, *, byte_order_mark: bool = True) -> Iterator[str]:
    """Stream CSV as Swedish Excel reads it (semicolons, decimal commas) line by line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    if byte_order_mark:
        yield "\ufeff"  # so that Excel reads UTF-8
    for row in csv_rows(report):
        writer.writerow([csv_cell(value, decimal_comma=True) for value in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)


def write_xlsx(report: Report, path: Path) -> None:
    """One sheet per report, tables one under the other, numbers as numbers; write-only mode keeps
    memory flat."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(report.title[:31])
    for row in csv_rows(report):
        sheet.append(xlsx_row(sheet, row))
    book.save(path)


def chart_svg(chart: Chart) -> str:
    if chart.kind == "radar":
        return svg.radar_svg(
            title=chart.title,
            axes=chart.labels,
            series=[svg.Series(name, values) for name, values in chart.series],
            min_value=chart.min_value,
            max_value=chart.max_value,
        )
    return svg.bar_svg(
        title=chart.title,
        labels=chart.labels,
        series=[svg.Series(name, values) for name, values in chart.series],
        max_value=chart.max_value or None,
    )


def chart_figure(chart: Chart, *, external: bool) -> SafeString:
    """A chart as the page and the PDF show it: its title and caption, then the drawing; a chart with
    a value not shown says what its "–" (a gap in a radar or a line) means."""
    hidden = any(value is None for _name, values in chart.series for value in values)
    note = disclosure.hidden_mark_note(external=external) if hidden else ""
    return render_to_string("progression/_chart.html", {"chart": chart, "svg": chart_svg(chart), "hidden_note": note})


def write_pdf(appendix: Any, path: Path) -> None:
    """The report pack (or one report) laid out like the förbund's annual-report appendix (appendix.py)."""
    from weasyprint import HTML

    html = render_to_string(
        "progression/appendix.html",
        {
            "appendix": appendix,
            "footnote": disclosure.FOOTNOTE,
            "short_note": disclosure.SHORT_NOTE,
            "hidden_note": disclosure.hidden_mark_note(external=appendix.external),
        },
    )
    HTML(string=html).write_pdf(path)
