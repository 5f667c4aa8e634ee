"""Charts as inline SVG, drawn on the server: no JavaScript library, no CDN, and the same
picture works on the tablet, in the browser and in a PDF. Colours come from CSS classes
(series-0, series-1, …) and every chart has a text title and a table next to it for screen readers."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # one per axis / point; None = no value


PALETTE = ["#1f5f8b", "#c0561b", "#2e7d4f", "#7a4fa3"]


def _paint(number: int, *, fill: bool = True) -> str:
    """Colour as SVG attributes (not only CSS), so the same chart looks right in a PDF too."""
    colour = PALETTE[number % len(PALETTE)]
    return f'class="series-{number}" stroke="{colour}"' + (f' fill="{colour}"' if fill else ' fill="none"')


def _fmt(number: float) -> str:
    return f"{number:.1f}"


def _marker(number: int, x: float, y: float, half: float) -> str:
    """A series' point: squares for even series, circles for odd, so colour is never the only cue."""
    if number % 2:
        return f'<circle {_paint(number)} cx="{_fmt(x)}" cy="{_fmt(y)}" r="{_fmt(half)}"/>'
    return (
        f'<rect {_paint(number)} x="{_fmt(x - half)}" y="{_fmt(y - half)}" '
        f'width="{_fmt(2 * half)}" height="{_fmt(2 * half)}"/>'
    )


def radar_svg(
    *, title: str, axes: Sequence[str], series: Sequence[Series], min_value: float, max_value: float, size: int = 360
) -> SafeString:
    """A radar (spider) chart with one polygon per series; missing values sit at the centre. Even
    series mark their points with squares, odd ones with circles (colour is never the only cue), and
    the view is widened so that the longest axis label fits beside the chart."""
    centre = size / 2
    radius = size / 2 - 40
    count = len(axes)
    if count < 3:
        return mark_safe("")  # noqa: S308 - nothing to draw
    label_room = max(0, max(len(label) for label in axes) * 7.6 + 24 - 40)  # 13 px text beside the rim

    def point(index: int, value: float | None) -> tuple[float, float]:
        share = 0.0 if value is None else (value - min_value) / (max_value - min_value)
        angle = -math.pi / 2 + 2 * math.pi * index / count
        return centre + radius * share * math.cos(angle), centre + radius * share * math.sin(angle)

    parts = [
        f'<svg class="chart radar" viewBox="{_fmt(-label_room)} 0 {_fmt(size + 2 * label_room)} '
        f'{size + 26 * len(series)}" role="img" data-centre="{_fmt(centre)}" data-radius="{_fmt(radius)}" '
        f'data-min="{min_value}" data-max="{max_value}" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for ring in (0.25, 0.5, 0.75, 1.0):
        ring_points = " ".join(
            f"{_fmt(centre + radius * ring * math.cos(-math.pi / 2 + 2 * math.pi * i / count))},"
            f"{_fmt(centre + radius * ring * math.sin(-math.pi / 2 + 2 * math.pi * i / count))}"
            for i in range(count)
        )
        parts.append(f'<polygon class="grid" points="{ring_points}" fill="none" stroke="#c9d1dc"/>')
    for index, label in enumerate(axes):
        x, y = point(index, max_value)
        parts.append(
            f'<line class="grid" x1="{_fmt(centre)}" y1="{_fmt(centre)}" x2="{_fmt(x)}" y2="{_fmt(y)}" '
            'stroke="#c9d1dc"/>'
        )
        angle = -math.pi / 2 + 2 * math.pi * index / count
        lx, ly = centre + (radius + 12) * math.cos(angle), centre + (radius + 12) * math.sin(angle)
        anchor = "middle" if abs(math.cos(angle)) < 0.3 else ("start" if math.cos(angle) > 0 else "end")
        shift = -2 if math.sin(angle) < -0.9 else (12 if math.sin(angle) > 0.9 else 5)
        parts.append(
            f'<text class="axis-label" x="{_fmt(lx)}" y="{_fmt(ly + shift)}" text-anchor="{anchor}" '
            f'font-size="13">{escape(label)}</text>'
        )
    for number, line in enumerate(series):
        polygon = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in (point(i, v) for i, v in enumerate(line.values)))
        parts.append(
            f'<g class="radar-series" data-series="{number}">'
            f'<polygon {_paint(number)} points="{polygon}" fill-opacity="0.18" stroke-width="2.5"/>'
        )
        for index, value in enumerate(line.values):
            if value is not None:
                parts.append(_marker(number, *point(index, value), 4.5))
        parts.append("</g>")
    for number, line in enumerate(series):
        lx = 20
        ly = size + 4 + 26 * number
        parts.append(
            _marker(number, lx + 8, ly + 8, 8)
            + f'<text x="{_fmt(lx + 24)}" y="{_fmt(ly + 13)}" font-size="14">{escape(line.name)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text is escaped above


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
    """A line chart over time, one line per series; gaps where a value is missing."""
    left, right, top, bottom = 44, 16, 16, 60
    plot_w, plot_h = width - left - right, height - top - bottom
    steps = max(len(x_labels) - 1, 1)

    def xy(index: int, value: float) -> tuple[float, float]:
        return (left + plot_w * index / steps, top + plot_h * (1 - (value - min_value) / (max_value - min_value)))

    parts = [
        f'<svg class="chart line" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for tick in range(5):
        value = min_value + (max_value - min_value) * tick / 4
        _, y = xy(0, value)
        parts.append(
            f'<line x1="{left}" y1="{_fmt(y)}" x2="{width - right}" y2="{_fmt(y)}" stroke="#e1e6ee"/>'
            f'<text x="{left - 6}" y="{_fmt(y + 4)}" text-anchor="end" font-size="11">{value:g}</text>'
        )
    for index, label in enumerate(x_labels):
        x, _ = xy(index, min_value)
        parts.append(
            f'<text x="{_fmt(x)}" y="{height - bottom + 18}" text-anchor="middle" font-size="11">{escape(label)}</text>'
        )
    for number, line in enumerate(series):
        points = [(i, v) for i, v in enumerate(line.values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in (xy(i, v) for i, v in points))
            parts.append(f'<polyline {_paint(number, fill=False)} points="{path}" stroke-width="2.5"/>')
        for i, v in points:
            x, y = xy(i, v)
            parts.append(f'<circle {_paint(number)} cx="{_fmt(x)}" cy="{_fmt(y)}" r="4"/>')
        lx = left + number * 170
        parts.append(
            f'<rect {_paint(number)} x="{lx}" y="{height - 22}" width="14" height="14"/>'
            f'<text x="{lx + 20}" y="{height - 10}" font-size="13">{escape(line.name)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text is escaped above


def bar_svg(
    *, title: str, labels: Sequence[str], series: Sequence[Series], max_value: float | None = None, width: int = 640
) -> SafeString:
    """Horizontal grouped bars, one group per label; a missing (hidden) value shows as "–"."""
    values = [v for s in series for v in s.values if v is not None]
    top = max_value or max(values + [1])
    row_h, bar_h, left, right = 14 * len(series) + 14, 12, 230, 60
    height = 30 + row_h * len(labels) + 24
    parts = [
        f'<svg class="chart bar" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for index, label in enumerate(labels):
        y0 = 10 + index * row_h
        parts.append(
            f'<text x="{left - 8}" y="{y0 + row_h / 2 + 4:.1f}" text-anchor="end" font-size="12">'
            f"{escape(label[:38])}</text>"
        )
        for number, line in enumerate(series):
            value = line.values[index]
            y = y0 + 4 + number * 14
            if value is None:
                parts.append(f'<text x="{left + 4}" y="{y + 10}" font-size="11">–</text>')
                continue
            w = (width - left - right) * (value / top if top else 0)
            parts.append(
                f'<rect {_paint(number)} x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}"/>'
                f'<text x="{left + w + 4:.1f}" y="{y + 10}" font-size="11">{value:g}</text>'
            )
    for number, line in enumerate(series):
        lx = left + number * 150
        parts.append(
            f'<rect {_paint(number)} x="{lx}" y="{height - 18}" width="12" height="12"/>'
            f'<text x="{lx + 18}" y="{height - 8}" font-size="12">{escape(line.name)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text is escaped above


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
    Series differ by shape (square, circle) as well as colour; the page gives the same as text."""
    left = max(90, round(max((len(lane.label) for lane in lanes), default=0) * 8.4 + 16))  # bold 13 px labels
    longest_note = max((len(line) for lane in lanes for line in lane.note.split("\n")), default=0)
    right = max(60, round(longest_note * 6.8 + 14))  # 12 px notes, a line for each series
    top, lane_h, gap = 26, 48, 6
    plot_w = width - left - right
    days = max((end - start).days, 1)
    height = top + len(lanes) * (lane_h + gap) + 64

    def x(day: date) -> float:
        return left + plot_w * min(max((day - start).days, 0), days) / days

    parts = [
        f'<svg class="chart timeline" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    bottom = top + len(lanes) * (lane_h + gap)
    for tick in _month_ticks(start, end):
        tx = x(tick)
        label = MONTHS[tick.month - 1] + (
            f" {tick.year}" if tick.month == 1 or tick == _month_ticks(start, end)[0] else ""
        )
        parts.append(
            f'<line x1="{_fmt(tx)}" y1="{top - 4}" x2="{_fmt(tx)}" y2="{bottom}" stroke="#e1e6ee"/>'
            f'<text x="{_fmt(tx)}" y="{bottom + 14}" text-anchor="middle" font-size="11">{escape(label)}</text>'
        )
    for index, lane in enumerate(lanes):
        y0 = top + index * (lane_h + gap)

        def y(value: float, y0: float = y0, lane: Lane = lane) -> float:
            share = (value - lane.min_value) / ((lane.max_value - lane.min_value) or 1)
            return y0 + lane_h - 4 - (lane_h - 8) * share

        parts.append(
            f'<rect x="{left}" y="{y0}" width="{plot_w}" height="{lane_h}" fill="#f5f7fa" stroke="#e1e6ee"/>'
            f'<line x1="{left}" y1="{_fmt(y((lane.min_value + lane.max_value) / 2))}" x2="{left + plot_w}" '
            f'y2="{_fmt(y((lane.min_value + lane.max_value) / 2))}" stroke="#e1e6ee" stroke-dasharray="2 3"/>'
            f'<text x="{left - 8}" y="{y0 + lane_h / 2 + 5}" text-anchor="end" font-size="13" '
            f'font-weight="600">{escape(lane.label)}</text>'
        )
        lines = lane.note.split("\n")
        for n, line in enumerate(lines):
            ly = y0 + lane_h / 2 + 5 + 14 * (n - (len(lines) - 1) / 2)
            parts.append(f'<text x="{width - right + 8}" y="{_fmt(ly)}" font-size="12">{escape(line)}</text>')
        for number, points in enumerate(lane.series):
            if len(points) > 1:
                path = " ".join(f"{_fmt(x(day))},{_fmt(y(value))}" for day, value in points)
                parts.append(f'<polyline {_paint(number, fill=False)} points="{path}" stroke-width="2"/>')
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
    ly = bottom + 34
    lx = left
    for number, name in enumerate(series_names):
        parts.append(
            _marker(number, lx + 6, ly - 4, 6) + f'<text x="{lx + 16}" y="{ly}" font-size="12">{escape(name)}</text>'
        )
        lx += 30 + 7 * len(name)
    parts.append(
        f'<circle cx="{lx + 6}" cy="{ly - 4}" r="7" fill="#2e7d4f"/><text x="{lx + 6}" y="{ly}" '
        f'text-anchor="middle" font-size="10" fill="#fff">✓</text>'
        f'<text x="{lx + 18}" y="{ly}" font-size="12">Delmål uppnått</text>'
        f'<line x1="{lx + 130}" y1="{ly - 12}" x2="{lx + 130}" y2="{ly + 2}" stroke="#7a4fa3" '
        f'stroke-dasharray="4 3" stroke-width="1.5"/><text x="{lx + 138}" y="{ly}" font-size="12">Ny handledare</text>'
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text is escaped above


def _width(text: str, per_character: float) -> float:
    """A text's width, estimated: Arabic letters are narrower than Latin ones, its vowel marks take none."""
    width = 0.0
    for character in text:
        if "\u064b" <= character <= "\u065f" or character == "\u0670":
            continue
        width += per_character * (0.85 if "\u0600" <= character <= "\u06ff" else 1)
    return width


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
    latest value and its stage) at the other end, or on a line of its own when both do not fit, the
    scale's ends beside the lane, and the first and the latest day under the last lane. Every text
    comes in already translated; with rtl=True the texts are right-to-left and time runs from right
    to left."""
    days = sorted({day for lane in lanes for points in lane.series for day, _ in points})
    line_h, lane_h, gap, ticks_w, pad = 22, 46, 16, 28, 10
    # Bold 16 px and plain 15 px text, estimated per character, side by side on one line?
    rows = [1 if _width(lane.label, 9.6) + _width(lane.note, 8.2) + 24 <= width - 2 * pad else 2 for lane in lanes]
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
    for lane, y0, lines in zip(lanes, tops, rows, strict=True):
        top = y0 + lines * line_h

        def y(value: float, top: float = top, lane: Lane = lane) -> float:
            share = (value - lane.min_value) / ((lane.max_value - lane.min_value) or 1)
            return top + lane_h - 5 - (lane_h - 10) * share

        middle = y((lane.min_value + lane.max_value) / 2)
        note_x, note_y, note_anchor = (far, y0 + 16, "end") if lines == 1 else (near, y0 + line_h + 15, "start")
        note = f'<text x="{note_x}" y="{note_y}" text-anchor="{note_anchor}" font-size="15">{escape(lane.note)}</text>'
        parts.append(
            f'<text x="{near}" y="{y0 + 16}" text-anchor="start" font-size="16" font-weight="600">'
            f"{escape(lane.label)}</text>{note}"
            f'<rect x="{_fmt(left - 6)}" y="{top + 2}" width="{_fmt(right - left + 12)}" height="{lane_h - 2}" '
            'fill="#f5f7fa" stroke="#e1e6ee"/>'
            f'<line x1="{_fmt(left - 6)}" y1="{_fmt(middle)}" x2="{_fmt(right + 6)}" y2="{_fmt(middle)}" '
            'stroke="#d5dce6" stroke-dasharray="2 3"/>'
            f'<text x="{tick_x}" y="{_fmt(y(lane.max_value) + 4)}" text-anchor="start" font-size="12" '
            f'fill="#5b6675">{lane.max_value:g}</text>'
            f'<text x="{tick_x}" y="{_fmt(y(lane.min_value) + 4)}" text-anchor="start" font-size="12" '
            f'fill="#5b6675">{lane.min_value:g}</text>'
        )
        for number, points in enumerate(lane.series):
            if len(points) > 1:
                path = " ".join(f"{_fmt(x(day))},{_fmt(y(value))}" for day, value in points)
                parts.append(f'<polyline {_paint(number, fill=False)} points="{path}" stroke-width="2.5"/>')
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
