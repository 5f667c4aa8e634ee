"""Small-cell suppression: the functions on their own, then end to end — a group of 3 women must
not be readable (nor computable from totals) in any output that leaves the organisation."""

import itertools
import random
import re
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook

from participants.services import participant_create
from progression.models import ExportJob, ExportStatus
from progression.reports import rendering
from progression.reports.base import Context
from progression.reports.filters import ReportFilter
from progression.reports.registry import build_report
from progression.reports.suppression import COMPLEMENTARY, SUPPRESSED, hidden_label, suppress_group, suppress_matrix
from tests.reports.conftest import survey_campaign
from tests.reports.helpers import PDFTOTEXT, build, cell_text, csv_table_rows, enrol, html_tables, pdf_text

pytestmark = pytest.mark.django_db

SEVEN = ["participant-flow", "exits", "income-sources", "background", "survey", "progression", "volumes"]
PARAMS = {"forbund": "sco", "from": "2025-01-01", "to": "2025-12-31"}
QUERY = "forbund=sco&from=2025-01-01&to=2025-12-31"


def context(external: bool = True, threshold: int = 5) -> Context:
    # The suppression helpers of Context never look at the filters.
    return Context(filters=None, external=external, threshold=threshold)  # type: ignore[arg-type]


# --- suppress_group / suppress_matrix / Context --------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"kvinna": 3, "man": 10, "total": 13}, {"kvinna": "<5", "man": "x", "total": 13}),
        ({"kvinna": 1, "man": 9, "total": 10}, {"kvinna": "<5", "man": "x", "total": 10}),
        ({"kvinna": 4, "man": 4, "total": 8}, {"kvinna": "<5", "man": "<5", "total": 8}),
        ({"kvinna": 3, "man": 0, "total": 3}, {"kvinna": "<5", "man": 0, "total": "<5"}),
        ({"kvinna": 0, "man": 7, "total": 7}, {"kvinna": 0, "man": 7, "total": 7}),
        ({"kvinna": 5, "man": 6, "total": 11}, {"kvinna": 5, "man": 6, "total": 11}),
        ({"kvinna": 0, "man": 0, "total": 0}, {"kvinna": 0, "man": 0, "total": 0}),
        # the complement is the smallest other non-zero cell of the line
        ({"a": 2, "b": 9, "c": 6, "total": 17}, {"a": "<5", "b": 9, "c": "x", "total": 17}),
    ],
)
def test_suppress_group(values, expected):
    assert suppress_group(values) == expected


def test_hidden_label_and_threshold():
    assert [hidden_label(v) for v in (1, 2, 3, 4, 5, 12)] == ["<5", "<5", "<5", "<5", "x", "x"]
    assert suppress_group({"a": 3, "b": 9, "total": 12}, threshold=3) == {"a": 3, "b": 9, "total": 12}
    assert suppress_group({"a": 2, "b": 9, "total": 11}, threshold=3) == {"a": "<5", "b": "x", "total": 11}


def test_suppress_matrix_exits_shape():
    """3 women leaving for work; the hidden pattern is worked out by hand."""
    rows, cols = ["arbete", "rehab", "total"], ["kvinna", "man", "ovrigt", "total"]
    cells = {
        ("arbete", "kvinna"): 3, ("arbete", "man"): 5, ("arbete", "ovrigt"): 0, ("arbete", "total"): 8,
        ("rehab", "kvinna"): 0, ("rehab", "man"): 5, ("rehab", "ovrigt"): 0, ("rehab", "total"): 5,
        ("total", "kvinna"): 3, ("total", "man"): 10, ("total", "ovrigt"): 0, ("total", "total"): 13,
    }  # fmt: skip

    hidden = suppress_matrix(cells, row_keys=rows, col_keys=cols)

    assert hidden == {("arbete", "kvinna"), ("total", "kvinna"), ("arbete", "man"), ("total", "man")}


def _random_table(rng: random.Random, n_rows: int, n_cols: int):
    inner = {
        (f"r{i}", f"c{j}"): rng.choice([0, 0, 1, 2, 3, 4, 5, 6, 8, 13]) for i in range(n_rows) for j in range(n_cols)
    }
    rows, cols = [f"r{i}" for i in range(n_rows)], [f"c{j}" for j in range(n_cols)]
    cells = dict(inner)
    for r in rows:
        cells[(r, "total")] = sum(inner[(r, c)] for c in cols)
    for c in cols:
        cells[("total", c)] = sum(inner[(r, c)] for r in rows)
    cells[("total", "total")] = sum(inner.values())
    return cells, [*rows, "total"], [*cols, "total"]


def test_suppress_matrix_line_properties_on_random_tables():
    """Every 1–4 hidden, 0 and ≥ 5 only hidden as complements (never 0), no line with exactly one hidden cell."""
    rng = random.Random(20250101)
    for _ in range(300):
        cells, rows, cols = _random_table(rng, rng.randint(1, 5), rng.randint(1, 4))
        hidden = suppress_matrix(cells, row_keys=rows, col_keys=cols)

        assert {k for k, v in cells.items() if 0 < v < 5} <= hidden
        assert all(cells[k] > 0 for k in hidden)
        for line in [[(r, c) for c in cols] for r in rows] + [[(r, c) for r in rows] for c in cols]:
            assert sum(key in hidden for key in line) != 1, (cells, sorted(hidden), line)
        labels = {hidden_label(cells[k]) for k in hidden if cells[k] >= 5}
        assert labels <= {COMPLEMENTARY}


def recomputable(cells, rows, cols, hidden):  # noqa: ANN001, ANN201
    """Hidden cells whose value follows from the visible cells and the row/column totals (linear algebra:
    a cell is determined when its unit vector lies in the row space of the constraints on the hidden cells)."""
    unknown = sorted(hidden)
    index = {key: i for i, key in enumerate(unknown)}
    equations = []
    for line, total in [([(r, c) for c in cols[:-1]], (r, cols[-1])) for r in rows] + [
        ([(r, c) for r in rows[:-1]], (rows[-1], c)) for c in cols
    ]:
        equation = np.zeros(len(unknown))
        for key in line:
            if key in index:
                equation[index[key]] += 1
        if total in index:
            equation[index[total]] -= 1
        equations.append(equation)
    matrix = np.array(equations)
    rank = np.linalg.matrix_rank(matrix)
    return [
        key for key, i in index.items() if np.linalg.matrix_rank(np.vstack([matrix, np.eye(len(unknown))[i]])) == rank
    ]


def test_suppress_matrix_leaves_nothing_recomputable_in_a_two_way_table():
    rows, cols = ["a", "b", "c", "total"], ["x", "y", "z", "total"]
    values = {"a": (2, 0, 0), "b": (2, 0, 0), "c": (0, 3, 8)}
    cells = {}
    for r, row in values.items():
        cells.update({(r, c): v for c, v in zip(cols, row, strict=False)})
        cells[(r, "total")] = sum(row)
    for i, c in enumerate(cols[:-1]):
        cells[("total", c)] = sum(row[i] for row in values.values())
    cells[("total", "total")] = 15

    hidden = suppress_matrix(cells, row_keys=rows, col_keys=cols)

    assert ("total", "x") in hidden
    assert recomputable(cells, rows, cols, hidden) == []


def test_recomputable_detects_a_lone_hidden_cell():
    """The checker above can fail: one hidden cell in a line is always recomputable."""
    cells = {("r", "a"): 3, ("r", "b"): 9, ("r", "total"): 12}
    cells.update({("total", "a"): 3, ("total", "b"): 9, ("total", "total"): 12})
    assert recomputable(cells, ["r", "total"], ["a", "b", "total"], {("r", "a")}) == [("r", "a")]


@pytest.mark.parametrize(
    ("counts", "external", "expected"),
    [
        ({"kvinna": 3, "man": 10, "total": 13}, False, {"kvinna": 3, "man": 10, "total": 13}),
        ({"kvinna": 3, "man": 10, "total": 13}, True, {"kvinna": "<5", "man": "x", "total": 13}),
        # the other/unknown kön (total − kvinna − man = 3) is small: one of kvinna/man goes
        ({"kvinna": 10, "man": 12, "total": 25}, True, {"kvinna": "x", "man": 12, "total": 25}),
        ({"kvinna": 14, "man": 12, "total": 16}, True, {"kvinna": 14, "man": 12, "total": 16}),
        ({"kvinna": 8, "man": 2, "total": 14}, True, {"kvinna": 8, "man": "<5", "total": 14}),
        ({"kvinna": 0, "man": 0, "total": 2}, True, {"kvinna": 0, "man": 0, "total": "<5"}),
        ({"kvinna": 6, "man": 7, "total": 13}, True, {"kvinna": 6, "man": 7, "total": 13}),
        ({"kvinna": 0, "man": 0, "total": 0}, True, {"kvinna": 0, "man": 0, "total": 0}),
        ({}, True, {"kvinna": 0, "man": 0, "total": 0}),
    ],
)
def test_context_kon_counts(counts, external, expected):
    assert context(external).kon_counts(counts) == expected


def test_context_kon_counts_other_kon_never_computable():
    """Every combination up to 8 per kön: 1–4 shown as <5; a small implicit other-kön cell is not
    total − kvinna − man; a hidden kön cell is never total minus the other, shown, kön cell."""
    ctx = context()
    for kvinna, man, other in itertools.product(range(9), repeat=3):
        total = kvinna + man + other
        shown = ctx.kon_counts({"kvinna": kvinna, "man": man, "total": total})
        visible = {key: isinstance(value, int) for key, value in shown.items()}
        for key, value in (("kvinna", kvinna), ("man", man), ("total", total)):
            assert shown[key] == (SUPPRESSED if 0 < value < 5 else shown[key]), (kvinna, man, other, shown)
            if visible[key]:
                assert shown[key] == value
        if 0 < other < 5:
            assert not all(visible.values()), (kvinna, man, other, shown)
        for one, rest, value in (("kvinna", "man", kvinna), ("man", "kvinna", man)):
            if not visible[one] and visible[rest] and visible["total"]:
                assert shown["total"] - shown[rest] != value, (kvinna, man, other, shown)


def test_context_matrix_internal_is_exact_and_threshold_is_configurable(world, settings):
    cells = {("r", "a"): 3, ("r", "b"): 9, ("r", "total"): 12}
    assert context(external=False).matrix(cells, ["r"], ["a", "b", "total"]) == cells
    assert context(threshold=3).matrix(cells, ["r"], ["a", "b", "total"]) == cells

    settings.REPORT_SUPPRESSION_THRESHOLD = 3
    filters = ReportFilter(
        forbund=world.sco, insatser=(world.jonsbo,), date_from=date(2025, 1, 1), date_to=date(2025, 12, 31)
    )
    for person in [participant_create(forbund=world.sco, kon="kvinna", birth_year=1990) for _ in range(2)]:
        enrol(person, world.jonsbo, date(2025, 2, 1))
    assert build_report("participant-flow", filters=filters, external=True).data["registrations"] == {
        "kvinna": "<5",
        "man": 0,
        "total": "<5",
    }


# --- End to end: 3 women, 10 men (conftest.small_world) ---------------------------------------------------

HIDDEN_KON = {"kvinna": "<5", "man": "x", "total": 13}
ZERO_KON = {"kvinna": 0, "man": 0, "total": 0}
# Shares that would give the 3 away (3 of 13, 8, 10, 12) and the number itself.
REVEALING = {3, 23.1, 37.5, 30.0, 25.0}  # 3 == 3.0


def assert_no_small_number(value, path="") -> None:  # noqa: ANN001
    """Walk a JSON document: no 3 and no share of 3; in every kön line a hidden kvinna cell cannot be
    recovered as total − man (no other kön in this data)."""
    if isinstance(value, dict):
        if {"kvinna", "man", "total"} <= value.keys():
            for one, other in (("kvinna", "man"), ("man", "kvinna")):
                if value[one] in (SUPPRESSED, COMPLEMENTARY):
                    assert not (isinstance(value[other], int) and isinstance(value["total"], int)), (path, value)
        for key, item in value.items():
            assert_no_small_number(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            assert_no_small_number(item, f"{path}[{i}]")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        assert value not in REVEALING, (path, value)


def assert_tables_hide_three(tables) -> None:  # noqa: ANN001
    for table in tables:
        assert not re.search(r"\b3\b", table.title), table.title
        for row in table.rows:
            for value in row[1:]:
                assert value not in REVEALING and value != "3", (table.title, row)


def test_api_json_hides_the_small_group(small_world, client):
    client.force_login(small_world.coordinator_sco)

    data = {name: client.get(f"/api/v1/rapporter/{name}/?{QUERY}&extern=1").json() for name in SEVEN}

    assert all(d["suppressed"] is True for d in data.values())
    flow = data["participant-flow"]
    for row in ("registrations", "unique_persons", "started", "ended"):
        assert flow[row] == HIDDEN_KON
    assert flow["active_at_end"] == flow["anonymous"] == ZERO_KON
    exits = data["exits"]
    assert exits["by_reason"]["arbete"] == {
        "label": "Arbete (osubventionerat)", "kvinna": "<5", "man": "x", "total": 8, "share": 61.5,
    }  # fmt: skip
    assert exits["by_reason"]["fortsatt_rehab"]["man"] == 5
    assert exits["total"] == HIDDEN_KON
    income = data["income-sources"]["sources"]
    assert income["sjukpenning_rehab"]["before"] == "<5"
    assert income["forsorjningsstod"]["before"] == "x"
    for code in ("sjukpenning_rehab", "forsorjningsstod"):
        assert (income[code]["before_share"], income[code]["change"], income[code]["change_pct"]) == (None, None, None)
    background = data["background"]
    assert background["age_at_start"]["30–39"] == {"kvinna": "<5", "man": "x", "total": 8}
    assert background["education"]["Gymnasial"] == {"kvinna": "<5", "man": "x", "total": 8}
    support = background["years_in_public_support"]
    assert support["n"] == HIDDEN_KON
    assert support["mean"] == {"kvinna": None, "man": None, "total": 4.3}
    assert support["bands"]["5–10"] == {"kvinna": "<5", "man": "x", "total": 8}
    questions = {q["code"]: q for q in data["survey"]["instruments"]["nns-pagaende"]["questions"]}
    assert (questions["nns_1"]["positive"], questions["nns_1"]["n"], questions["nns_1"]["share_positive"]) == (
        "<5",
        10,
        None,
    )
    # 8 positive, 2 not: the positive count is hidden so that the 2 cannot be worked out
    assert (questions["nns_2"]["positive"], questions["nns_2"]["share_positive"]) == ("x", None)
    assert (questions["nns_3"]["positive"], questions["nns_3"]["n"], questions["nns_3"]["response_rate"]) == (
        "<5",
        "<5",
        None,
    )
    assert (questions["nns_4"]["positive"], questions["nns_4"]["share_positive"]) == (10, 100.0)
    (halsa,) = data["progression"]["dimensions"]
    assert (halsa["n"], halsa["share_improved"], halsa["share_unchanged"], halsa["share_mid"]) == (8, None, None, None)
    assert halsa["share_worse"] == 0.0
    assert data["volumes"]["volumes"] == [
        {"insats": "SIP-samordning", "category": "Elever", "kvinna": 0, "man": 0, "total": "<5"},
        {"insats": "SIP-samordning", "category": "SIP-möten", **HIDDEN_KON},
    ]
    for document in data.values():
        assert_no_small_number(document)

    # the internal view of the same data shows the 3 (so the checks above can fail)
    internal = client.get(f"/api/v1/rapporter/participant-flow/?{QUERY}").json()
    assert internal["registrations"] == {"kvinna": 3, "man": 10, "total": 13}
    with pytest.raises(AssertionError):
        assert_no_small_number(internal)


def test_report_tables_and_charts_hide_the_small_group(small_world):
    reports = {name: build(small_world.coordinator_sco, name, external=True) for name in SEVEN}

    for report in reports.values():
        assert_tables_hide_three(report.tables)
        for chart in report.charts:
            for _name, values in chart.series:
                assert not REVEALING & {v for v in values if v is not None}, chart.title
    (flow_chart,) = reports["participant-flow"].charts
    assert flow_chart.series == [("Kvinnor", [None, None, None, None, 0, 0]), ("Män", [None, None, None, None, 0, 0])]
    (age_chart,) = reports["background"].charts
    assert age_chart.series == [("Kvinnor", [0, 0, 0, None, 0, 0, 0]), ("Män", [0, 0, 0, None, 5, 0, 0])]
    (income_chart,) = reports["income-sources"].charts
    before = dict(zip(income_chart.labels, income_chart.series[0][1], strict=True))
    assert before["Sjukpenning/Rehabpenning"] is None and before["Försörjningsstöd"] is None
    (survey_chart,) = reports["survey"].charts
    assert survey_chart.series == [("Andel positiva %", [None, None, None, 100.0, None, None, None])]

    internal = build(small_world.coordinator_sco, "participant-flow")
    assert internal.charts[0].series[0] == ("Kvinnor", [3, 3, 3, 3, 0, 0])


def test_html_pages_hide_the_small_group(small_world, client):
    client.force_login(small_world.coordinator_sco)

    for name in SEVEN:
        response = client.get(f"/rapporter/{name}/?{QUERY}&extern=1")
        assert response.status_code == 200
        tables, svg_texts = html_tables(response.content.decode())
        cells = [cell for table in tables for row in table for cell in row[1:]]
        assert "3" not in cells, name
        assert not {"23,1", "37,5", "30", "25"} & set(cells), name
        assert "3" not in svg_texts, name
        expected = build(small_world.coordinator_sco, name, external=True)
        assert sum(row.count("<5") for table in tables for row in table) == sum(
            row.count("<5") for table in expected.tables for row in table.rows
        ), name

    tables, _ = html_tables(client.get(f"/rapporter/participant-flow/?{QUERY}&extern=1").content.decode())
    assert tables[0][1] == ["Inskrivningar under perioden (registreringar)", "<5", "x", "13"]
    tables, _ = html_tables(client.get(f"/rapporter/participant-flow/?{QUERY}").content.decode())
    assert tables[0][1] == ["Inskrivningar under perioden (registreringar)", "3", "10", "13"]


def test_csv_downloads_hide_the_small_group_by_default(small_world, client):
    client.force_login(small_world.coordinator_sco)

    for name in SEVEN:
        response = client.get(f"/rapporter/{name}/csv/?{QUERY}")  # no extern: suppressed by default
        assert response.status_code == 200
        rows = csv_table_rows(b"".join(response.streaming_content).decode("utf-8"))
        assert rows[0][2] == "Små tal dolda (<5)"
        cells = [cell for row in rows for cell in row[1:]]
        assert "3" not in cells and "3.0" not in cells, name
        expected = build(small_world.coordinator_sco, name, external=True)
        expected_rows = [[cell_text(v) for v in row] for table in expected.tables for row in table.rows]
        assert [row for row in rows if row in expected_rows] == expected_rows, name

    rows = csv_table_rows(b"".join(client.get(f"/rapporter/exits/csv/?{QUERY}").streaming_content).decode())
    assert ["Arbete (osubventionerat)", "<5", "x", "8", "61.5"] in rows
    assert ["Totalt", "<5", "x", "13", "100.0"] in rows
    internal = csv_table_rows(
        b"".join(client.get(f"/rapporter/exits/csv/?{QUERY}&extern=0").streaming_content).decode()
    )
    assert ["Totalt", "3", "10", "13", "100.0"] in internal


def blank(value):  # noqa: ANN001, ANN201
    return None if value in ("", None) else value


def _export(client, name, file_format, capture, extern="1"):  # noqa: ANN001, ANN202
    with capture(execute=True):
        response = client.post(f"/rapporter/{name}/export/", {**PARAMS, "format": file_format, "extern": extern})
    assert response.status_code == 302
    job = ExportJob.objects.get(pk=int(response["Location"].strip("/").split("/")[-1]))
    assert (job.status, job.progress, job.error) == (ExportStatus.DONE, 100, "")
    return job


def test_xlsx_exports_hide_the_small_group(small_world, client, media, django_capture_on_commit_callbacks):
    client.force_login(small_world.coordinator_sco)

    for name in SEVEN:
        job = _export(client, name, "xlsx", django_capture_on_commit_callbacks)
        book = load_workbook(Path(media) / "exports" / job.file_name, read_only=True)
        rows = [list(row) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)]
        cells = [cell for row in rows for cell in row[1:]]
        assert not REVEALING & {c for c in cells if isinstance(c, (int, float))}, name
        assert "3" not in cells, name
        expected = build(small_world.coordinator_sco, name, external=True)
        for table in expected.tables:
            for row in table.rows:
                assert [blank(v) for v in row] in [[blank(v) for v in r[: len(row)]] for r in rows], (name, row)
        if name == "participant-flow":
            assert ["Inskrivningar under perioden (registreringar)", "<5", "x", 13] in [r[:4] for r in rows]

    internal = _export(client, "participant-flow", "xlsx", django_capture_on_commit_callbacks, extern="0")
    book = load_workbook(Path(media) / "exports" / internal.file_name, read_only=True)
    rows = [list(row)[:4] for row in book.worksheets[0].iter_rows(values_only=True)]
    assert ["Inskrivningar under perioden (registreringar)", 3, 10, 13] in rows


PDF_ROWS = [
    # (start of the line, the values that must follow it)
    ("Inskrivningar under perioden (registreringar)", ["<5", "x", "13"]),
    ("Unika personer", ["<5", "x", "13"]),
    ("Nya inskrivningar", ["<5", "x", "13"]),
    ("Avslutade", ["<5", "x", "13"]),
    ("Arbete (osubventionerat)", ["<5", "x", "8", "61,5"]),
    ("Totalt", ["<5", "x", "13", "100"]),
    ("Sjukpenning/Rehabpenning", ["<5", "–", "0", "0", "–", "–"]),
    ("Försörjningsstöd", ["x", "–", "0", "0", "–", "–"]),
    ("30–39", ["<5", "x", "8"]),
    ("Gymnasial", ["<5", "x", "8"]),
    ("5–10", ["<5", "x", "8"]),
    ("Medel (år)", ["–", "–", "4,3"]),
    ("Halsa", ["Deltagaren", "8", "40", "54,38", "14,38", "1,11", "–", "–", "0", "–"]),
    ("SIP-samordning", ["Elever", "0", "0", "<5"]),
    ("SIP-samordning", ["SIP-möten", "<5", "x", "13"]),
]


def test_pdf_pack_hides_the_small_group(small_world, client, media, django_capture_on_commit_callbacks):
    client.force_login(small_world.coordinator_sco)

    job = _export(client, "pdf-pack", "pdf", django_capture_on_commit_callbacks)

    path = Path(media) / "exports" / job.file_name
    assert path.read_bytes().startswith(b"%PDF")
    if PDFTOTEXT is None:
        pytest.skip("pdftotext (poppler-utils) saknas: PDF-texten kan inte läsas")
    text = pdf_text(path)
    lines = [line.split() for line in text.splitlines()]
    for label, values in PDF_ROWS:
        words = label.split()
        matches = [line[len(words) :] for line in lines if line[: len(words)] == words]
        assert values in matches, (label, values, matches)
    assert "Deltagarenkät, pågående deltagare (tillfrågade 12, svar 10)" in text
    assert "<5" in text
    for revealing in ("23,1", "37,5"):
        assert revealing not in text


# --- Known ways to work a hidden 3 out (bugs) -----------------------------------------------------------------


def _people(world, kon, count, birth_year=1990):  # noqa: ANN001, ANN202
    return [participant_create(forbund=world.sco, kon=kon, birth_year=birth_year) for _ in range(count)]


def test_flow_hidden_ended_cannot_be_computed_from_other_rows(world):
    for index, person in enumerate(_people(world, "kvinna", 10) + _people(world, "man", 10)):
        ended = index < 3 or 10 <= index < 15
        enrol(person, world.jonsbo, date(2025, 2, 1), end=date(2025, 9, 1) if ended else None, reason="arbete",
              before="forsorjningsstod", after="ingen_offentlig")  # fmt: skip

    data = build(world.coordinator_sco, "participant-flow", external=True).data

    assert data["ended"]["kvinna"] == "<5"
    registered, active = data["registrations"]["kvinna"], data["active_at_end"]["kvinna"]
    assert not (isinstance(registered, int) and isinstance(active, int)), (registered, active)


def test_background_hidden_band_cannot_be_computed_from_n(world):
    for person in _people(world, "kvinna", 3, birth_year=2003):
        enrol(person, world.jonsbo, date(2025, 2, 1), before="forsorjningsstod", education="gymnasial", years="2.5")
    for person in _people(world, "man", 10, birth_year=1988):
        enrol(person, world.jonsbo, date(2025, 2, 1), before="forsorjningsstod", education="gymnasial", years="6.0")

    data = build(world.coordinator_sco, "background", external=True).data

    support = data["years_in_public_support"]
    assert support["bands"]["2–3"]["total"] == "<5"
    visible = sum(band["total"] for band in support["bands"].values() if isinstance(band["total"], int))
    assert not isinstance(support["n"]["total"], int) or support["n"]["total"] - visible >= 5
    ages = data["age_at_start"]
    assert ages["20–24"]["total"] == "<5"
    education_total = sum(row["total"] for row in data["education"].values())
    assert education_total - sum(row["total"] for row in ages.values() if isinstance(row["total"], int)) >= 5


def test_exits_outcome_count_does_not_reveal_a_hidden_reason(world):
    for person in _people(world, "kvinna", 3):
        enrol(person, world.jonsbo, date(2025, 2, 1), end=date(2025, 9, 1), reason="arbete",
              before="forsorjningsstod", after="ingen_offentlig")  # fmt: skip
    for index, person in enumerate(_people(world, "man", 11)):
        enrol(person, world.jonsbo, date(2025, 2, 1), end=date(2025, 9, 1), reason="studier" if index < 6 else "ohalsa",
              before="forsorjningsstod", after="ingen_offentlig")  # fmt: skip

    data = build(world.coordinator_sco, "exits", external=True).data

    by_reason = data["by_reason"]
    assert (by_reason["arbete"]["total"], by_reason["studier"]["total"]) == ("<5", 6)
    work = data["to_work_studies_or_job_seeking"]["count"]
    visible_work = sum(
        by_reason[code]["total"] for code in ("arbete_subventionerat", "studier", "arbetssokande")
    )  # every work reason but the hidden one
    assert not isinstance(work, int) or work - visible_work >= 5, (work, visible_work)


def test_survey_small_number_of_responses_is_hidden(world):
    survey_campaign(world, world.jonsbo, [{"nns_1": 6}, {"nns_1": 5}, {"nns_1": 1}], period_start=date(2025, 1, 1),
                    period_end=date(2025, 12, 31), number_asked=20)  # fmt: skip

    report = build(world.coordinator_sco, "survey", external=True)

    survey = report.data["instruments"]["nns-pagaende"]
    assert survey["questions"][0]["n"] == "<5"
    assert survey["responses"] == "<5" and survey["response_rate"] is None
    assert "svar 3" not in report.tables[0].title


def test_income_table_total_row_hides_a_small_n(small_world):
    report = build(small_world.coordinator_sco, "income-sources", external=True, per_kon="1")

    assert report.data["by_kon"]["kvinna"]["n"] == "<5"
    women = next(table for table in report.tables if table.title == "Kvinnor")
    assert women.rows[-1][:2] == ["Totalt (n)", "<5"]


def test_socioeconomic_money_does_not_reveal_a_hidden_group(small_world, client):
    client.force_login(small_world.coordinator_sco)

    data = client.get(f"/api/v1/rapporter/socioeconomic/?{QUERY}&extern=1").json()

    assert data["transitions"]["sjukpenning_rehab"]["total"] == "<5"
    assert data["by_payer"]["Försäkringskassan"]["before"] is None


def _pdf_lines(reports, path):  # noqa: ANN001, ANN202
    rendering.write_pdf(reports=reports, texts=[], title="Bilaga", subtitle="Test", path=path)
    if PDFTOTEXT is None:
        pytest.skip("pdftotext (poppler-utils) saknas: PDF-texten kan inte läsas")
    return pdf_text(path)


def test_pdf_row_reading_sees_exact_numbers_in_an_internal_pack(small_world, tmp_path):
    """The same row check as above, on an internal pack, reads the 3: the check can fail."""
    report = build(small_world.coordinator_sco, "participant-flow")

    text = _pdf_lines([report], tmp_path / "intern.pdf")

    lines = [line.split() for line in text.splitlines()]
    label = ["Inskrivningar", "under", "perioden", "(registreringar)"]
    assert [line[len(label) :] for line in lines if line[: len(label)] == label] == [["3", "10", "13"]]


def test_pdf_pack_shows_every_progression_column(small_world, tmp_path):
    report = build(small_world.coordinator_sco, "progression", external=True)
    assert report.tables[0].columns[-1] == "≥ MID %"

    text = _pdf_lines([report], tmp_path / "progression.pdf")

    assert "MID %" in text
