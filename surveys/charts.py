"""Charts as inline SVG, drawn on the server: no JavaScript library, no CDN, and the same
picture works on the tablet, in the browser and in a PDF. Colours are SVG attributes (the PDF has
no page style sheet) with a class per series (series-0, series-1, …); every chart has a text title
and a table next to it for screen readers.

Three rules hold for every chart here. Texts stay inside the drawing: their widths are estimated
with DejaVu Sans, the PDF's font and one of the widest sans-serifs, and long labels wrap, or are
shortened with "…" and keep the whole text in a <title>. Series differ by more than colour: bars by
fill (solid, striped, dotted, chequered), points by marker (square, circle, triangle, diamond) and
lines by dash. Numbers are Swedish (66,7; 1 903 500; −2), as in the tables beside the charts."""

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, gettext_lazy

from config.numbers import swedish_number

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # one per axis / point; None = no value


PALETTE = ["#1f5f8b", "#c0561b", "#2e7d4f", "#7a4fa3"]

NOTHING_TO_SHOW = gettext_lazy("Inga uppgifter att visa för urvalet.")
TOO_FEW_AXES = gettext_lazy("För få områden för ett spindeldiagram (minst tre behövs).")

PAD = 6  # between the outermost text and the edge of the drawing
ASCENT, DESCENT = 0.93, 0.24  # DejaVu Sans, in em: what a browser's getBBox counts above and below the baseline

# Pattern ids must be unique on a page that holds several charts.
_chart_numbers = itertools.count(1)


def _paint(number: int, *, fill: bool = True) -> str:
    """Colour as SVG attributes (not only CSS), so the same chart looks right in a PDF too."""
    colour = PALETTE[number % len(PALETTE)]
    return f'class="series-{number}" stroke="{colour}"' + (f' fill="{colour}"' if fill else ' fill="none"')


def _fmt(number: float) -> str:
    """A coordinate (not a number a reader sees: those go through swedish_number)."""
    return f"{number:.1f}"


# --- Text: widths, wrapping, drawing ----------------------------------------------------------------

# DejaVu Sans advance widths (em), rounded up per class of character: 0.64 covers the lower-case
# letters and digits except m and w, 0.8 the capitals except M and W.
_NARROW = set("iljIJ.,:;'|!")
_HALF = set('ftr()[]{}/\\-–·"*_` ')
_WIDE = set("mwMW%@…")
_SYMBOL = set("#+<=>~^−■●▲◆✓&")


def _em(character: str) -> float:
    if "\u064b" <= character <= "\u065f" or character == "\u0670":
        return 0  # Arabic vowel marks sit on their letter
    if "\u0600" <= character <= "\u06ff":
        return 0.6  # Arabic letters, most of them joined and narrower than alone
    if character in _NARROW:
        return 0.4
    if character in _HALF:
        return 0.5
    if character in _WIDE or character in _SYMBOL or character >= "\u2e80":  # and CJK
        return 1.0
    if character.isupper():
        return 0.8
    return 0.64


def _width(text: str, size: float, *, bold: bool = False) -> float:
    """A text's width in px, estimated on the wide side (DejaVu Sans; bold is about 15 % wider)."""
    return sum(_em(character) for character in text) * size * (1.15 if bold else 1)


def _shorten(text: str, room: float, size: float, *, bold: bool = False) -> str:
    """The text cut to fit the room, with "…" where it was cut."""
    while text and _width(text + "…", size, bold=bold) > room:
        text = text[:-1]
    return text.rstrip(" ,;:-–") + "…"


def _wrap(text: str, room: float, size: float, *, bold: bool = False, max_lines: int = 3) -> tuple[list[str], bool]:
    """The text in lines no wider than the room, broken between words; what does not fit in
    max_lines (or a word wider than the room) is shortened with "…". Returns the lines and whether
    anything was shortened."""
    lines: list[str] = []
    for word in text.split():
        if lines and _width(f"{lines[-1]} {word}", size, bold=bold) <= room:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    shortened = len(lines) > max_lines
    if shortened:
        lines = [*lines[: max_lines - 1], _shorten(" ".join(lines[max_lines - 1 :]), room, size, bold=bold)]
    for index, line in enumerate(lines):
        if _width(line, size, bold=bold) > room:
            lines[index] = _shorten(line, room, size, bold=bold)
            shortened = True
    return lines, shortened


def _text(
    lines: Sequence[str],
    *,
    x: float,
    y: float,
    size: float,
    anchor: str = "start",
    line_height: float | None = None,
    full: str = "",
    attributes: str = "",
) -> str:
    """One <text>, a <tspan> per line from the baseline y down, and the whole text in a <title> when
    it was shortened. The space between two lines stays in the text (at the end of a line, or at
    the start of the next for right-aligned text, where it is not seen), so the text reads whole."""
    extra = f' text-anchor="{anchor}"' if anchor != "start" else ""
    opening = f'<text x="{_fmt(x)}" y="{_fmt(y)}"{extra} font-size="{size:g}"{attributes}>'
    title = f"<title>{escape(full)}</title>" if full else ""
    if len(lines) == 1:
        return f"{opening}{title}{escape(lines[0])}</text>"
    step = line_height or round(size * 1.2)
    spans = []
    for index, line in enumerate(lines):
        before = " " if index and anchor == "end" else ""
        after = " " if index < len(lines) - 1 and anchor != "end" else ""
        spans.append(f'<tspan x="{_fmt(x)}" dy="{0 if index == 0 else step}">{before}{escape(line)}{after}</tspan>')
    return f"{opening}{title}{''.join(spans)}</text>"


def _empty(title: str, kind: str, sentence: "StrOrPromise", width: int = 420) -> SafeString:
    """A sentence in place of a chart that has nothing to draw, so the page and the PDF say so
    instead of showing an empty frame."""
    lines, _ = _wrap(str(sentence), width - 2 * PAD, 14)
    height = round(2 * PAD + 8 + 18 * len(lines))
    return mark_safe(  # noqa: S308 - every text is escaped
        f'<svg class="chart chart-empty {kind}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}: {escape(sentence)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
        + _text(lines, x=PAD, y=PAD + 4 + 14 * ASCENT, size=14, line_height=18, attributes=' fill="#4a5566"')
        + "</svg>"
    )


@dataclass(frozen=True)
class _Key:
    """A legend entry: what its series looks like (drawn with its left end at x and its middle at
    y, swatch_width wide) and its name."""

    swatch: Callable[[float, float], str]
    swatch_width: float
    name: str


LEGEND_GAP = 18  # between two legend entries on a row


def _key_width(swatch_width: float, name: str, size: float) -> float:
    return swatch_width + 6 + _width(name, size)


def _legend_row_width(keys: Sequence[_Key], size: float) -> float:
    """The width of the legend on one row, its names whole."""
    return sum(_key_width(key.swatch_width, key.name, size) + LEGEND_GAP for key in keys) - LEGEND_GAP


def _legend(
    keys: Sequence[_Key], *, left: float, right: float, top: float, size: float, row: float
) -> tuple[str, float]:
    """Legend entries left to right, on a new row where the next does not fit; a name too long for
    a row of its own is shortened, whole in its <title>. Returns the SVG and its height."""
    parts, x, y = [], left, top + row / 2
    for key in keys:
        lines, shortened = _wrap(key.name, right - left - key.swatch_width - 6, size, max_lines=1)
        lines = lines or [""]
        width = _key_width(key.swatch_width, lines[0], size)
        if x > left and x + width > right:
            x, y = left, y + row
        name_x = x + key.swatch_width + 6
        parts.append(
            key.swatch(x, y) + _text(lines, x=name_x, y=y + size * 0.35, size=size, full=key.name if shortened else "")
        )
        x += width + LEGEND_GAP
    return "".join(parts), (y + row / 2 - top if keys else 0)


# --- Series: bar fills, markers, line dashes ----------------------------------------------------------

# Each series after the first lays a white pattern over its colour: stripes, dots, a check.
_PATTERNS = {
    1: '<rect x="0" y="0" width="2.5" height="7" fill="#fff"/>',
    2: '<circle cx="3.5" cy="3.5" r="1.5" fill="#fff"/>',
    3: '<rect x="0" y="0" width="7" height="1.6" fill="#fff"/><rect x="0" y="0" width="1.6" height="7" fill="#fff"/>',
}


def _pattern_defs(prefix: str, count: int) -> str:
    defs = [
        f'<pattern id="{prefix}-fill-{number}" patternUnits="userSpaceOnUse" width="7" height="7"'
        + (' patternTransform="rotate(45)"' if number == 1 else "")
        + f">{_PATTERNS[number]}</pattern>"
        for number in range(1, min(count, 4))
    ]
    return f"<defs>{''.join(defs)}</defs>" if defs else ""


def _bar(prefix: str, number: int, x: float, y: float, width: float, height: float) -> str:
    """A bar (or a legend swatch) in its series' colour and fill: solid, striped, dotted, chequered."""
    box = f'x="{_fmt(x)}" y="{_fmt(y)}" width="{_fmt(width)}" height="{_fmt(height)}"'
    bar = f"<rect {_paint(number)} {box}/>"
    if number % 4:
        # Over the colour rather than instead of it: the page's style sheet colours .series-N.
        bar += f'<rect class="fill-pattern" {box} fill="url(#{prefix}-fill-{number % 4})" stroke="none"/>'
    return bar


def _marker(number: int, x: float, y: float, half: float) -> str:
    """A series' point: a square, a circle, a triangle, a diamond, so colour is never the only cue."""
    shape = number % 4
    if shape == 1:
        return f'<circle {_paint(number)} cx="{_fmt(x)}" cy="{_fmt(y)}" r="{_fmt(half)}"/>'
    if shape == 2:
        side = half * 1.2
        corners = [(x, y - side), (x + side, y + side * 0.8), (x - side, y + side * 0.8)]
    elif shape == 3:
        side = half * 1.3
        corners = [(x, y - side), (x + side, y), (x, y + side), (x - side, y)]
    else:
        return (
            f'<rect {_paint(number)} x="{_fmt(x - half)}" y="{_fmt(y - half)}" '
            f'width="{_fmt(2 * half)}" height="{_fmt(2 * half)}"/>'
        )
    points = " ".join(f"{_fmt(cx)},{_fmt(cy)}" for cx, cy in corners)
    return f'<polygon {_paint(number)} points="{points}"/>'


_DASHES = ["", "7 4", "2 3", "9 3 2 3"]


def _dash(number: int) -> str:
    """A series' line: solid, dashed, dotted, dash-dotted."""
    dash = _DASHES[number % 4]
    return f' stroke-dasharray="{dash}"' if dash else ""


def _bar_key(prefix: str, number: int, name: str) -> _Key:
    """A legend entry for a series of bars: a square of its fill."""

    def swatch(x: float, y: float) -> str:
        return _bar(prefix, number, x, y - 6, 12, 12)

    return _Key(swatch, 12, name)


def _line_key(number: int, name: str, half: float = 4.5) -> _Key:
    """A legend entry for a series of points: a piece of its line with its marker."""

    def swatch(x: float, y: float) -> str:
        line = f'<line {_paint(number, fill=False)} x1="{_fmt(x)}" y1="{_fmt(y)}" x2="{_fmt(x + 24)}" y2="{_fmt(y)}"'
        return f'{line} stroke-width="2"{_dash(number)}/>' + _marker(number, x + 12, y, half)

    return _Key(swatch, 24, name)


def _runs(present: Sequence[bool], *, cyclic: bool) -> list[list[int]]:
    """The indices of present values, one list per unbroken stretch. On a radar (cyclic) the last
    axis joins the first, so a stretch may run over from the one to the other."""
    count = len(present)
    if cyclic and all(present):
        return [list(range(count))]
    order = list(range(count))
    if cyclic and any(present):
        after_gap = present.index(False) + 1
        order = order[after_gap:] + order[:after_gap]
    runs: list[list[int]] = [[]]
    for index in order:
        if present[index]:
            runs[-1].append(index)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


# --- Radar ---------------------------------------------------------------------------------------------


def radar_svg(
    *,
    title: str,
    axes: Sequence[str],
    series: Sequence[Series],
    min_value: float,
    max_value: float,
    size: int = 360,
    keep_frame: bool = False,
) -> SafeString:
    """A radar (spider) chart with one polygon per series. A series with a missing value is drawn as
    lines between the values it has, with a gap where one is missing (never a point pulled to the
    centre). Points are marked square, circle, triangle, diamond, the same in the legend. The view
    is widened and heightened so that every axis label fits, wrapped if long.

    Without any value it says so in a sentence, unless keep_frame: then the empty grid is drawn for
    a script to fill in (the conversation's compare page draws today's readings from the tablet)."""
    count = len(axes)
    if count < 3:
        return _empty(title, "radar", TOO_FEW_AXES)
    if not keep_frame and all(v is None for line in series for v in line.values):
        return _empty(title, "radar", NOTHING_TO_SHOW)
    centre = size / 2
    radius = size / 2 - 40
    label_size, line_h = 13, 15

    def angle(index: int) -> float:
        return -math.pi / 2 + 2 * math.pi * index / count

    def point(index: int, value: float) -> tuple[float, float]:
        share = (value - min_value) / ((max_value - min_value) or 1)
        return centre + radius * share * math.cos(angle(index)), centre + radius * share * math.sin(angle(index))

    # Axis labels: placed beside the rim, wrapped to at most three lines; their boxes set the view.
    labels, boxes = [], []
    for index, label in enumerate(axes):
        cos, sin = math.cos(angle(index)), math.sin(angle(index))
        anchor = "middle" if abs(cos) < 0.3 else ("start" if cos > 0 else "end")
        lines, shortened = _wrap(label, 200 if anchor == "middle" else 140, label_size)
        lines = lines or [""]
        lx, ly = centre + (radius + 12) * cos, centre + (radius + 12) * sin
        if sin < -0.9:  # at the top: the lines go upwards from the rim
            first = ly - 2 - (len(lines) - 1) * line_h
        elif sin > 0.9:  # at the bottom: downwards
            first = ly + label_size * ASCENT
        else:
            first = ly + 5 - (len(lines) - 1) * line_h / 2
        widest = max(_width(line, label_size) for line in lines)
        x0 = {"start": lx, "end": lx - widest, "middle": lx - widest / 2}[anchor]
        boxes.append(
            (x0, first - label_size * ASCENT, x0 + widest, first + (len(lines) - 1) * line_h + label_size * DESCENT)
        )
        labels.append(
            _text(
                lines,
                x=lx,
                y=first,
                size=label_size,
                anchor=anchor,
                line_height=line_h,
                full=label if shortened else "",
                attributes=' class="axis-label"',
            )
        )
    half = max(centre, *(max(centre - x0, x1 - centre) for x0, _, x1, _ in boxes)) + PAD
    view_x, view_w = centre - half, 2 * half
    view_y = min(0, *(y0 for _, y0, _, _ in boxes)) - PAD
    rim_bottom = max(point(index, max_value)[1] for index in range(count))
    legend_top = max(rim_bottom, *(y1 for _, _, _, y1 in boxes)) + 14
    keys = [_line_key(n, line.name) for n, line in enumerate(series)]
    # Under the centre when it fits on one row, so that a phone showing the middle shows it whole.
    legend, legend_h = _legend(
        keys,
        left=max(view_x + PAD, centre - _legend_row_width(keys, 14) / 2),
        right=view_x + view_w - PAD,
        top=legend_top,
        size=14,
        row=24,
    )
    height = legend_top + legend_h + PAD - view_y

    parts = [
        f'<svg class="chart radar" viewBox="{_fmt(view_x)} {_fmt(view_y)} {_fmt(view_w)} {_fmt(height)}" '
        f'role="img" data-centre="{_fmt(centre)}" data-radius="{_fmt(radius)}" '
        f'data-min="{min_value}" data-max="{max_value}" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for ring in (0.25, 0.5, 0.75, 1.0):
        ring_points = " ".join(
            f"{_fmt(centre + radius * ring * math.cos(angle(i)))},{_fmt(centre + radius * ring * math.sin(angle(i)))}"
            for i in range(count)
        )
        parts.append(f'<polygon class="grid" points="{ring_points}" fill="none" stroke="#c9d1dc"/>')
    for index in range(count):
        x, y = point(index, max_value)
        parts.append(
            f'<line class="grid" x1="{_fmt(centre)}" y1="{_fmt(centre)}" x2="{_fmt(x)}" y2="{_fmt(y)}" '
            'stroke="#c9d1dc"/>'
        )
    parts.extend(labels)
    for number, line in enumerate(series):
        values = [*list(line.values)[:count], *[None] * (count - len(line.values))]
        present = [v is not None for v in values]
        points = {i: point(i, v) for i, v in enumerate(values) if v is not None}
        parts.append(f'<g class="radar-series" data-series="{number}">')
        if all(present):
            polygon = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in points.values())
            parts.append(
                f'<polygon {_paint(number)} points="{polygon}" fill-opacity="0.18" stroke-width="2.5"{_dash(number)}/>'
            )
        else:
            # The polygon stays, empty and unseen, for conversation.js, which sets its points from the
            # tablet's readings. One point, not none: an empty polygon is a broken path in a PDF.
            colour = PALETTE[number % len(PALETTE)]
            first_point = next(iter(points.values()), None)
            at_first = f"{_fmt(first_point[0])},{_fmt(first_point[1])}" if first_point else ""
            parts.append(
                f'<polygon class="radar-area" points="{at_first}" '
                f'fill="{colour}" stroke="{colour}" fill-opacity="0.18" stroke-width="2.5"{_dash(number)}/>'
            )
            for run in _runs(present, cyclic=True):
                if len(run) > 1:
                    path = " ".join(f"{_fmt(points[i][0])},{_fmt(points[i][1])}" for i in run)
                    parts.append(
                        f'<polyline {_paint(number, fill=False)} points="{path}" stroke-width="2.5"{_dash(number)}/>'
                    )
        parts.extend(_marker(number, x, y, 4.5) for x, y in points.values())
        parts.append("</g>")
    # The scale: each ring's value beside the upward axis, over the series, on a white halo: the
    # halo is a text of its own underneath (the PDF renderer knows no paint-order).
    for ring in (0.25, 0.5, 0.75, 1.0):
        value = round(min_value + ring * (max_value - min_value), 2)
        at = f'x="{_fmt(centre + 4)}" y="{_fmt(centre - radius * ring + 11)}" font-size="10"'
        parts.append(
            f'<text {at} fill="#fff" stroke="#fff" stroke-width="3" aria-hidden="true">{swedish_number(value)}</text>'
            f'<text class="scale" {at} fill="#4a5566">{swedish_number(value)}</text>'
        )
    parts.append(legend)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text is escaped above


# --- Line --------------------------------------------------------------------------------------------


def line_svg(
    *,
    title: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    min_value: float,
    max_value: float,
    width: int = 640,
    height: int = 260,
) -> SafeString:
    """A line chart over time, one line per series, broken where a value is missing; each series
    with its own marker and dash, the same in the legend."""
    if not x_labels or all(v is None for line in series for v in line.values):
        return _empty(title, "line", NOTHING_TO_SHOW)
    steps = max(len(x_labels) - 1, 1)
    ticks = [min_value + (max_value - min_value) * tick / 4 for tick in range(5)]
    tick_texts = [swedish_number(round(value, 2)) for value in ticks]
    tick_room = max(_width(text, 11) for text in tick_texts) + 6
    slot = (width - tick_room - 2 * PAD) / steps if len(x_labels) > 1 else width / 2
    wrapped = [_wrap(label, max(slot - 6, 40), 11, max_lines=2) for label in x_labels]
    first_w = max((_width(line, 11) for line in wrapped[0][0]), default=0)
    last_w = max((_width(line, 11) for line in wrapped[-1][0]), default=0)
    left = max(PAD + tick_room, PAD + first_w / 2)
    right = max(16, PAD + last_w / 2)
    top = PAD + 8
    plot_w, plot_h = width - left - right, height - top - 60
    label_lines = max(len(lines) for lines, _ in wrapped)

    def xy(index: int, value: float) -> tuple[float, float]:
        x = left + plot_w * index / steps if len(x_labels) > 1 else left + plot_w / 2
        return x, top + plot_h * (1 - (value - min_value) / ((max_value - min_value) or 1))

    legend_top = top + plot_h + 10 + 13 * label_lines + 4
    legend, legend_h = _legend(
        [_line_key(n, line.name, half=4) for n, line in enumerate(series)],
        left=PAD,
        right=width - PAD,
        top=legend_top,
        size=13,
        row=22,
    )
    total = round(legend_top + legend_h + PAD)
    parts = [
        f'<svg class="chart line" viewBox="0 0 {width} {total}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for value, text in zip(ticks, tick_texts, strict=True):
        _, y = xy(0, value)
        parts.append(
            f'<line x1="{_fmt(left)}" y1="{_fmt(y)}" x2="{_fmt(width - right)}" y2="{_fmt(y)}" stroke="#e1e6ee"/>'
            f'<text x="{_fmt(left - 6)}" y="{_fmt(y + 4)}" text-anchor="end" font-size="11">{escape(text)}</text>'
        )
    for index, (lines, shortened) in enumerate(wrapped):
        x, _ = xy(index, min_value)
        parts.append(
            _text(
                lines or [""],
                x=x,
                y=top + plot_h + 10 + 11 * ASCENT,
                size=11,
                anchor="middle",
                line_height=13,
                full=x_labels[index] if shortened else "",
            )
        )
    for number, line in enumerate(series):
        present = [v is not None for v in line.values]
        points = {i: xy(i, v) for i, v in enumerate(line.values) if v is not None}
        for run in _runs(present, cyclic=False):
            if len(run) > 1:
                path = " ".join(f"{_fmt(points[i][0])},{_fmt(points[i][1])}" for i in run)
                parts.append(
                    f'<polyline {_paint(number, fill=False)} points="{path}" stroke-width="2.5"{_dash(number)}/>'
                )
        parts.extend(_marker(number, *point, 4) for point in points.values())
    parts.append(legend)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text is escaped above


# --- Bars --------------------------------------------------------------------------------------------


def bar_svg(
    *, title: str, labels: Sequence[str], series: Sequence[Series], max_value: float | None = None, width: int = 640
) -> SafeString:
    """Horizontal grouped bars, one group per label, each series with its own fill (solid, striped,
    dotted, chequered), the same in the legend. A missing (hidden) value has no bar but a "–" (the
    page explains it). The label column is as wide as the labels need, up to two fifths of the
    chart; longer labels wrap onto up to three lines, and room is kept for the widest value."""
    values = [v for line in series for v in line.values if v is not None]
    if not labels or not values:
        return _empty(title, "bar", NOTHING_TO_SHOW)
    top = max_value or max([*values, 1])
    label_size, value_size, line_h, step, bar_h = 12, 11, 14, 14, 12
    texts = {v: swedish_number(v) for v in values}
    value_room = max(_width(text, value_size) for text in [*texts.values(), "–"]) + 4 + PAD
    column = min(max(_width(label, label_size) for label in labels), width * 0.4)
    column = max(column, min(80, width * 0.2))
    left = PAD + column + 8
    plot_w = width - left - value_room
    prefix = f"chart{next(_chart_numbers)}"

    parts, y0 = [], PAD
    for index, label in enumerate(labels):
        lines, shortened = _wrap(label, column, label_size)
        row_h = max(step * len(series), line_h * len(lines)) + 10
        middle = y0 + row_h / 2
        parts.append(
            _text(
                lines or [""],
                x=left - 8,
                y=middle - (len(lines) - 1) * line_h / 2 + 4,
                size=label_size,
                anchor="end",
                line_height=line_h,
                full=label if shortened else "",
            )
        )
        for number, line in enumerate(series):
            value = line.values[index] if index < len(line.values) else None
            y = middle - step * len(series) / 2 + number * step + 1
            if value is None:
                parts.append(f'<text x="{_fmt(left + 4)}" y="{_fmt(y + 10)}" font-size="{value_size}">–</text>')
                continue
            w = min(max(plot_w * (value / top if top else 0), 0), plot_w)
            parts.append(
                _bar(prefix, number, left, y, w, bar_h)
                + f'<text x="{_fmt(left + w + 4)}" y="{_fmt(y + 10)}" font-size="{value_size}">'
                f"{escape(texts[value])}</text>"
            )
        y0 += row_h

    keys = [_bar_key(prefix, number, line.name) for number, line in enumerate(series)]
    legend, legend_h = _legend(keys, left=left, right=width - PAD, top=y0 + 6, size=12, row=20)
    if legend_h > 20:  # more than one row: from the left edge rather than under the bars
        legend, legend_h = _legend(keys, left=PAD, right=width - PAD, top=y0 + 6, size=12, row=20)
    height = round(y0 + 6 + legend_h + PAD)
    return mark_safe(  # noqa: S308 - every text is escaped above
        f'<svg class="chart bar" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        + _pattern_defs(prefix, len(series))
        + "".join(parts)
        + legend
        + "</svg>"
    )


# --- A journey on one timeline --------------------------------------------------------------------


@dataclass(frozen=True)
class Lane:
    """One row of a timeline: each series' dated values on a common scale, and a note at its end
    (one line per series, lines separated by a newline)."""

    label: str
    series: Sequence[Sequence[tuple[date, float]]]
    min_value: float
    max_value: float
    note: str = ""


@dataclass(frozen=True)
class Event:
    """A moment marked across the timeline: a delmål reached ("goal") or a change of mentor ("mentor")."""

    day: date
    label: str
    kind: str


MONTHS = ["jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]


def _month_ticks(start: date, end: date) -> list[date]:
    months = (end.year - start.year) * 12 + end.month - start.month
    every = 1 if months <= 9 else 2 if months <= 18 else 3 if months <= 36 else 6
    tick = date(start.year, start.month, 1)
    ticks = []
    while tick <= end:
        if tick >= start and (tick.month - 1) % every == 0:
            ticks.append(tick)
        tick = date(tick.year + tick.month // 12, tick.month % 12 + 1, 1)
    return ticks


def timeline_svg(
    *,
    title: str,
    start: date,
    end: date,
    lanes: Sequence[Lane],
    series_names: Sequence[str],
    events: Sequence[Event] = (),
    width: int = 720,
) -> SafeString:
    """Lanes over one time axis (e.g. each area on the ladder, and hours per week), with events drawn
    across them: the whole of a participant's journey in one picture that fits a tablet screen.
    Series differ by marker and dash as well as colour; the page gives the same as text. Lane
    labels wrap (up to three lines) and notes are shortened with a <title> when very long, so that
    the time axis keeps at least half the width."""
    if not lanes or (not events and not any(points for lane in lanes for points in lane.series)):
        return _empty(title, "timeline", NOTHING_TO_SHOW)
    label_size, note_size, line_h = 13, 12, 14
    label_room = min(max(_width(lane.label, label_size, bold=True) for lane in lanes), width * 0.22)
    left = max(90, round(PAD + label_room + 8))
    note_room = min(max(_width(line, note_size) for lane in lanes for line in lane.note.split("\n")), width * 0.32)
    right = max(60, round(note_room + 8 + PAD))
    top, lane_h, gap = 26, 48, 6
    plot_w = width - left - right
    days = max((end - start).days, 1)
    bottom = top + len(lanes) * (lane_h + gap)

    def x(day: date) -> float:
        return left + plot_w * min(max((day - start).days, 0), days) / days

    parts = []
    ticks = _month_ticks(start, end)
    for tick in ticks:
        tx = x(tick)
        label = MONTHS[tick.month - 1] + (f" {tick.year}" if tick.month == 1 or tick == ticks[0] else "")
        parts.append(
            f'<line x1="{_fmt(tx)}" y1="{top - 4}" x2="{_fmt(tx)}" y2="{bottom}" stroke="#e1e6ee"/>'
            f'<text x="{_fmt(tx)}" y="{bottom + 14}" text-anchor="middle" font-size="11">{escape(label)}</text>'
        )
    for index, lane in enumerate(lanes):
        y0 = top + index * (lane_h + gap)

        def y(value: float, y0: float = y0, lane: Lane = lane) -> float:
            share = (value - lane.min_value) / ((lane.max_value - lane.min_value) or 1)
            return y0 + lane_h - 4 - (lane_h - 8) * share

        lines, shortened = _wrap(lane.label, label_room, label_size, bold=True)
        parts.append(
            f'<rect x="{left}" y="{y0}" width="{plot_w}" height="{lane_h}" fill="#f5f7fa" stroke="#e1e6ee"/>'
            f'<line x1="{left}" y1="{_fmt(y((lane.min_value + lane.max_value) / 2))}" x2="{left + plot_w}" '
            f'y2="{_fmt(y((lane.min_value + lane.max_value) / 2))}" stroke="#e1e6ee" stroke-dasharray="2 3"/>'
            + _text(
                lines or [""],
                x=left - 8,
                y=y0 + lane_h / 2 + 5 - (len(lines) - 1) * line_h / 2,
                size=label_size,
                anchor="end",
                line_height=line_h,
                full=lane.label if shortened else "",
                attributes=' font-weight="600"',
            )
        )
        notes = lane.note.split("\n")
        for n, note in enumerate(notes):
            ly = y0 + lane_h / 2 + 5 + line_h * (n - (len(notes) - 1) / 2)
            shown, cut = _wrap(note, note_room, note_size, max_lines=1)
            parts.append(_text(shown or [""], x=width - right + 8, y=ly, size=note_size, full=note if cut else ""))
        for number, points in enumerate(lane.series):
            if len(points) > 1:
                path = " ".join(f"{_fmt(x(day))},{_fmt(y(value))}" for day, value in points)
                parts.append(
                    f'<polyline {_paint(number, fill=False)} points="{path}" stroke-width="2"{_dash(number)}/>'
                )
            parts.extend(_marker(number, x(day), y(value), 3.5) for day, value in points)
    for event in events:
        ex = x(event.day)
        if event.kind == "mentor":
            parts.append(
                f'<line x1="{_fmt(ex)}" y1="{top - 8}" x2="{_fmt(ex)}" y2="{bottom}" stroke="#7a4fa3" '
                f'stroke-dasharray="4 3" stroke-width="1.5"><title>{escape(event.label)}</title></line>'
            )
        else:
            parts.append(
                f'<g><title>{escape(event.label)}</title><circle cx="{_fmt(ex)}" cy="{top - 12}" r="8" '
                f'fill="#2e7d4f"/><text x="{_fmt(ex)}" y="{top - 8}" text-anchor="middle" font-size="11" '
                'fill="#fff">✓</text></g>'
            )
    keys = [_line_key(number, name, half=3.5) for number, name in enumerate(series_names)]
    keys += [
        _Key(
            lambda x, y: (
                f'<circle cx="{_fmt(x + 7)}" cy="{_fmt(y)}" r="7" fill="#2e7d4f"/><text x="{_fmt(x + 7)}" '
                f'y="{_fmt(y + 3.5)}" text-anchor="middle" font-size="10" fill="#fff">✓</text>'
            ),
            14,
            gettext("Delmål uppnått"),
        ),
        _Key(
            lambda x, y: (
                f'<line x1="{_fmt(x + 2)}" y1="{_fmt(y - 7)}" x2="{_fmt(x + 2)}" y2="{_fmt(y + 7)}" '
                'stroke="#7a4fa3" stroke-dasharray="4 3" stroke-width="1.5"/>'
            ),
            4,
            gettext("Ny handledare"),
        ),
    ]
    legend, legend_h = _legend(keys, left=left, right=width - PAD, top=bottom + 22, size=12, row=20)
    height = round(bottom + 22 + legend_h + PAD)
    return mark_safe(  # noqa: S308 - every text is escaped above
        f'<svg class="chart timeline" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>' + "".join(parts) + legend + "</svg>"
    )


# --- One participant's own ladder, on a phone ------------------------------------------------------------


def ladder_lanes_svg(
    *,
    title: str,
    lanes: Sequence[Lane],
    start_label: str,
    end_label: str,
    rtl: bool = False,
    width: int = 360,
) -> SafeString:
    """One participant's own readings per area over time, a lane per area stacked one above the
    other so that it reads on a 390 px phone: the area's name above its lane with the note (e.g. the
    latest value and its stage) at the other end, or on lines of their own when both do not fit, the
    scale's ends beside the lane, and the first and the latest day under the last lane. Every text
    comes in already translated; with rtl=True the texts are right-to-left and time runs from right
    to left."""
    if not lanes:
        return _empty(title, "lanes", NOTHING_TO_SHOW, width=width)
    days = sorted({day for lane in lanes for points in lane.series for day, _ in points})
    line_h, lane_h, gap, pad = 22, 46, 16, 10
    scale = [(swedish_number(lane.max_value), swedish_number(lane.min_value)) for lane in lanes]
    ticks_w = max(28, round(max(_width(text, 12) for pair in scale for text in pair) + 10))
    room = width - 2 * pad
    # The label (bold 16 px) and the note (15 px) side by side on one line if they fit, else each on
    # lines of its own.
    texts = []
    for lane in lanes:
        label, label_cut = _wrap(lane.label, room, 16, bold=True, max_lines=2)
        note, note_cut = _wrap(lane.note, room, 15, max_lines=2)
        beside = (
            len(label) == 1 and len(note) <= 1 and _width(label[0], 16, bold=True) + _width(lane.note, 15) + 24 <= room
        )
        texts.append((label or [""], label_cut, note, note_cut, beside))
    rows = [1 if beside else len(label) + len(note) for label, _, note, _, beside in texts]
    tops = [sum(rows[:index]) * line_h + index * (lane_h + gap) for index in range(len(lanes))]
    bottom = sum(rows) * line_h + len(lanes) * (lane_h + gap)
    height = bottom + 32
    # The side the readings start from (the first day) and the side they run to.
    start_x, end_x = (width - ticks_w, pad) if rtl else (ticks_w, width - pad)
    span = max((days[-1] - days[0]).days, 0) if days else 0

    def x(day: date) -> float:
        share = 0.5 if span == 0 else (day - days[0]).days / span
        return start_x + (end_x - start_x) * share

    near, far = (width - pad, pad) if rtl else (pad, width - pad)  # the label's side, the note's side
    tick_x = width - 4 if rtl else 4
    parts = [
        f'<svg class="chart lanes" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'direction="{"rtl" if rtl else "ltr"}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    left, right = min(start_x, end_x), max(start_x, end_x)
    for lane, y0, lines, (label, label_cut, note, note_cut, beside), (high, low) in zip(
        lanes, tops, rows, texts, scale, strict=True
    ):
        top = y0 + lines * line_h

        def y(value: float, top: float = top, lane: Lane = lane) -> float:
            share = (value - lane.min_value) / ((lane.max_value - lane.min_value) or 1)
            return top + lane_h - 5 - (lane_h - 10) * share

        middle = y((lane.min_value + lane.max_value) / 2)
        parts.append(
            _text(
                label,
                x=near,
                y=y0 + 16,
                size=16,
                line_height=line_h,
                full=lane.label if label_cut else "",
                attributes=' font-weight="600"',
            )
        )
        if note:
            note_x, note_y, note_anchor = (
                (far, y0 + 16, "end") if beside else (near, y0 + len(label) * line_h + 15, "start")
            )
            parts.append(
                _text(
                    note,
                    x=note_x,
                    y=note_y,
                    size=15,
                    anchor=note_anchor,
                    line_height=line_h,
                    full=lane.note if note_cut else "",
                )
            )
        parts.append(
            f'<rect x="{_fmt(left - 6)}" y="{top + 2}" width="{_fmt(right - left + 12)}" height="{lane_h - 2}" '
            'fill="#f5f7fa" stroke="#e1e6ee"/>'
            f'<line x1="{_fmt(left - 6)}" y1="{_fmt(middle)}" x2="{_fmt(right + 6)}" y2="{_fmt(middle)}" '
            'stroke="#d5dce6" stroke-dasharray="2 3"/>'
            f'<text x="{tick_x}" y="{_fmt(y(lane.max_value) + 4)}" text-anchor="start" font-size="12" '
            f'fill="#5b6675">{escape(high)}</text>'
            f'<text x="{tick_x}" y="{_fmt(y(lane.min_value) + 4)}" text-anchor="start" font-size="12" '
            f'fill="#5b6675">{escape(low)}</text>'
        )
        for number, points in enumerate(lane.series):
            if len(points) > 1:
                path = " ".join(f"{_fmt(x(day))},{_fmt(y(value))}" for day, value in points)
                parts.append(
                    f'<polyline {_paint(number, fill=False)} points="{path}" stroke-width="2.5"{_dash(number)}/>'
                )
            parts.extend(_marker(number, x(day), y(value), 4.5) for day, value in points)
    axis_y = bottom + 12
    parts.extend(
        f'<line x1="{_fmt(x(day))}" y1="{axis_y - 14}" x2="{_fmt(x(day))}" y2="{axis_y - 8}" stroke="#5b6675"/>'
        for day in days
    )
    if span == 0 and days:
        parts.append(
            f'<text x="{_fmt(x(days[0]))}" y="{axis_y + 8}" text-anchor="middle" font-size="14">'
            f"{escape(end_label)}</text>"
        )
    elif days:
        parts.append(
            f'<text x="{_fmt(start_x)}" y="{axis_y + 8}" text-anchor="start" font-size="14">'
            f"{escape(start_label)}</text>"
            f'<text x="{_fmt(end_x)}" y="{axis_y + 8}" text-anchor="end" font-size="14">{escape(end_label)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text is escaped above
