"""No cell of a CSV or XLSX file Stegvis writes is a formula: text starting with = + - @, a tab or a
carriage return is written as text."""

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from participants.models import MeasurementMode, Role
from participants.services import volume_register
from progression import analysis
from progression.reports import rendering
from progression.reports.filters import ReportFilter
from progression.reports.registry import build_report
from progression.spreadsheets import csv_cell
from tests.factories import InsatsFactory, registry_world, user_with_role

pytestmark = pytest.mark.django_db

RISKY = ['=HYPERLINK("https://example.invalid","klicka")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


@pytest.fixture
def volumes_report():
    world = registry_world()
    sip = InsatsFactory(forbund=world.sco, code="sip", name="SIP", measurement_mode=MeasurementMode.VOLUME)
    registrar = user_with_role(Role.MENTOR, insats=sip, username="sip-samordnare")
    for category in RISKY:
        volume_register(
            insats=sip,
            period_start=date(2026, 1, 1),
            period_end=date(2026, 4, 30),
            category=category,
            count=7,
            registered_by=registrar,
        )
    filters = ReportFilter(forbund=world.sco, insatser=(sip,), date_from=date(2026, 1, 1), date_to=date(2026, 12, 31))
    return build_report("volumes", filters=filters)


def test_csv_cells_that_would_be_formulas_are_written_as_text(volumes_report):
    text = "".join(rendering.csv_text(volumes_report))
    for risky in ("=HYPERLINK", "+1+1", "-2+3", "@SUM(A1)"):
        assert f"'{risky}" in text, risky
        assert f";{risky}" not in text, risky
    assert csv_cell(-3) == -3 and csv_cell("Jonsbo") == "Jonsbo" and csv_cell(None) == ""


def test_xlsx_cells_that_would_be_formulas_are_strings(volumes_report, tmp_path):
    path = tmp_path / "volymer.xlsx"
    rendering.write_xlsx(volumes_report, path)
    cells = [cell for row in load_workbook(path).active.iter_rows() for cell in row if cell.value is not None]
    risky = [cell for cell in cells if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@"))]
    assert {cell.value for cell in risky} >= {'=HYPERLINK("https://example.invalid","klicka")', "+1+1", "-2+3"}
    assert all(cell.data_type == "s" for cell in risky)
    assert not [cell for cell in cells if cell.data_type == "f"]


def test_the_analysis_export_writes_text_as_text(tmp_path):
    rows = iter([["kolumn", "tal"], ["=1+1", -4], ["@A1", 2.5]])
    analysis.write_xlsx(rows, tmp_path / "a.xlsx", lambda count: ["=LÄS MIG"])
    book = load_workbook(tmp_path / "a.xlsx")
    cells = {cell.value: cell.data_type for sheet in book.worksheets for row in sheet.iter_rows() for cell in row}
    assert cells["=1+1"] == "s" and cells["@A1"] == "s" and cells[-4] == "n" and cells["=LÄS MIG"] == "s"
    text = io.StringIO()
    analysis.write_csv(iter([["kolumn"], ["=1+1"]]), text)
    assert text.getvalue().splitlines()[1] == "'=1+1"
