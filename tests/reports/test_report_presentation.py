"""What a reader of a report sees: tables that add up (a column for annat/okänt kön), words instead of
codes, units, a sentence for an empty selection, "–" explained, Swedish numbers in CSV, numbers as
numbers in XLSX, and Swedish file names and export titles.

The data is tests/reports/conftest.py `figures` (p5 has kön annat) unless a test makes its own."""

import re
from datetime import date
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from participants.models import Enrolment, Participant
from participants.services import participant_create
from progression.models import Classification, ExportJob
from progression.reports import disclosure, rendering
from progression.reports.base import KON_PARTS
from progression.reports.filters import parse_filter
from progression.reports.registry import REPORTS, attachment_header, export_file_name
from tests.reports.helpers import build, csv_table_rows, enrol, html_tables, progression_row, query

pytestmark = pytest.mark.django_db

QUERY = "forbund=sco&from=2025-01-01&to=2025-12-31"
PARAMS = {"forbund": "sco", "from": "2025-01-01", "to": "2025-12-31"}
RECORD_KEY = 1234567


def kon_lines(report) -> list[dict]:  # noqa: ANN001
    """Every {kvinna, man, …, total} of a report's data, wherever it is."""
    found = []

    def walk(value) -> None:  # noqa: ANN001
        if isinstance(value, dict):
            if "kvinna" in value and "total" in value and isinstance(value["total"], int):
                found.append(value)
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(report.data)
    return found


class _VisibleText(HTMLParser):
    """The text a person reads on a page: no attributes, scripts, styles or the hidden <title> of a chart."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style", "title"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "title") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


# --- 1. Tables that add up ----------------------------------------------------------------------------------


def test_kon_tables_have_annat_and_the_parts_add_up_to_the_total(figures, volume_data):
    # one more participant of unknown kön, ended in the period with income before and after
    unknown = participant_create(forbund=figures.world.sco, kon="okant", birth_year=1980)
    enrol(unknown, figures.world.jonsbo, date(2025, 3, 1), end=date(2025, 9, 1), reason="arbete",
          before="forsorjningsstod", after="ingen_offentlig", education="gymnasial", years="2.0")  # fmt: skip
    user = figures.world.coordinator_sco
    for name in ("participant-flow", "exits", "background", "volumes"):
        report = build(user, name)
        lines = kon_lines(report)
        assert lines, name
        for line in lines:
            assert line["kvinna"] + line["man"] + line["annat"] == line["total"], (name, line)
        kon_tables = [table for table in report.tables if "Kvinnor" in table.columns]
        assert kon_tables and all("Annat/okänt" in table.columns for table in kon_tables), name
    flow = build(user, "participant-flow").data
    assert flow["registrations"] == {"kvinna": 7, "man": 6, "annat": 2, "total": 15}  # p5 (annat) and okänt
    assert build(user, "exits").data["by_reason"]["arbete"]["annat"] == 1
    assert build(user, "volumes").data["volumes"][0]["annat"] == 30  # pupils registered without kön

    by_kon = build(user, "income-sources", per_kon="1").data["by_kon"]
    assert sum(by_kon[kon]["n"] for kon in KON_PARTS) == build(user, "income-sources").data["n"] == 11
    for source in ("forsorjningsstod", "ingen_offentlig", "a_kassa"):
        for side in ("before", "after"):
            total = build(user, "income-sources").data["sources"][source][side]
            assert sum(by_kon[kon]["sources"][source][side] for kon in KON_PARTS) == total, (source, side)


def test_kon_charts_draw_annat_only_when_someone_is_in_it(figures, world):
    user = figures.world.coordinator_sco
    chart = build(user, "participant-flow").charts[0]
    assert [name for name, _values in chart.series] == ["Kvinnor", "Män", "Annat/okänt"]
    only_women = build(user, "participant-flow", kon="kvinna").charts[0]
    assert [name for name, _values in only_women.series] == ["Kvinnor", "Män"]
    ages = build(user, "background").charts[0]
    assert "Annat/okänt" in [name for name, _values in ages.series]


def test_annat_is_a_protected_cell_of_its_own_outside(figures):
    """Outside, annat is published like every cell (never 1–4), not total − kvinna − man of
    published numbers (which would give back the one person of kön annat, or a negative count)."""
    for name in ("participant-flow", "exits", "background"):
        for line in kon_lines(build(figures.world.coordinator_sco, name, external=True)):
            assert line["annat"] == 0 or line["annat"] >= disclosure.SMALLEST_PUBLISHED, (name, line)


# --- 2. Words, not codes ------------------------------------------------------------------------------------

CODES = [
    # exit reasons, income sources, education levels
    "arbetssokande", "fortsatt_rehab", "arbete_subventionerat", "forsorjningsstod", "sjukpenning_rehab",
    "ingen_offentlig", "a_kassa", "eftergymnasial_kort", "forgymnasial",
    # instruments, areas, questions, perspectives
    "nns-pagaende", "stegvis-progression", "halsa", "Halsa", "nns_1", "nns_4", "self", "mentor", "agreed",
    # report names and export kinds
    "participant-flow", "income-sources", "pdf-pack",
]  # fmt: skip


def test_no_code_reaches_a_page_or_a_csv_file(figures, survey_data, progression_data, volume_data, client):
    client.force_login(figures.world.coordinator_sco)
    pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(code) for code in CODES) + r")(?![\w-])")
    for name in REPORTS:
        for extra in ("", "&insats=jonsbo", "&per_kon=1", "&extern=1"):
            page = visible_text(client.get(f"/rapporter/{name}/?{QUERY}{extra}").content.decode())
            assert not pattern.findall(page), (name, extra, pattern.findall(page))
            csv = b"".join(client.get(f"/rapporter/{name}/csv/?{QUERY}{extra}").streaming_content).decode()
            assert not pattern.findall(csv), (name, extra, pattern.findall(csv))
    survey = build(figures.world.coordinator_sco, "survey", insats="jonsbo")
    assert survey.charts[0].title == "Andel positiva svar – Deltagarenkät, pågående deltagare"
    assert survey.charts[0].labels[:4] == ["Fråga 1", "Fråga 2", "Fråga 3", "Fråga 4"]
    assert survey.tables[0].rows[0][0] == "1. Får du stöd på ett sätt som är till stor nytta för dig?"


# --- 3. Units, and the dashboard's trend counts participants -----------------------------------------------


def test_the_dashboard_trend_counts_participants_not_participant_area_pairs(figures, progression_data, client):
    e = figures.e
    # Two more areas for two of Jonsbo's participants measured in 2025: still the same persons.
    for enrolment in (e.e1, e.e2):
        for area in ("arbete", "vardag"):
            progression_row(enrolment, progression_data, perspective="self", first=40, latest=70,
                            latest_on=date(2025, 6, 1), classification=Classification.IMPROVED, mid=True,
                            dimension=area)  # fmt: skip
    client.force_login(figures.world.coordinator_sco)

    html = client.get(f"/rapporter/?{QUERY}").content.decode()

    tables, _svg = html_tables(html)
    rows = {row[0]: row for row in tables[-1][1:]}
    # Jonsbo 2025, self-assessments: e1 e2 e3 e12 e15 (five persons), improved in some area: e1 e2 e3 e15;
    # 2026: e17. The anonymous a1 and the felregistrering e6 count nowhere.
    trend = re.sub(r"\s+", " ", rows["Jonsbo försteg"][-1])
    assert trend == "2025: 4 av 5 deltagare 2026: 1 av 1 deltagare"
    assert tables[-1][0][-1] == (
        "Tillförlitligt förbättrade inom minst ett område, av deltagarna med minst två självskattningar, "
        "per kalenderår (alla år, oavsett vald period)"
    )


def test_every_figure_has_its_unit_in_the_title_the_column_or_the_line(figures, survey_data, progression_data):
    user = figures.world.coordinator_sco
    unit = re.compile(r"antal|%|poäng|\bkr\b|\bår\b|månader|\(n\)|^n\b|^d_z\b|^95 % KI", re.IGNORECASE)
    for name in REPORTS:
        for table in build(user, name).tables:
            for row in table.rows:
                for column, value in zip(table.columns[1:], row[1:], strict=True):
                    if isinstance(value, int | float) and not isinstance(value, bool):
                        where = (table.title, column, str(row[0]))
                        assert any(unit.search(text) for text in where), (name, where)


# --- 4. An empty selection is a sentence -----------------------------------------------------------------------


EMPTY = {
    "participant-flow": "Inga inskrivningar under perioden 2020-01-01–2020-12-31 för Centrala Östergötland.",
    "exits": "Inga avslut under perioden 2020-01-01–2020-12-31 för Centrala Östergötland.",
    "income-sources": "Inga avslut under perioden 2020-01-01–2020-12-31 för Centrala Östergötland.",
    "background": "Inga inskrivningar under perioden 2020-01-01–2020-12-31 för Centrala Östergötland.",
    "survey": "Ingen deltagarenkät under perioden 2020-01-01–2020-12-31 för Centrala Östergötland.",
    "progression": "Ingen stegförflyttning att visa: inga inskrivningar med minst två mätningar där den senaste "
    "gjordes under perioden 2020-01-01–2020-12-31 för Centrala Östergötland.",
    "volumes": "Inga volymregistreringar under perioden 2020-01-01–2020-12-31 för Centrala Östergötland.",
    "socioeconomic": "Inga avslut under perioden 2020-01-01–2020-12-31 för Centrala Östergötland.",
}


def test_an_empty_selection_shows_a_sentence_not_a_table_of_zeros(figures, client):
    user = figures.world.coordinator_sco
    client.force_login(user)
    period = {"from": "2020-01-01", "to": "2020-12-31"}
    for name, sentence in EMPTY.items():
        report = build(user, name, **period)
        assert report.empty_message.startswith(sentence), name
        assert not any(table.has_figures for table in report.tables), name
        page = client.get(f"/rapporter/{name}/?forbund=sco&from=2020-01-01&to=2020-12-31").content.decode()
        tables, _svg = html_tables(page)
        assert tables == [], name
        assert sentence in visible_text(page), name
        assert "<svg" not in page.split('class="empty"')[1], name  # no chart of zeros
        # The files keep their shape (tables of zeros) and start with the sentence.
        csv = b"".join(client.get(f"/rapporter/{name}/csv/?forbund=sco&from=2020-01-01&to=2020-12-31&extern=0")
                       .streaming_content).decode()  # fmt: skip
        assert csv_table_rows(csv)[2] == [report.empty_message], name
        api = client.get(f"/api/v1/rapporter/{name}/?forbund=sco&from=2020-01-01&to=2020-12-31").json()
        assert api["empty_message"] == report.empty_message
    # One insats, kön and age in the sentence; protected figures say that 1–4 may hide behind a 0.
    one = build(user, "exits", insats="jonsbo", kon="kvinna", aldersgrupp="25-34", **period)
    assert one.empty_message == (
        "Inga avslut under perioden 2020-01-01–2020-12-31 för Jonsbo försteg, kvinnor, 25–34 år."
    )
    outside = build(user, "exits", external=True, period="helar", ar="2020")
    assert "1–4 visas som 0" in outside.empty_message
    # A selection with figures has no sentence, and the dashboard shows one when nothing happened.
    assert build(user, "exits").empty_message == ""
    dashboard = visible_text(client.get("/rapporter/?forbund=sco&from=2020-01-01&to=2020-12-31").content.decode())
    assert EMPTY["participant-flow"] in dashboard


# --- 5. "–" explained under every table that shows it ---------------------------------------------------------


def test_every_table_with_a_dash_has_the_footnote_and_the_others_do_not(figures, client):
    client.force_login(figures.world.coordinator_sco)
    # Three insatser: no target, so "Mål %" and "Uppfyllt" show "–"; the reasons' table has none.
    html = client.get(f"/rapporter/exits/?{QUERY}").content.decode()
    text = visible_text(html)
    assert text.count(disclosure.HIDDEN_MARK_NOTE) == 1
    goals = html.split("<h2>Måluppfyllelse</h2>")[1].split("<h2>")[0]
    assert disclosure.HIDDEN_MARK_NOTE in goals
    reasons = html.split("<h2>Avslut per avslutsanledning (antal)</h2>")[1].split("<h2>")[0]
    assert "– =" not in reasons
    external = visible_text(client.get(f"/rapporter/exits/?{QUERY}&extern=1").content.decode())
    assert disclosure.HIDDEN_MARK_NOTE_EXTERNAL in external
    assert f"färre än {disclosure.MINIMUM_FOR_MEANS} personer" in disclosure.HIDDEN_MARK_NOTE_EXTERNAL


# --- 6. CSV with decimal commas, XLSX with numbers -------------------------------------------------------------


def test_csv_numbers_have_decimal_commas_and_no_thousands_separators(figures, client):
    client.force_login(figures.world.coordinator_sco)

    text = b"".join(
        client.get(
            "/rapporter/exits/csv/?forbund=sco&insats=jonsbo&from=2025-01-01&to=2025-12-31&extern=0"
        ).streaming_content
    ).decode()

    rows = csv_table_rows(text)
    arbete = next(row for row in rows if row and row[0] == "Arbete (osubventionerat)")
    assert arbete == ["Arbete (osubventionerat)", "2", "1", "0", "3", "42,8"]
    assert ["Till arbete, studier eller aktivt arbetssökande", "5", "7", "71,4", "75", "Nej"] in rows
    assert not re.search(r"(?<![\d.])\d+\.\d+(?![\d.])", text.replace("t.ex.", ""))  # no decimal point


def test_xlsx_numbers_are_numeric_cells(figures, tmp_path):
    report = build(figures.world.coordinator_sco, "exits", insats="jonsbo")
    path = tmp_path / "avslut.xlsx"

    rendering.write_xlsx(report, path)

    cells = {
        row[0].value: row for row in load_workbook(path).active.iter_rows() if row and isinstance(row[0].value, str)
    }
    arbete = cells["Arbete (osubventionerat)"]
    assert [cell.value for cell in arbete[1:6]] == [2, 1, 0, 3, 42.8]
    assert all(cell.data_type == "n" for cell in arbete[1:6])


# --- 7. Swedish file names and export titles -------------------------------------------------------------------


def test_csv_download_has_a_swedish_file_name_with_an_ascii_fallback(figures, client):
    client.force_login(figures.world.coordinator_sco)

    protected = client.get(f"/rapporter/income-sources/csv/?{QUERY}")["Content-Disposition"]
    exact = client.get(f"/rapporter/exits/csv/?{QUERY}&insats=jonsbo&extern=0")["Content-Disposition"]

    name = "Försörjning före och efter – Centrala Östergötland – helår 2025.csv"
    assert protected == (
        'attachment; filename="Forsorjning fore och efter - Centrala Ostergotland - helar 2025.csv"; '
        f"filename*=UTF-8''{quote(name, safe='')}"
    )
    internal = "Avslut – Centrala Östergötland, Jonsbo försteg – helår 2025 – internt.csv"
    assert exact.endswith("filename*=UTF-8''" + quote(internal, safe=""))


def test_export_files_download_with_swedish_names_and_the_page_has_a_swedish_title(
    figures, client, media, django_capture_on_commit_callbacks
):
    client.force_login(figures.world.coordinator_sco)
    names = {}
    for kind, file_format in (("pdf-pack", "pdf"), ("income-sources", "xlsx")):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(f"/rapporter/{kind}/export/", {**PARAMS, "format": file_format, "extern": "1"})
        job = ExportJob.objects.latest("id")
        status = visible_text(client.get(f"/exporter/{job.pk}/").content.decode())
        disposition = client.get(f"/exporter/{job.pk}/fil/")["Content-Disposition"]
        names[kind] = (status, disposition)

    status, disposition = names["pdf-pack"]
    assert "Export: Rapportbilaga (PDF) Centrala Östergötland, helår 2025" in status  # heading, then selection
    assert "pdf-pack" not in status
    assert disposition.endswith("filename*=UTF-8''" + quote("Rapportbilaga – Centrala Östergötland – helår 2025.pdf"))
    assert 'filename="Rapportbilaga - Centrala Ostergotland - helar 2025.pdf"' in disposition
    status, disposition = names["income-sources"]
    assert "Export: Försörjning före och efter (Excel) Centrala Östergötland, helår 2025" in status
    assert disposition.endswith(
        "filename*=UTF-8''" + quote("Försörjning före och efter – Centrala Östergötland – helår 2025.xlsx")
    )


def test_a_name_with_a_quote_or_a_slash_cannot_break_the_file_name(world):
    """The file name is made from förbund, insats and report names: characters a file system or the
    header would refuse are replaced."""
    world.sco.name = 'Förbund "A/B"'
    world.sco.save()
    filters = parse_filter(user=world.coordinator_sco, params=query(period="delar", ar="2025", extern="1"),
                           default_year=2025)  # fmt: skip
    name = export_file_name("volumes", filters, "csv")
    assert name == "Volymer – Förbund -A-B- – delår jan–aug 2025.csv"
    header = attachment_header(name)
    assert header.count('"') == 2 and "\n" not in header


def test_the_kon_filter_offers_every_kon_the_tables_count(figures, client):
    client.force_login(figures.world.coordinator_sco)

    html = client.get(f"/rapporter/participant-flow/?{QUERY}&kon=annat").content.decode()

    select = re.search(r'<select id="f-kon".*?</select>', html, re.DOTALL).group(0)
    assert re.findall(r'<option value="(\w*)"', select) == ["", "kvinna", "man", "annat", "okant"]
    assert re.findall(r'<option value="(\w+)" selected', select) == ["annat"]
    assert "Annat kön" in visible_text(select) and "Okänt kön" in visible_text(select)


@pytest.mark.django_db
def test_amounts_withheld_outside_are_said_to_be_withheld_not_silently_left_out(figures):
    # The noise comes from each record's random key: fixed keys make it the same in every run, so
    # that the selections below always include one whose amounts are withheld.
    Participant.objects.update(record_key=RECORD_KEY)
    Enrolment.objects.update(record_key=RECORD_KEY)
    withheld = "visas inte: för få avslutade står bakom beloppen"
    hidden_seen = 0
    for insats in ("jonsbo", "backaberg", None):
        selection = {"insats": [insats]} if insats else {}
        outside = build(figures.world.coordinator_sco, "socioeconomic", external=True, **selection)
        inside = build(figures.world.coordinator_sco, "socioeconomic", **selection)
        said = any(withheld in line for line in outside.definitions)
        hidden = outside.data.get("helarsekvivalenter") is None and not outside.empty_message
        assert said == hidden, (insats, outside.data.get("helarsekvivalenter"))
        hidden_seen += hidden
        assert not any(withheld in line for line in inside.definitions)
    assert hidden_seen, "no selection with amounts withheld: the test would prove nothing"
