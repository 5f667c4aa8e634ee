"""The server-side charts (surveys/charts.py) as a reader of a report page, the dashboard, a mentor's
page or the PDF meets them: whole labels inside the drawing, Swedish numbers, series told apart by
fill and marker as well as colour, gaps where a value is missing, a sentence when there is nothing
to draw. The browser's own measurement is in tests/e2e/test_report_details.py and
test_report_visuals.py; here each text is measured with DejaVu Sans, the PDF's font and wider than a
browser's default sans-serif."""

import re
import xml.etree.ElementTree as ET
from datetime import date
from functools import cache
from pathlib import Path

import pytest

from surveys import charts
from surveys.charts import Event, Lane, Series

NS = {"svg": "http://www.w3.org/2000/svg"}
SVG = "{http://www.w3.org/2000/svg}"
FONTS = Path("/usr/share/fonts/truetype/dejavu")

FLOW_LABELS = [
    "Inskrivningar under perioden (registreringar)",
    "Unika personer",
    "Nya inskrivningar",
    "Avslutade",
    "Inskrivna vid periodens slut",
    "Anonyma deltagares inskrivningar",
]
AREAS = ["Arbetsmarknad", "Hälsa", "Jobbsökande", "Ekonomi och boende", "Socialt nätverk", "Vardag och struktur"]
NOTHING = "Inga uppgifter att visa för urvalet."
TOO_FEW = "För få områden för ett spindeldiagram (minst tre behövs)."
TOO_LONG = (
    "En avslutsanledning med ett namn så långt att det inte ryms på tre rader i diagrammets "
    "etikettkolumn utan måste kortas av med en ellips och ges i sin helhet i en title"
)


def _tree(svg: str) -> ET.Element:
    return ET.fromstring(str(svg))  # noqa: S314 - our own drawing


def _shown(text: ET.Element) -> list[str]:
    """The lines a <text> draws (its <tspan>s, or its own text), without its <title>."""
    spans = text.findall("svg:tspan", NS)
    return [span.text or "" for span in spans] if spans else [text.text or ""]


def _read(text: ET.Element) -> str:
    """A <text> as a browser's textContent gives it, the <title> left out."""
    return "".join(_shown(text))


def _texts(svg: str) -> list[ET.Element]:
    return list(_tree(svg).iter(f"{SVG}text"))


def _numbers(svg: str) -> list[str]:
    return [_read(t) for t in _texts(svg) if re.search(r"\d", _read(t))]


def _flow_chart(**kwargs) -> str:
    return charts.bar_svg(
        title="Deltagarflöde per kön",
        labels=FLOW_LABELS,
        series=[
            Series("Kvinnor", [66, 40, 12, None, 30, 5]),
            Series("Män", [54, 38, 10, 7, None, 6]),
            Series("Annat/okänt", [3, 2, None, 1, 1, 0]),
        ],
        **kwargs,
    )


def _radar(series: list[Series], axes: list[str] = AREAS) -> str:
    return charts.radar_svg(title="Självskattning per område", axes=axes, series=series, min_value=1, max_value=10)


def _timeline() -> str:
    return charts.timeline_svg(
        title="Resan",
        start=date(2026, 1, 1),
        end=date(2026, 10, 1),
        lanes=[
            Lane(
                "Arbetsmarknad",
                [[(date(2026, 1, 10), 3), (date(2026, 6, 1), 7)], [(date(2026, 2, 1), 4), (date(2026, 8, 1), 6)]],
                1,
                10,
                "■ 7,0 Klarar med visst stöd\n● 6,0 Klarar med stöd",
            ),
            Lane("Ekonomi, boende och vardagens struktur", [[(date(2026, 3, 1), 2.5)], []], 1, 10, "■ 2,5 Står still"),
        ],
        series_names=["Deltagaren", "Handledaren"],
        events=[Event(date(2026, 5, 1), "Delmål uppnått: cv", "goal"), Event(date(2026, 6, 1), "Ny", "mentor")],
    )


def _lanes(rtl: bool = False) -> str:
    return charts.ladder_lanes_svg(
        title="Så har du skattat dig själv",
        lanes=[
            Lane("Arbetsmarknad", [[(date(2026, 1, 10), 3), (date(2026, 4, 1), 5)]], 1, 10, "5,0 · Klarar med stöd"),
            Lane(
                "Ekonomi, boende och vardagens struktur i stort och smått",
                [[(date(2026, 1, 10), 3)]],
                0,
                1000,
                "3,0 · Klarar med visst stöd och lite till",
            ),
        ],
        start_label="10 januari 2026",
        end_label="1 april 2026",
        rtl=rtl,
    )


def _every_chart() -> dict[str, str]:
    return {
        "bar": _flow_chart(),
        "bar, a long label": charts.bar_svg(
            title="Avslut", labels=[TOO_LONG, "Arbete"], series=[Series("Andel %", [12.5, 87.5])], max_value=100
        ),
        "bar, large values": charts.bar_svg(
            title="Kostnad", labels=["Insatsen", "Jämförelse"], series=[Series("Kronor", [1903500.25, 12.75])]
        ),
        "radar": _radar([Series("Deltagaren", [3, 5, 7, 8, 4, 6]), Series("Handledaren", [4, None, 6, 7, 5, 5])]),
        "radar, long axes": _radar(
            [Series("Första mätningen i perioden", [3, 5, 7]), Series("Senaste mätningen i perioden", [4, 6, 8])],
            axes=["Arbetsmarknad och sysselsättning i stort", "Hälsa", "Jobbsökande och kontakter med arbetsgivare"],
        ),
        "line": charts.line_svg(
            title="Per månad",
            x_labels=["januari 2026", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "december 2026"],
            series=[
                Series("Förbättrade", [1, 2.5, None, 4, 5, 6, 7, 6, 5]),
                Series("Försämrade", [0, 1, 1, 2] * 2 + [3]),
            ],
            min_value=-2.5,
            max_value=10,
        ),
        "timeline": _timeline(),
        "lanes": _lanes(),
        "empty": charts.bar_svg(title="Tom", labels=[], series=[]),
        "too few axes": _radar([Series("x", [1, 2])], axes=["A", "B"]),
    }


# --- Labels whole and inside ---------------------------------------------------------------------------


def test_a_long_bar_label_is_wrapped_whole_not_cut():
    svg = _flow_chart()
    label = next(t for t in _texts(svg) if "Inskrivningar" in _read(t))
    assert _read(label) == "Inskrivningar under perioden (registreringar)"
    assert len(_shown(label)) > 1  # on more than one line, each starting at the label column's edge
    assert label.find("svg:title", NS) is None  # nothing was shortened
    assert "registre<" not in svg and "nskrivningar under perioden (registre" not in [_read(t) for t in _texts(svg)]


def test_a_label_too_long_for_three_lines_is_shortened_with_an_ellipsis_and_kept_whole_in_a_title():
    svg = charts.bar_svg(title="Avslut", labels=[TOO_LONG], series=[Series("Andel %", [12.5])], max_value=100)
    label = next(t for t in _texts(svg) if t.find("svg:title", NS) is not None)
    assert label.find("svg:title", NS).text == TOO_LONG
    assert len(_shown(label)) == 3 and _shown(label)[-1].endswith("…")


def test_every_text_in_every_chart_lies_inside_its_view_in_dejavu_sans():
    for name, svg in _every_chart().items():
        assert _outside(svg) == [], name


def test_an_arabic_ladder_keeps_its_texts_inside_too():
    svg = charts.ladder_lanes_svg(
        title="مخطط",
        lanes=[Lane("الصحة والعافية في الحياة اليومية والعمل", [[(date(2026, 1, 10), 3)]], 1, 10, "٥ · تتحسن")],
        start_label="١٠ يناير",
        end_label="١ أبريل",
        rtl=True,
    )
    assert 'direction="rtl"' in svg
    assert _outside(svg) == []


def test_value_texts_at_the_bar_ends_stay_inside_even_for_the_largest_value():
    svg = charts.bar_svg(
        title="Kostnad", labels=["Insatsen", "Jämförelse"], series=[Series("Kronor", [1903500.25, 12.75])]
    )
    assert "1\u00a0903\u00a0500,25" in _numbers(svg)
    assert _outside(svg) == []


# --- Swedish numbers -------------------------------------------------------------------------------------


def test_bar_values_have_decimal_commas_thousand_spaces_and_a_true_minus():
    svg = charts.bar_svg(
        title="Andelar",
        labels=["Före", "Efter", "Förändring"],
        series=[Series("Andel %", [66.7, 1903500, -2.5])],
    )
    numbers = _numbers(svg)
    assert {"66,7", "1\u00a0903\u00a0500", "−2,5"} <= set(numbers)
    assert not [n for n in numbers if re.search(r"\d\.\d|^-", n)]


def test_axis_ticks_and_lane_ends_are_swedish_numbers_too():
    line = charts.line_svg(
        title="Linje", x_labels=["jan", "feb"], series=[Series("a", [1, 2])], min_value=-2.5, max_value=7.5
    )
    assert {"−2,5", "7,5"} <= set(_numbers(line))
    lanes = _lanes()
    assert "1\u00a0000" in _numbers(lanes)
    for svg in (line, lanes, _flow_chart(), _timeline()):
        assert not [n for n in _numbers(svg) if re.search(r"\d\.\d", n)]


# --- Series told apart -----------------------------------------------------------------------------------


def _fills(svg: str, series: int) -> list[tuple[str, ...]]:
    """What each bar (and legend swatch) of a series is filled with: its colour and any pattern laid over it."""
    rects = list(_tree(svg).iter(f"{SVG}rect"))
    found = []
    for index, rect in enumerate(rects):
        if rect.get("class") == f"series-{series}":
            following = rects[index + 1] if index + 1 < len(rects) else None
            pattern = (
                following.get("fill") if following is not None and following.get("class") == "fill-pattern" else ""
            )
            found.append((rect.get("fill"), pattern))
    return found


def test_each_bar_series_has_its_own_fill_and_the_legend_shows_the_same():
    svg = charts.bar_svg(
        title="Fyra serier",
        labels=["a", "b"],
        series=[Series(name, [1, 2]) for name in ("Kvinnor", "Män", "Annat", "Okänt")],
    )
    fills = [_fills(svg, number) for number in range(4)]
    for own in fills:
        assert len(own) == 3 and len(set(own)) == 1  # two bars and the legend swatch, all alike
    assert len({own[0] for own in fills}) == 4  # four different looks
    assert fills[0][0][1] == ""  # the first series solid, the others patterned
    assert all(own[0][1].startswith("url(#") for own in fills[1:])
    patterns = {p.get("id") for p in _tree(svg).iter(f"{SVG}pattern")}
    assert {own[0][1][5:-1] for own in fills[1:]} == patterns and len(patterns) == 3


def test_pattern_ids_differ_between_two_charts_on_one_page():
    first, second = _flow_chart(), _flow_chart()
    ids = [{p.get("id") for p in _tree(svg).iter(f"{SVG}pattern")} for svg in (first, second)]
    assert ids[0] and ids[1] and not ids[0] & ids[1]


def _shape(element: ET.Element) -> str:
    tag = element.tag.removeprefix(SVG)
    return f"polygon{len(element.get('points').split())}" if tag == "polygon" else tag


def test_four_radar_series_have_four_markers_and_the_legend_shows_each_series_own():
    svg = _radar([Series(name, [3 + n, 4, 5, 6, 7, 8]) for n, name in enumerate(("Kvinnor", "Män", "Annat", "X"))])
    tree = _tree(svg)
    shapes = []
    for number in range(4):
        group = tree.find(f".//svg:g[@data-series='{number}']", NS)
        in_series = {_shape(m) for m in group if m.get("class") == f"series-{number}" and _shape(m) != "polygon6"}
        outside = [m for m in tree if m.get("class") == f"series-{number}" and m.tag != f"{SVG}line"]
        assert len(in_series) == 1 and {_shape(m) for m in outside} == in_series  # the legend's marker
        shapes.append(in_series.pop())
    assert shapes == ["rect", "circle", "polygon3", "polygon4"]


def test_the_compare_page_radar_keeps_squares_for_the_participant_and_circles_for_the_mentor():
    svg = _radar([Series("Deltagaren", [3, 5, 7, 8, 4, 6]), Series("Handledaren", [4, 5, 6, 7, 5, 5])])
    tree = _tree(svg)
    assert len(tree.findall(".//svg:rect[@class='series-0']", NS)) == len(AREAS) + 1  # one per axis, one in the legend
    assert not tree.findall(".//svg:circle[@class='series-0']", NS)
    assert len(tree.findall(".//svg:circle[@class='series-1']", NS)) == len(AREAS) + 1


def test_line_series_have_markers_and_dashes_of_their_own():
    svg = charts.line_svg(
        title="Två",
        x_labels=["a", "b", "c"],
        series=[Series("A", [1, 2, 3]), Series("B", [3, 2, 1])],
        min_value=0,
        max_value=5,
    )
    tree = _tree(svg)
    assert len(tree.findall(".//svg:rect[@class='series-0']", NS)) == 4  # three points and the legend
    assert len(tree.findall(".//svg:circle[@class='series-1']", NS)) == 4
    dashes = [p.get("stroke-dasharray") for p in tree.iter(f"{SVG}polyline")]
    assert dashes[0] is None and dashes[1]


# --- Gaps ------------------------------------------------------------------------------------------------


def test_a_radar_series_with_a_missing_value_has_a_gap_not_a_point_at_the_centre():
    svg = _radar([Series("Deltagaren", [3, 5, 7, 8, 4, 6]), Series("Handledaren", [4, None, 6, 7, 5, 5])])
    tree = _tree(svg)
    centre = float(tree.get("data-centre"))
    whole = tree.find(".//svg:g[@data-series='0']", NS)
    gapped = tree.find(".//svg:g[@data-series='1']", NS)
    assert len(whole.find("svg:polygon", NS).get("points").split()) == 6  # closed, all six
    assert gapped.find("svg:polygon[@class='series-1']", NS) is None  # no closed shape
    assert all(len(p.get("points").split()) <= 1 for p in gapped.findall("svg:polygon", NS))
    lines = gapped.findall("svg:polyline", NS)
    assert [len(line.get("points").split()) for line in lines] == [5]  # Jobbsökande round to Arbetsmarknad
    markers = gapped.findall("svg:circle", NS)
    assert len(markers) == 5
    assert all((float(m.get("cx")), float(m.get("cy"))) != (centre, centre) for m in markers)


def test_a_radar_shows_its_scale_on_the_rings_in_swedish_numbers():
    scale = _tree(_radar([Series("Deltagaren", [3, 5, 7, 8, 4, 6])])).findall(".//svg:text[@class='scale']", NS)

    assert [text.text for text in scale] == ["3,25", "5,5", "7,75", "10"]


def test_a_line_breaks_where_a_value_is_missing():
    svg = charts.line_svg(
        title="Luckor",
        x_labels=list("abcdef"),
        series=[Series("A", [1, 2, None, 4, 5, None])],
        min_value=0,
        max_value=5,
    )
    assert [len(p.get("points").split()) for p in _tree(svg).iter(f"{SVG}polyline")] == [2, 2]


def test_a_hidden_bar_value_has_no_bar_but_a_dash():
    svg = charts.bar_svg(title="Dolda", labels=["Avslutade"], series=[Series("Kvinnor", [None]), Series("Män", [7])])
    assert [_read(t) for t in _texts(svg)].count("–") == 1
    assert len(_fills(svg, 0)) == 1  # only the legend swatch
    assert len(_fills(svg, 1)) == 2


# --- Nothing to draw ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("svg", "sentence"),
    [
        (lambda: charts.bar_svg(title="T", labels=[], series=[]), NOTHING),
        (
            lambda: charts.bar_svg(title="T", labels=["a", "b"], series=[Series("x", [None, None])]),
            NOTHING,
        ),
        (lambda: _radar([Series("x", [1, 2])], axes=["A", "B"]), TOO_FEW),
        (lambda: _radar([Series("x", [None] * 6)]), NOTHING),
        (
            lambda: charts.line_svg(title="T", x_labels=["a"], series=[Series("x", [None])], min_value=0, max_value=1),
            NOTHING,
        ),
        (
            lambda: charts.timeline_svg(
                title="T", start=date(2026, 1, 1), end=date(2026, 2, 1), lanes=[], series_names=[]
            ),
            NOTHING,
        ),
        (lambda: charts.ladder_lanes_svg(title="T", lanes=[], start_label="", end_label=""), NOTHING),
    ],
    ids=["bar, no labels", "bar, all hidden", "radar, two axes", "radar, no values", "line", "timeline", "ladder"],
)
def test_a_chart_with_nothing_to_draw_says_so_in_a_sentence(svg, sentence):
    drawn = svg()
    tree = _tree(drawn)
    assert "chart" in tree.get("class").split() and "chart-empty" in tree.get("class").split()
    assert tree.get("role") == "img" and sentence in tree.get("aria-label")
    (text,) = _texts(drawn)
    assert " ".join(" ".join(_shown(text)).split()) == sentence
    assert _outside(drawn) == []


def test_the_compare_page_can_keep_an_empty_radar_for_its_script_to_fill():
    svg = charts.radar_svg(
        title="R", axes=AREAS, series=[Series("a", [None] * 6)], min_value=1, max_value=10, keep_frame=True
    )
    tree = _tree(svg)
    assert "chart-empty" not in tree.get("class") and tree.get("data-radius")
    assert tree.find(".//svg:g[@data-series='0']/svg:polygon", NS) is not None  # conversation.js sets its points


def test_texts_are_escaped():
    svg = charts.bar_svg(title='<a "b">', labels=["<script>&"], series=[Series("<i>", [1])])
    assert "<script>" not in svg and "&lt;script&gt;&amp;" in svg and "<i>" not in svg
    _tree(svg)  # well-formed


# --- Measuring with the PDF's font ----------------------------------------------------------------------------


@cache
def _font(bold: bool):  # noqa: ANN202
    ttlib = pytest.importorskip("fontTools.ttLib")
    path = FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    if not path.exists():
        pytest.skip("DejaVu Sans is not installed")
    font = ttlib.TTFont(path)
    return font.getBestCmap(), font["hmtx"], font["head"].unitsPerEm


def _measure(text: str, size: float, bold: bool) -> float:
    cmap, metrics, units = _font(bold)
    return sum(metrics[cmap[ord(c)]][0] if ord(c) in cmap else units for c in text) * size / units


def _outside(svg: str) -> list[str]:
    """The texts whose box (DejaVu Sans advance widths; ascent and descent as a browser's getBBox
    counts them) reaches outside the SVG's viewBox."""
    tree = _tree(svg)
    vx, vy, vw, vh = (float(v) for v in tree.get("viewBox").split())
    rtl = tree.get("direction") == "rtl"
    found = []
    for text in tree.iter(f"{SVG}text"):
        size = float(text.get("font-size", 16))
        bold = text.get("font-weight") in ("600", "700", "bold")
        anchor = text.get("text-anchor", "start")
        if rtl and anchor != "middle":
            anchor = "end" if anchor == "start" else "start"
        x, y = float(text.get("x")), float(text.get("y"))
        spans = text.findall("svg:tspan", NS) or [text]
        for index, span in enumerate(spans):
            if span is not text:
                x = float(span.get("x", x))
                y += float(span.get("dy", 0)) if index else 0
            width = _measure(span.text or "", size, bold)
            left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
            if left < vx or left + width > vx + vw or y - 0.93 * size < vy or y + 0.24 * size > vy + vh:
                found.append(span.text or "")
    return found
