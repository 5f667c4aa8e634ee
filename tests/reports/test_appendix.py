"""The PDF report pack as a förbund's annual-report appendix (progression/reports/appendix.py): the
template's order, nothing printed empty, and a PDF a board can read (header, page numbers, contents,
every "–" explained on its page)."""

import re
import subprocess
from datetime import date as D
from pathlib import Path

import pytest

from participants.models import InsatsPeriod
from progression.models import ReportText
from progression.reports import appendix, rendering
from progression.reports.base import Table
from progression.reports.filters import parse_filter
from progression.templatetags.report_tags import table_cells
from tests.factories import InsatsFactory
from tests.reports.helpers import PDFTOTEXT, query


def _filters(user, *, external: bool, year: int = 2025):  # noqa: ANN001, ANN202
    params = query(forbund="sco", period="helar", ar=str(year), extern="1" if external else "0")
    return parse_filter(user=user, params=params, default_year=year)


def _texts(insats, **fields: str) -> ReportText:  # noqa: ANN001
    return ReportText.objects.create(insats=insats, period_start=D(2025, 1, 1), period_end=D(2025, 12, 31), **fields)


def _pages(path: Path) -> list[str]:
    text = subprocess.run([PDFTOTEXT, "-layout", str(path), "-"], capture_output=True, check=True, text=True).stdout
    return text.split("\f")[:-1]


@pytest.mark.django_db
def test_the_summary_comes_first_then_the_forbund_then_one_spread_per_insats_in_the_template_order(
    figures, volume_data
):
    w = figures.world
    _texts(
        w.jonsbo,
        framtid="Vi fortsätter 2026.",
        malgrupp="Unga vuxna långt från arbete.",
        kontakt="Anna Andersson, verksamhetsledare",
        syfte="Att pröva arbete i skogen.",
        bakgrund="Startade 2019.",
        mal="Fler i arbete.",
        maluppfyllelse="Målet för avslut nåddes inte.",
    )
    pack = appendix.build_appendix(_filters(w.coordinator_sco, external=False))

    assert [block.heading for block in pack.summary] == ["Förbundet i sammandrag"]
    summary = {table.title: table for table in pack.summary[0].tables}
    assert list(summary) == ["Förbundet i siffror", "Insatserna", "Målmatris"]
    # Jonsbo's 2025 target: at least 75 % of those who ended to work, studies or job seeking; 5 of 7 did.
    jonsbo_goals = [row for row in summary["Målmatris"].rows if row[0] == "Jonsbo försteg"]
    assert jonsbo_goals[0][1] == "Till arbete, studier eller aktivt arbetssökande (andel av avslutade)"
    assert jonsbo_goals[0][3] == "minst\u00a075\u00a0%"
    assert jonsbo_goals[0][2] == "71,4\u00a0% (5 av 7 avslutade)"
    assert jonsbo_goals[0][4] == "Ej uppfyllt"
    assert jonsbo_goals[1][2:] == ["14,3\u00a0% (1 av 7 avslutade)", "minst\u00a010\u00a0%", "Uppfyllt"]

    assert [block.heading for block in pack.forbund_blocks][:3] == [
        "Deltagarflöde",
        "Avslut",
        "Försörjning före och efter",
    ]
    spreads = {spread.name: spread for spread in pack.spreads}
    assert list(spreads) == ["Backaberg", "Jonsbo försteg", "SIP-samordning"]  # the volume insats has its volumes
    jonsbo = [block.heading for block in spreads["Jonsbo försteg"].blocks]
    assert jonsbo[:4] == ["Om insatsen", "Måluppfyllelse", "Deltagarflöde", "Avslut"]
    assert jonsbo[-1] == "Ekonomi och framtid"
    about = spreads["Jonsbo försteg"].blocks[0]
    assert [heading for heading, _ in about.texts] == ["Kontakt", "Bakgrund", "Mål", "Syfte", "Målgrupp"]
    # Ekonomiskt utfall is not written: left out, not printed empty.
    assert spreads["Jonsbo försteg"].blocks[-1].texts == [("Framtid", "Vi fortsätter 2026.")]
    assert spreads["Jonsbo försteg"].blocks[1].texts == [("Måluppfyllelse", "Målet för avslut nåddes inte.")]
    # Backaberg wrote nothing: its spread starts with its figures.
    assert [block.heading for block in spreads["Backaberg"].blocks][:2] == ["Måluppfyllelse", "Deltagarflöde"]
    assert [heading for heading, _, _ in pack.contents][:3] == [
        "Förbundet i sammandrag",
        "Förbundets rapporter",
        "Deltagarflöde",
    ]


@pytest.mark.django_db
def test_tables_of_zeros_and_sections_without_text_are_left_out(figures):
    w = figures.world
    pack = appendix.build_appendix(_filters(w.coordinator_sco, external=False))
    for spread in pack.spreads:
        for block in spread.blocks:
            assert block.tables or block.texts, (spread.name, block.heading)
            for table in block.tables:
                numbers = [v for row in table.rows for v in row[1:] if isinstance(v, int | float)]
                assert any(numbers) or any(isinstance(v, str) for row in table.rows for v in row[1:]), table.title


@pytest.mark.django_db
def test_an_insats_without_a_spread_is_named_under_the_contents_with_the_reason(figures, tmp_path):
    w = figures.world
    InsatsFactory(code="tomma", name="Tomma verkstaden", forbund=w.sco)
    pack = appendix.build_appendix(_filters(w.coordinator_sco, external=True))
    assert "Tomma verkstaden" not in {spread.name for spread in pack.spreads}
    assert pack.left_out.startswith("Utan egen redovisning: ")
    assert "Tomma verkstaden" in pack.left_out and "visas som 0" in pack.left_out
    for spread in pack.spreads:
        assert spread.name not in pack.left_out
    if PDFTOTEXT is None:
        pytest.skip("pdftotext (poppler-utils) saknas")
    rendering.write_pdf(pack, tmp_path / "bilaga.pdf")
    assert "Tomma verkstaden" in " ".join(_pages(tmp_path / "bilaga.pdf")[0].split())


@pytest.mark.django_db
def test_a_year_without_data_gives_one_page_that_says_so(figures, tmp_path):
    pack = appendix.build_appendix(_filters(figures.world.coordinator_sco, external=True, year=2020))
    assert not pack.summary and not pack.forbund_blocks and not pack.spreads
    assert "Inga deltagare, enkätsvar eller texter" in pack.empty_message
    if PDFTOTEXT is None:
        pytest.skip("pdftotext (poppler-utils) saknas")
    rendering.write_pdf(pack, tmp_path / "tom.pdf")
    pages = _pages(tmp_path / "tom.pdf")
    assert len(pages) == 1
    assert "Helår 2020" in pages[0] and "Inga deltagare, enkätsvar eller texter" in " ".join(pages[0].split())


@pytest.mark.django_db
def test_the_pdf_has_header_page_numbers_contents_and_explains_every_dash_on_its_page(figures, tmp_path):
    if PDFTOTEXT is None:
        pytest.skip("pdftotext (poppler-utils) saknas")
    w = figures.world
    InsatsPeriod.objects.filter(insats=w.jonsbo, period_start=D(2025, 1, 1)).update(target_survey_positive_pct=80)
    pack = appendix.build_appendix(_filters(w.coordinator_sco, external=True))
    rendering.write_pdf(pack, tmp_path / "bilaga.pdf")
    pages = _pages(tmp_path / "bilaga.pdf")

    assert len(pages) > 3
    for number, page in enumerate(pages, 1):
        assert w.sco.name in page.splitlines()[0], number
        assert f"Sida {number} av {len(pages)}" in page, number
        assert "Skyddade tal (±2, inga 1–4)" in page, number
        if number > 1:
            assert "Helår 2025" in page, number
        # A "–" standing alone is a table cell not shown; its explanation is on the same page.
        if re.search(r"(?<!\S)–(?!\S)", page):
            assert "– = visas inte" in page, (number, page)

    # The contents point at the page where the insats' spread starts.
    contents = {
        match["title"].strip(): int(match["page"])
        for match in re.finditer(r"^\s*(?P<title>\S[^.\n]*?)\s*(?:\. ?)+\s*(?P<page>\d+)\s*$", pages[0], re.M)
    }
    first_lines = [line.strip() for line in pages[contents["Jonsbo försteg"] - 1].splitlines()[1:] if line.strip()]
    assert first_lines[0] == "Jonsbo försteg"
    assert contents["Förbundet i sammandrag"] == 2


def test_a_share_not_shown_beside_its_n_is_explained_like_a_lone_dash():
    hidden_share = Table(
        "Nyckeltal mot mål",
        ["Mått", "Utfall", "Mål", "Bedömning"],
        [
            [
                "Till arbete (andel av avslutade)",
                "–\u00a0(n\u00a0=\u00a06 avslutade)",
                "minst\u00a075\u00a0%",
                "Kan inte avgöras",
            ]
        ],
    )
    shown_share = Table(
        "Nyckeltal mot mål",
        ["Mått", "Utfall", "Mål", "Bedömning"],
        [
            [
                "Till arbete (andel av avslutade)",
                "83,3\u00a0% (n\u00a0=\u00a06 avslutade)",
                "minst\u00a075\u00a0%",
                "Uppfyllt",
            ]
        ],
    )
    assert hidden_share.shows_hidden_mark
    assert not shown_share.shows_hidden_mark


def test_a_column_keeps_its_decimals_and_words_line_up_left():
    table = Table(
        "Medel", ["", "Poäng", "Antal"], [["Hälsa", 61.0, 12], ["Samarbete", 55.6, 1903500], ["Vardag", None, 0]]
    )
    assert table_cells(table) == [
        [("Hälsa", "text"), ("61,0", "num"), ("12", "num")],
        [("Samarbete", "text"), ("55,6", "num"), ("1\u00a0903\u00a0500", "num")],
        [("Vardag", "text"), ("–", "num"), ("0", "num")],
    ]


@pytest.mark.django_db
def test_a_protected_verdict_is_given_only_where_the_noise_cannot_turn_it(figures):
    from progression.reports.base import Context

    filters = _filters(figures.world.coordinator_sco, external=True)
    outside, inside = Context(filters, external=True), Context(filters, external=False)
    assert inside.target_met(1, 2, 40) is True  # exact: 1 of 2 is 50 %
    assert outside.target_met(5, 5, 40) is None  # 5 of 5 published may be 1 of 7
    assert outside.target_met(20, 21, 40) is True  # at worst 18 of 23
    assert outside.target_met(0, 20, 40) is False  # at best 4 of 18
    assert outside.target_met(9, 13, 75) is None  # 69 % published, up to 11 of 11 true
    # A share of a handful is not published (the rule for means); six or more is.
    assert outside.share(5, 5) is None and inside.share(5, 5) == 100.0
    assert outside.share(5, 6) == 83.3
    assert outside.shares_summing_to_100({"a": 5, "b": 0}, total=7) == {"a": None, "b": None}
    # Parts that sum to six or more beside a published total of five (the n shown) are not enough.
    assert outside.shares_summing_to_100({"a": 5, "b": 5}, total=5) == {"a": None, "b": None}
    assert outside.shares_summing_to_100({"a": 5, "b": 5}, total=6) == {"a": 50.0, "b": 50.0}
    assert inside.shares_summing_to_100({"a": 1, "b": 1}, total=2) == {"a": 50.0, "b": 50.0}
