"""The report pack as a förbund lays out the appendix of its annual report
(../shared/domain/annual-report.md): a summary of the förbund first (key figures, the goal matrix, the
insatser side by side), the förbund's reports, then one spread per insats in the fixed template
(Kontakt, Bakgrund, Mål, Syfte, Målgrupp, figures against targets, participant flow, exits, income
before and after, survey, stegförflyttning, socio-economic result, Ekonomiskt utfall, Framtid).

Every figure comes from registry.build_report, so the pack shows what the report pages and the API
show and is protected the same way. A section with neither text nor a figure is left out, never
printed empty."""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from django.utils.safestring import SafeString

from config.numbers import swedish_number
from participants.models import Insats
from progression.models import ReportText
from progression.reports import disclosure, periods, rendering
from progression.reports.base import Report, Table
from progression.reports.filters import ReportFilter
from progression.reports.registry import REPORTS, build_report

# The texts of an insats before its figures and after them, as the template orders them.
TEXTS_BEFORE = (
    ("kontakt", "Kontakt"),
    ("bakgrund", "Bakgrund"),
    ("mal", "Mål"),
    ("syfte", "Syfte"),
    ("malgrupp", "Målgrupp"),
)
TEXTS_AFTER = (("ekonomiskt_utfall", "Ekonomiskt utfall"), ("framtid", "Framtid"))

PROGRESSION_TABLES = ("Medelvärden", "Tillförlitlig förändring", "Förflyttning mellan stegen")
# What an insats' spread shows of each report, in order: the heading, the report, the tables (by the
# start of their titles; all of them when None) and whether its first chart is drawn.
INSATS_SECTIONS: tuple[tuple[str, str, tuple[str, ...] | None, bool], ...] = (
    ("Deltagarflöde", "participant-flow", None, False),
    ("Avslut", "exits", ("Avslut per avslutsanledning",), False),
    ("Försörjning före och efter", "income-sources", None, False),
    ("Deltagarenkät", "survey", None, False),
    ("Stegförflyttning", "progression", PROGRESSION_TABLES, True),
    ("Samhällsekonomiskt resultat", "socioeconomic", None, False),
    ("Volymer", "volumes", None, False),
)


@dataclass
class Block:
    """A heading with its figures: charts (as figures with title and caption), tables and notes."""

    heading: str
    anchor: str
    figures: list[SafeString] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    texts: list[tuple[str, str]] = field(default_factory=list)  # (heading, text) written by the insats
    definitions: list[str] = field(default_factory=list)  # how the figures are counted


@dataclass
class Spread:
    """One insats: its texts and figures, starting on a page of its own."""

    name: str
    anchor: str
    blocks: list[Block]


@dataclass
class Appendix:
    title: str
    forbund: str
    period: str
    external: bool
    summary: list[Block]
    forbund_blocks: list[Block]
    spreads: list[Spread]
    empty_message: str = ""
    # "Förbundets rapporter", or for some insatser only "Rapporter för Jonsbo försteg"
    reports_heading: str = "Förbundets rapporter"
    # Under the contents: the chosen insatser that have no spread, and why.
    left_out: str = ""

    @property
    def contents(self) -> list[tuple[str, str, int]]:
        """The table of contents: (title, anchor, level)."""
        lines = [(block.heading, block.anchor, 1) for block in self.summary[:1]]
        if self.forbund_blocks:
            lines.append((self.reports_heading, "forbund", 1))
            lines += [(block.heading, block.anchor, 2) for block in self.forbund_blocks]
        if self.spreads:
            lines.append(("Insatserna", self.spreads[0].anchor, 1))
            lines += [(spread.name, spread.anchor, 2) for spread in self.spreads]
        return lines


def _mostly_hidden(table: Table) -> bool:
    """Whether most of a table's figures are not shown (a handful of people, protected): twelve rows
    of "–" tell a board nothing, so the appendix leaves such a table out."""
    figures = [value for row in table.rows for value in row[1:] if not isinstance(value, str) or value == "–"]
    return sum(value is None or value == "–" for value in figures) > len(figures) / 2


def _block(
    heading: str, anchor: str, report: Report, titles: tuple[str, ...] | None, chart: bool | None, *, full: bool = False
) -> Block:
    """A report's tables with figures (those whose titles start as given), its first chart or all of
    them (chart=None), and the notes the tables need; empty when nothing has figures. `full` adds
    how the figures are counted (the förbund's reports; an insats' spread refers to them)."""
    tables = [
        table
        for table in report.tables
        if table.has_figures and not _mostly_hidden(table) and (titles is None or table.title.startswith(titles))
    ]
    if not tables:
        return Block(heading, anchor)
    charts = report.charts if chart is None else report.charts[:1] if chart else []
    charts = [c for c in charts if any(value is not None for _name, values in c.series for value in values)]
    return Block(
        heading,
        anchor,
        figures=[rendering.chart_figure(c, external=report.external) for c in charts],
        tables=tables,
        definitions=[line for line in report.definitions if line != disclosure.FOOTNOTE] if full else [],
    )


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{swedish_number(value)}\u00a0%"  # never "%" alone on a line


def _outcome(share: float | None, part: int, whole: int, noun: str, *, external: bool) -> str:
    """ "71,4 % (5 av 7 avslutade)"; outside only the whole beside the share ("(n = 7 avslutade)"),
    for a published part may exceed its published whole."""
    if external:
        return f"{_percent(share)} (n\u00a0=\u00a0{whole} {noun})"
    return f"{_percent(share)} ({part} av {whole} {noun})"


def _verdict(target: float | None, met: bool | None) -> str:
    if target is None:
        return "Inget mål"
    return {True: "Uppfyllt", False: "Ej uppfyllt", None: "Kan inte avgöras"}[met]


def _goal_rows(reports: dict[str, Report]) -> list[list[Any]]:
    """Measure, outcome with its n, target, met or not: the exits' shares and the survey's
    questions that have a target for the period."""
    rows = []
    exits = reports["exits"]
    for key, label in (
        ("to_work_studies_or_job_seeking", "Till arbete, studier eller aktivt arbetssökande"),
        ("to_further_rehabilitation", "Till fortsatt rehabilitering"),
    ):
        outcome = exits.data[key]
        if outcome["n"]:
            rows.append(
                [
                    f"{label} (andel av avslutade)",
                    _outcome(outcome["share"], outcome["count"], outcome["n"], "avslutade", external=exits.external),
                    "–" if outcome["target"] is None else f"minst\u00a0{_percent(outcome['target'])}",
                    _verdict(outcome["target"], outcome["met"]),
                ]
            )
    survey = reports["survey"]
    rows.extend(
        [
            f"Enkät: {question['question']} (andel positiva svar)",
            _outcome(
                question["share_positive"], question["positive"], question["n"], "svarande", external=survey.external
            ),
            f"minst\u00a0{_percent(question['target'])}",
            _verdict(question["target"], question["met"]),
        ]
        for instrument in survey.data["instruments"].values()
        for question in instrument["questions"]
        if question["n"] and question["target"] is not None
    )
    return rows


def _texts(text: ReportText | None, fields: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    return [(label, getattr(text, name)) for name, label in fields if text and getattr(text, name).strip()]


def _spread(insats: Insats, reports: dict[str, Report], text: ReportText | None) -> Spread | None:
    """An insats' pages, or None when it has neither a text nor a figure for the period."""
    anchor = f"insats-{insats.pk}"
    blocks = []
    intro = _texts(text, TEXTS_BEFORE)
    if intro:
        blocks.append(Block("Om insatsen", f"{anchor}-om", texts=intro))
    goals = _goal_rows(reports)
    goal_texts = _texts(text, (("maluppfyllelse", "Måluppfyllelse"),))
    if goals or goal_texts:
        table = Table("Nyckeltal mot mål", ["Mått", "Utfall", "Mål", "Bedömning"], goals) if goals else None
        blocks.append(
            Block(
                "Måluppfyllelse",
                f"{anchor}-mal",
                tables=[table] if table else [],
                texts=goal_texts,
            )
        )
    for heading, name, titles, chart in INSATS_SECTIONS:
        block = _block(heading, f"{anchor}-{name}", reports[name], titles, chart)
        if block.tables:
            blocks.append(block)
    outro = _texts(text, TEXTS_AFTER)
    if outro:
        blocks.append(Block("Ekonomi och framtid", f"{anchor}-framtid", texts=outro))
    return Spread(insats.name, anchor, blocks) if blocks else None


def _summary(filters: ReportFilter, whole: dict[str, Report], per_insats: dict[Insats, dict[str, Report]]) -> Block:
    """The förbund on one page: key figures, the goal matrix, the insatser side by side."""
    flow = whole["participant-flow"].data
    exits = whole["exits"].data
    work = exits["to_work_studies_or_job_seeking"]
    key_figures = Table(
        "Förbundet i siffror" if filters.all_insatser else "I siffror",
        ["", "Antal"],
        [
            ["Deltagare under perioden (unika personer)", flow["unique_persons"]["total"]],
            ["Nya inskrivningar", flow["started"]["total"]],
            ["Avslutade", flow["ended"]["total"]],
            ["Aktiva vid periodens slut", flow["active_at_end"]["total"]],
            ["Till arbete, studier eller aktivt arbetssökande", work["count"] if work["n"] else None],
        ],
    )
    side_by_side = Table(
        "Insatserna",
        ["Insats", "Unika personer", "Nya", "Avslutade", "Till arbete, studier, arbetssökande %"],
        [
            [
                insats.name,
                reports["participant-flow"].data["unique_persons"]["total"],
                reports["participant-flow"].data["started"]["total"],
                reports["participant-flow"].data["ended"]["total"],
                reports["exits"].data["to_work_studies_or_job_seeking"]["share"],
            ]
            for insats, reports in per_insats.items()
            if reports["participant-flow"].data["registrations"]["total"]
        ],
    )
    goal_matrix = Table(
        "Målmatris",
        ["Insats", "Mått", "Utfall", "Mål", "Bedömning"],
        [[insats.name, *row] for insats, reports in per_insats.items() for row in _goal_rows(reports)],
    )
    tables = [table for table in (key_figures, side_by_side, goal_matrix) if table.rows and _has_table_content(table)]
    return Block("Förbundet i sammandrag" if filters.all_insatser else "I sammandrag", "sammandrag", tables=tables)


def _has_table_content(table: Table) -> bool:
    return table.has_figures or any(isinstance(value, str) for row in table.rows for value in row[1:])


def build_appendix(filters: ReportFilter, progress: Callable[[int], None] = lambda percent: None) -> Appendix:
    """Every report for the förbund and for each insats (protected when filters.external), laid out."""
    selections: list[tuple[Insats | None, ReportFilter]] = [(None, filters)]
    if len(filters.insatser) > 1:
        selections += [(insats, replace(filters, insatser=(insats,))) for insats in filters.insatser]
    built: dict[Insats | None, dict[str, Report]] = {}
    steps = len(selections) * len(REPORTS)
    for number, (insats, selection) in enumerate(selections):
        built[insats] = {}
        for offset, name in enumerate(REPORTS, 1):
            built[insats][name] = build_report(name, filters=selection)
            progress(100 * (number * len(REPORTS) + offset) // steps)
    whole = built.pop(None)
    per_insats = {insats: reports for insats, reports in built.items() if insats is not None} or {
        filters.insatser[0]: whole
    }
    texts = {
        text.insats_id: text
        for text in ReportText.objects.filter(
            insats__in=filters.insatser, period_start=filters.date_from, period_end=filters.date_to
        )
    }
    forbund_blocks = [
        block
        for block in (
            _block(REPORTS[name][0], f"forbund-{name}", report, None, None, full=True) for name, report in whole.items()
        )
        if block.tables
    ]
    spreads = [
        spread
        for spread in (_spread(insats, reports, texts.get(insats.pk)) for insats, reports in per_insats.items())
        if spread
    ]
    with_spread = {spread.name for spread in spreads}
    without = [insats.name for insats in per_insats if insats.name not in with_spread]
    period = periods.period_label(filters.date_from, filters.date_to)
    summary = _summary(filters, whole, per_insats)
    empty = not forbund_blocks and not spreads
    chosen = "" if filters.all_insatser else ", ".join(insats.name for insats in filters.insatser)
    return Appendix(
        title=f"Bilaga: resultat för {chosen}, {period.lower()}"
        if chosen
        else f"Bilaga: insatsernas resultat {period.lower()}",
        forbund=filters.forbund.name,
        reports_heading=f"Rapporter för {chosen}" if chosen else "Förbundets rapporter",
        period=period,
        external=filters.external,
        summary=[summary] if summary.tables else [],
        forbund_blocks=forbund_blocks,
        spreads=spreads,
        left_out=_left_out_sentence(without, external=filters.external) if spreads else "",
        empty_message=(
            f"Inga deltagare, enkätsvar eller texter finns för {chosen or filters.forbund.name} under "
            f"{period.lower()}, "
            "så bilagan har inget att visa."
        )
        if empty
        else "",
    )


def _left_out_sentence(names: list[str], *, external: bool) -> str:
    """Why an insats of the selection has no spread of its own."""
    if not names:
        return ""
    why = "inga deltagare, enkätsvar eller texter under perioden"
    if external:
        why += ", eller så få deltagare att de skyddade talen visas som 0"
    listed = ", ".join(names[:-1]) + f" och {names[-1]}" if len(names) > 1 else names[0]
    return f"Utan egen redovisning: {listed} ({why}). De ingår i förbundets siffror."


def single_report(report: Report) -> Appendix:
    """One report as a PDF, laid out like a section of the appendix."""
    block = _block(report.title, f"forbund-{report.name}", report, None, None, full=True)
    period = periods.period_label(report.filters.date_from, report.filters.date_to)
    return Appendix(
        title=report.title,
        forbund=report.filters.forbund.name,
        period=period,
        external=report.external,
        summary=[],
        forbund_blocks=[block] if block.tables else [],
        spreads=[],
        empty_message="" if block.tables else f"Inga uppgifter för {report.filters.describe()}.",
    )
