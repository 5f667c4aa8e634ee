"""Reports as files: CSV, XLSX and the PDF report pack. Every writer takes a Report built by
registry.build_report, so the protection of external figures is the same in every format."""

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.template.loader import render_to_string
from openpyxl import Workbook

from progression.reports import disclosure
from progression.reports.base import Chart, Report
from progression.spreadsheets import csv_cell, xlsx_row
from surveys import charts as svg


def csv_rows(report: Report) -> Iterator[list[Any]]:
    """Rows for a CSV or XLSX file: a heading line per table, its columns, rows and note; then the
    report's definitions and caveats."""
    yield [report.title, report.filters.describe(), disclosure.SHORT_NOTE if report.external else "Exakta tal"]
    for table in report.tables:
        yield []
        yield [table.title]
        yield table.columns
        for row in table.rows:
            yield ["" if value is None else value for value in row]
        if table.note:
            yield [table.note]
    yield []
    for line in report.definitions:  # the caveats, the norm version, frozen or preliminary
        yield [line]


def csv_text(report: Report, *, byte_order_mark: bool = True) -> Iterator[str]:
    """Stream CSV (semicolon, as Swedish Excel reads it) line by line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    if byte_order_mark:
        yield "\ufeff"  # so that Excel reads UTF-8
    for row in csv_rows(report):
        writer.writerow([csv_cell(value) for value in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)


def write_xlsx(report: Report, path: Path) -> None:
    """One sheet per report, tables one under the other; write-only mode keeps memory flat."""
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


def write_pdf(*, reports: list[Report], texts: Any, title: str, subtitle: str, path: Path) -> None:
    """The report pack laid out like the förbund's annual-report appendix."""
    from weasyprint import HTML

    sections = [{"report": r, "charts": [chart_svg(c) for c in r.charts]} for r in reports]
    html = render_to_string(
        "progression/report_pack.html",
        {
            "title": title,
            "subtitle": subtitle,
            "texts": texts,
            "sections": sections,
            "external": reports[0].external if reports else True,
        },
    )
    HTML(string=html).write_pdf(path)
