"""What tests/e2e/test_report_visuals.py measures: a report page's text and chart labels as the browser
lays them out, and every word of a PDF with its box as poppler finds it."""

import html
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

# (a) The PDF's page box. The pack's template (progression/templates/progression/appendix.html) has
# 16 mm side margins in its @page rule: text keeps between them, with a little tolerance (the running
# header and footer sit in the top and bottom margins, between the side margins too), and nothing
# comes nearer the top or bottom edge than a printer prints. pdftotext leaves out characters entirely
# off the page, so a table running off the right edge shows as words in the right margin and one word
# cut by the edge.
MM = 72 / 25.4
SIDE_MARGIN = 16 * MM
TOLERANCE = 2 * MM
PRINTABLE_EDGE = 5 * MM

# What the checks need from a page, in one call. (b): every <text> of every svg.chart whose box, taken
# through the text's transforms into the chart's coordinates, reaches outside the viewBox, where the
# drawing is cut off. innerText is the text as drawn: an SVG's <title> or a hidden element is not in it.
PAGE_FACTS = """() => {
  const clipped = [...document.querySelectorAll('svg.chart')].flatMap((svg, index) => {
    const view = svg.viewBox.baseVal && svg.viewBox.baseVal.width
      ? svg.viewBox.baseVal
      : {x: 0, y: 0, width: svg.width.baseVal.value, height: svg.height.baseVal.value};
    const name = svg.getAttribute('aria-label') || svg.querySelector('title')?.textContent || `chart ${index + 1}`;
    const toChart = svg.getScreenCTM().inverse();
    return [...svg.querySelectorAll('text')].filter(text => text.textContent.trim()).flatMap(text => {
      const b = text.getBBox();
      const m = toChart.multiply(text.getScreenCTM());
      const corners = [[b.x, b.y], [b.x + b.width, b.y], [b.x, b.y + b.height], [b.x + b.width, b.y + b.height]];
      const xs = corners.map(([x, y]) => m.a * x + m.c * y + m.e);
      const ys = corners.map(([x, y]) => m.b * x + m.d * y + m.f);
      const [left, right, top, bottom] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
      const slack = 0.5;
      if (left >= view.x - slack && top >= view.y - slack && right <= view.x + view.width + slack
          && bottom <= view.y + view.height + slack) return [];
      const r = Math.round;
      return [`${name}: "${text.textContent.trim()}" at x ${r(left)}–${r(right)}, y ${r(top)}–${r(bottom)}, `
        + `outside the viewBox ${r(view.x)} ${r(view.y)} ${r(view.width)} ${r(view.height)}`];
    });
  });
  return {
    status: performance.getEntriesByType('navigation')[0]?.responseStatus ?? 0,
    heading: document.querySelector('h1')?.innerText ?? '',
    text: document.body.innerText,
    charts: document.querySelectorAll('svg.chart').length,
    clipped,
  };
}"""


@dataclass
class PageView:
    """One report page as the browser showed it at one viewport."""

    status: int = 0
    heading: str = ""
    text: str = ""
    charts: int = 0
    clipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class Word:
    text: str
    x_min: float
    y_min: float
    x_max: float
    y_max: float
    line: str


@dataclass
class PdfPage:
    number: int
    width: float
    height: float
    words: list[Word]
    lines: list[str]


def pdf_pages(path: Path) -> list[PdfPage]:
    """Every word of the PDF with its box, from poppler's pdftotext -bbox-layout (points, top left 0 0)."""
    xhtml = subprocess.run(
        ["pdftotext", "-bbox-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    attribute = re.compile(r'(\w+)="([^"]*)"')
    pages = []
    for number, match in enumerate(re.finditer(r"<page ([^>]*)>(.*?)</page>", xhtml, re.S), 1):
        size = dict(attribute.findall(match[1]))
        words, lines = [], []
        for line in re.findall(r"<line[^>]*>(.*?)</line>", match[2], re.S):
            found = re.findall(r"<word ([^>]*)>(.*?)</word>", line, re.S)
            text = " ".join(html.unescape(word) for _, word in found)
            lines.append(text)
            for attributes, word in found:
                box = {key: float(value) for key, value in attribute.findall(attributes)}
                words.append(Word(html.unescape(word), box["xMin"], box["yMin"], box["xMax"], box["yMax"], text))
        pages.append(PdfPage(number, float(size["width"]), float(size["height"]), words, lines))
    return pages


def word_outside(word: Word, page: PdfPage) -> str:
    """Why the word is not where a printed page shows it whole, or ''."""
    if word.x_min < -0.5 or word.y_min < -0.5 or word.x_max > page.width + 0.5 or word.y_max > page.height + 0.5:
        return "cut by the page edge"
    if word.x_min < SIDE_MARGIN - TOLERANCE:
        return f"in the left margin ({word.x_min / MM:.0f} mm from the edge)"
    if word.x_max > page.width - SIDE_MARGIN + TOLERANCE:
        return f"in the right margin ({(page.width - word.x_max) / MM:.0f} mm from the edge)"
    if word.y_min < PRINTABLE_EDGE or word.y_max > page.height - PRINTABLE_EDGE:
        return f"at the top or bottom edge ({min(word.y_min, page.height - word.y_max) / MM:.0f} mm from it)"
    return ""
