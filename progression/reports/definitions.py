"""The seven reports. Every figure is computed from person-level rows in SQL, with its denominator.

Each function takes a Context (filters, whether the output leaves the organisation) and returns a
Report; build_report in registry.py is the only caller. Every count is read as a Cell (how many rows,
and the sum of their record keys) and shown through ctx.count, every mean through ctx.mean: exact
inside the organisation, protected by the cell-key method outside (disclosure.py).

A report costs a fixed, small number of queries whatever the data: one grouped or conditionally
aggregated query per table instead of one per line (tests/reports/test_report_queries.py pins the
counts)."""

import json
from contextlib import nullcontext
from datetime import datetime, time
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import ExtractYear
from django.utils import timezone

from config.numbers import swedish_number
from config.replica import reading_connection
from participants.models import (
    EducationLevel,
    Enrolment,
    ExitReason,
    IncomeSource,
    InsatsPeriod,
    MeasurementMode,
    VolumeRegistration,
)
from progression import flow_counts, scoring
from progression.models import Classification, NormSet, Progression
from progression.reports import disclosure
from progression.reports.base import (
    HIDDEN,
    KON_COLUMNS,
    KON_LABELS,
    KON_PARTS,
    Chart,
    Context,
    Report,
    Table,
    empty_sentence,
    kon_column,
)
from progression.reports.disclosure import Cell
from progression.reports.filters import AGE_BANDS
from progression.reports.statistics import (
    Interval,
    d_z_interval,
    d_z_value,
    mean_interval,
    reliable_change_threshold,
    stable_round,
    wilson_interval,
)
from surveys.models import (
    Item,
    ScaleKind,
    SessionStatus,
    SurveyAnswer,
    SurveyCampaign,
    SurveyResponse,
)
from surveys.selectors import area_labels

KON_Q = {
    "kvinna": Q(participant__kon="kvinna"),
    "man": Q(participant__kon="man"),
    "annat": ~Q(participant__kon__in=["kvinna", "man"]),
}
AGE_AT_START_BANDS = [
    ("16–19", 16, 19),
    ("20–24", 20, 24),
    ("25–29", 25, 29),
    ("30–39", 30, 39),
    ("40–49", 40, 49),
    ("50–59", 50, 59),
    ("60–", 60, 200),
]
SUPPORT_BANDS = [("<1", 0, 1), ("1–2", 1, 2), ("2–3", 2, 3), ("3–5", 3, 5), ("5–10", 5, 10), (">10", 10, 1000)]


def enrolments(ctx: Context, *, include_anonymous: bool = False) -> QuerySet[Enrolment]:
    """Per-person enrolments of the chosen insatser, felregistrering never, people filtered by kön/age."""
    f = ctx.filters
    rows = Enrolment.objects.filter(insats_id__in=per_person_insats_ids(ctx)).exclude(
        exit_reason__excluded_from_reports=True
    )
    if not include_anonymous:
        rows = rows.filter(participant__is_anonymous=False)
    if f.kon:
        rows = rows.filter(participant__kon=f.kon)
    if f.age_band:
        low, high = AGE_BANDS[f.age_band]
        rows = rows.filter(
            participant__birth_year__gte=f.date_to.year - high, participant__birth_year__lte=f.date_to.year - low
        )
    return rows


def per_person_insats_ids(ctx: Context) -> list[int]:
    """The chosen insatser that register people (volume insatser have no enrolments to count)."""
    return [i.pk for i in ctx.filters.insatser if i.measurement_mode == MeasurementMode.PER_PERSON]


def open_in_period(ctx: Context) -> Q:
    f = ctx.filters
    return Q(start_date__lte=f.date_to) & (Q(end_date__isnull=True) | Q(end_date__gte=f.date_from))


def ended_in_period(ctx: Context) -> Q:
    return Q(end_date__gte=ctx.filters.date_from, end_date__lte=ctx.filters.date_to)


def kon_conditions(condition: Q) -> dict[str, Q]:
    """The condition for each column of a kön table (women, men, other or unknown kön, everyone)."""
    return {kon: condition & KON_Q[kon] for kon in KON_PARTS} | {"total": condition}


def cell_aggregates(name: str, condition: Q, *, persons: bool = False) -> dict[str, Any]:
    """aggregate() arguments for one Cell: the rows matching `condition` (or the distinct persons
    behind them) and their record keys, as name_n and name_key."""
    if persons:
        return {
            f"{name}_n": Count("participant_id", distinct=True, filter=condition),
            f"{name}_key": disclosure.person_key_sum("participant_id", "participant__record_key", filter=condition),
        }
    return {f"{name}_n": Count("id", filter=condition), f"{name}_key": Sum("record_key", filter=condition)}


def cell_from(totals: dict[str, Any], name: str) -> Cell:
    return Cell(totals[f"{name}_n"] or 0, totals[f"{name}_key"] or 0)


def cells_by_kon(rows: QuerySet) -> dict[str, Cell]:
    aggregates: dict[str, Any] = {}
    for kon, condition in kon_conditions(Q()).items():
        aggregates |= cell_aggregates(kon, condition)
    totals = rows.aggregate(**aggregates)
    return {kon: cell_from(totals, kon) for kon in KON_COLUMNS}


def _kon_row(label: str, counts: dict) -> list:
    return [label, *[counts[k] for k in KON_COLUMNS]]


KON_HEADERS = [KON_LABELS[k] for k in KON_COLUMNS]
ANNAT_DEFINITION = "Annat/okänt: deltagare med annat eller okänt kön; de räknas också i Totalt."
# Outside, each published count carries its own noise, so the rows' sum and the published total
# may differ: shares are of the rows shown, and the n beside them is that sum.
SHARES_OF_ROWS_SHOWN = (
    "Skyddade tal: andelarna räknas på raderna som visas, och n är deras summa; den kan skilja sig från "
    "det skyddade totalet, som har sitt eget brus."
)


def kon_series(values: dict[str, list[Any]]) -> list[tuple[str, list[Any]]]:
    """A kön chart's series: women and men always, other or unknown kön when any of its values is
    not zero (a series of zeros would only crowd the legend)."""
    return [(KON_LABELS[k], values[k]) for k in KON_PARTS if k != "annat" or any(values["annat"])]


def met_word(met: bool | None) -> str:
    return {True: "Ja", False: "Nej", None: HIDDEN}[met]


def _target(ctx: Context, field: str) -> float | None:
    """The insats' target for the period, when exactly one insats is reported."""
    if len(ctx.filters.insatser) != 1:
        return None
    period = InsatsPeriod.objects.filter(
        insats=ctx.filters.insatser[0], period_start__lte=ctx.filters.date_to, period_end__gte=ctx.filters.date_to
    ).first()
    value = getattr(period, field, None) if period else None
    return float(value) if value is not None else None


# --- 1. Deltagarflöde ----------------------------------------------------------------------------


def participant_flow(ctx: Context) -> Report:
    f = ctx.filters
    identified = Q(participant__is_anonymous=False)
    lines = {
        "registrations": identified,
        "anonymous": Q(participant__is_anonymous=True),
        "started": identified & Q(start_date__gte=f.date_from, start_date__lte=f.date_to),
        "ended": identified & ended_in_period(ctx),
        "active_at_end": identified
        & Q(start_date__lte=f.date_to)
        & (Q(end_date__isnull=True) | Q(end_date__gt=f.date_to)),
    }
    aggregates: dict[str, Any] = {}
    for key, line in lines.items():
        aggregates |= cell_aggregates(key, line)
    aggregates |= cell_aggregates("unique_persons", identified, persons=True)
    # One scan for every line, grouped by kön: each line's condition implies open_in_period (an
    # enrolment cannot end before it starts), so the WHERE only narrows the rows the counts look at.
    # A person has one kön, so the groups' distinct persons add up to the column's and the total's.
    # (A FILTER per line and kön instead made 48 aggregates that Django took longer to compile than
    # PostgreSQL to run.)
    groups = (
        flow_counts.flow_groups(f, per_person_insats_ids(ctx))
        if flow_counts.usable(f)
        else enrolments(ctx, include_anonymous=True)
        .filter(open_in_period(ctx))
        .values("participant__kon")
        .annotate(**aggregates)
        .order_by()
    )
    sums = {f"{key}_{part}": 0 for key in [*lines, "unique_persons"] for part in ("n", "key")}
    totals = {kon: dict(sums) for kon in KON_COLUMNS}
    for group in groups:
        column = kon_column(group["participant__kon"])
        for name in sums:
            totals[column][name] += group[name] or 0
            totals["total"][name] += group[name] or 0
    data = {
        key: {kon: ctx.count(cell_from(totals[kon], key)) for kon in KON_COLUMNS} for key in [*lines, "unique_persons"]
    }
    labels = {
        "registrations": "Inskrivningar under perioden (registreringar)",
        "unique_persons": "Unika personer",
        "anonymous": "Anonyma deltagares inskrivningar",
        "started": "Nya inskrivningar",
        "ended": "Avslutade",
        "active_at_end": "Inskrivna vid periodens slut",
    }
    order = ["registrations", "unique_persons", "started", "ended", "active_at_end", "anonymous"]
    table = Table(
        "Deltagarflöde (antal)",
        ["", *KON_HEADERS],
        [_kon_row(labels[key], data[key]) for key in order],
    )
    chart = Chart(
        "bar",
        "Deltagarflöde per kön",
        [labels[k] for k in order],
        kon_series({k: [data[key][k] for key in order] for k in KON_PARTS}),
        max_value=0,
        caption=f"Antal per kön; {swedish_number(data['registrations']['total'])} inskrivningar totalt.",
    )
    empty = not any(count for key in order for count in data[key].values())
    return Report(
        "participant-flow",
        "Deltagarflöde",
        f,
        ctx.external,
        data,
        [table],
        [chart],
        [
            "Registreringar: inskrivningar som pågått någon dag under perioden. En person i två insatser är två "
            "registreringar och en unik person.",
            "Anonyma deltagare räknas bara på raden för anonyma; felregistreringar räknas aldrig.",
            "Inskrivna vid periodens slut: inskrivningar utan avslut eller med avslut efter periodens sista dag.",
            ANNAT_DEFINITION,
        ],
        empty_message=empty_sentence(ctx, "Inga inskrivningar") if empty else "",
    )


# --- 2. Avslut ------------------------------------------------------------------------------------


def exits(ctx: Context) -> Report:
    reasons = list(ExitReason.objects.filter(excluded_from_reports=False).order_by("sort_order"))
    grouped = (
        flow_counts.exit_groups(ctx.filters, per_person_insats_ids(ctx))
        if flow_counts.usable(ctx.filters)
        else enrolments(ctx)
        .filter(ended_in_period(ctx))
        .values("exit_reason_id", "participant__kon")
        .annotate(n=Count("id"), key=Sum("record_key"))
        .order_by()
    )
    code = {reason.pk: reason.code for reason in reasons}
    groups = {(code.get(r["exit_reason_id"]), r["participant__kon"]): Cell(r["n"], r["key"]) for r in grouped}

    def cell(codes: list[str], kon: str) -> Cell:
        """The ended enrolments with one of these reasons, of one kön column ("total": every kön)."""
        return sum(
            (c for (code, k), c in groups.items() if code in codes and kon in ("total", kon_column(k))), start=Cell()
        )

    codes = [r.code for r in reasons]
    line_codes = {code: [code] for code in codes} | {"total": codes}
    shown = {key: {kon: ctx.count(cell(of, kon)) for kon in KON_COLUMNS} for key, of in line_codes.items()}
    total = shown["total"]["total"]
    reason_shares = ctx.shares_summing_to_100({code: shown[code]["total"] for code in codes}, total=total)
    shares_whole = sum(shown[code]["total"] for code in codes)  # the published total, inside
    by_reason = {
        reason.code: {"label": reason.label_sv, **shown[reason.code], "share": reason_shares[reason.code]}
        for reason in reasons
    }

    def outcome(outcome_codes: list[str], target_field: str) -> dict:
        # The enrolments of these reasons together are a cell of their own, not a sum of published cells.
        value = ctx.count(cell(outcome_codes, "total"))
        pct = ctx.share(value, total)
        target = _target(ctx, target_field)
        return {
            "count": value,
            "n": total,
            "share": pct,
            "target": target,
            "met": ctx.target_met(value, total, target),
        }

    work = outcome([r.code for r in reasons if r.counts_as_work_or_studies], "target_work_or_studies_pct")
    rehab = outcome([r.code for r in reasons if r.counts_as_further_rehab], "target_further_rehab_pct")
    data = {
        "n": total,
        "by_reason": by_reason,
        "total": shown["total"],
        "to_work_studies_or_job_seeking": work,
        "to_further_rehabilitation": rehab,
    }
    rows = [[v["label"], *[v[k] for k in KON_COLUMNS], v["share"]] for v in by_reason.values()]
    rows.append(["Totalt", *[shown["total"][k] for k in KON_COLUMNS], 100.0 if any(reason_shares.values()) else None])
    outcomes = Table(
        "Måluppfyllelse",
        ["", "Antal", "Av antal avslut", "Andel %", "Mål %", "Uppfyllt"],
        [
            [label, line["count"], line["n"], line["share"], line["target"], met_word(line["met"])]
            for label, line in (
                ("Till arbete, studier eller aktivt arbetssökande", work),
                ("Till fortsatt rehabilitering", rehab),
            )
        ],
    )
    chart = Chart(
        "bar",
        "Avslut per anledning",
        [reason.label_sv for reason in reasons],
        [("Andel %", [reason_shares[reason.code] for reason in reasons])],
        max_value=100,
        caption=f"Andel av alla avslut i procent, n\u00a0=\u00a0{swedish_number(shares_whole)}.",
    )
    # Nothing to show when every published count is 0 (outside, a cell of 1–4 may be published as 5
    # while its total is published as 0: that 5 is still shown).
    empty = not any(count for line in shown.values() for count in line.values())
    return Report(
        "exits",
        "Avslut och avslutsanledningar",
        ctx.filters,
        ctx.external,
        data,
        [
            Table("Avslut per avslutsanledning (antal)", ["Avslutsanledning", *KON_HEADERS, "Andel %"], rows),
            outcomes,
        ],
        [chart],
        [
            "Avslutade inskrivningar med avslutsdatum i perioden; andelar av alla avslut (n).",
            "Målet visas när en insats väljs och har mål för perioden.",
            ANNAT_DEFINITION,
            *([SHARES_OF_ROWS_SHOWN] if ctx.external else []),
        ],
        empty_message=empty_sentence(ctx, "Inga avslut") if empty else "",
    )


# --- 3. Försörjning före och efter ------------------------------------------------------------------


IncomeCells = dict[tuple[int | None, int | None, str], Cell]


def _income_cells(ctx: Context) -> IncomeCells:
    """The enrolments ended in the period per (income before, income after, kön): one grouped query
    for every table, over the monthly counts where they give the same (progression/flow_counts.py)."""
    grouped = (
        flow_counts.income_groups(ctx.filters, per_person_insats_ids(ctx))
        if flow_counts.usable(ctx.filters)
        else enrolments(ctx)
        .filter(ended_in_period(ctx))
        .values("income_before_id", "income_after_id", "participant__kon")
        .annotate(n=Count("id"), key=Sum("record_key"))
        .order_by()
    )
    return {
        (r["income_before_id"], r["income_after_id"], r["participant__kon"]): Cell(r["n"], r["key"]) for r in grouped
    }


def _income_table(
    ctx: Context, sources: list[IncomeSource], groups: IncomeCells, label: str, *, kon: str = ""
) -> tuple[dict, Table]:
    """The before/after table of the enrolments in groups (of one kön, if given)."""
    code = {s.pk: s.code for s in sources} | {None: "saknas"}
    keys = [s.code for s in sources] + ["saknas"]
    cells = {(key, side): Cell() for key in keys for side in ("before", "after")}
    n = Cell()
    for (before_id, after_id, participant_kon), cell in groups.items():
        if kon and kon_column(participant_kon) != kon:
            continue
        cells[(code[before_id], "before")] += cell
        cells[(code[after_id], "after")] += cell
        n += cell
    shown = ctx.counts(cells)
    labels = {s.code: s.label_sv for s in sources} | {"saknas": "Uppgift saknas"}
    n_shown = ctx.count(n)
    before_shares = ctx.shares_summing_to_100({key: shown[(key, "before")] for key in keys}, total=n_shown)
    after_shares = ctx.shares_summing_to_100({key: shown[(key, "after")] for key in keys}, total=n_shown)
    result = {}
    for key in keys:
        b, a = shown[(key, "before")], shown[(key, "after")]
        if key == "saknas" and not b and not a:
            continue
        change = a - b
        result[key] = {
            "label": labels[key],
            "before": b,
            "before_share": before_shares[key],
            "after": a,
            "after_share": after_shares[key],
            "change": change,
            # A change from a handful is no percentage outside (the rule for shares, Context.share).
            "change_pct": None if ctx.share(0, b) is None else round(100 * change / b, 1),
        }
    table = Table(
        label,
        ["Försörjning", "Före (antal)", "Före %", "Efter (antal)", "Efter %", "Förändring (antal)", "Förändring %"],
        [
            [v["label"], v["before"], v["before_share"], v["after"], v["after_share"], v["change"], v["change_pct"]]
            for v in result.values()
        ]
        + [
            [
                "Totalt (n)",
                n_shown,
                100.0 if any(before_shares.values()) else None,
                n_shown,
                100.0 if any(after_shares.values()) else None,
                0,
                None,
            ]
        ],
    )
    return {"n": n_shown, "sources": result}, table


def _has_counts(income: dict[str, Any]) -> bool:
    """Whether an income table has any published count (n, or a source before or after)."""
    return bool(income["n"]) or any(v["before"] or v["after"] for v in income["sources"].values())


def income_sources(ctx: Context) -> Report:
    sources = list(IncomeSource.objects.order_by("sort_order"))
    groups = _income_cells(ctx)
    data, table = _income_table(ctx, sources, groups, "Huvudsaklig försörjning före och efter insatsen")
    tables = [table]
    if ctx.filters.by_kon:
        data["by_kon"] = {}
        for kon in KON_PARTS:
            label = f"{KON_LABELS[kon]}: försörjning före och efter"
            data["by_kon"][kon], kon_table = _income_table(ctx, sources, groups, label, kon=kon)
            # Other or unknown kön gets a table only when it has someone in it (women and men always).
            if kon != "annat" or _has_counts(data["by_kon"][kon]):
                tables.append(kon_table)
    before, after = (sum(v[side] for v in data["sources"].values()) for side in ("before", "after"))
    chart = Chart(
        "bar",
        "Försörjning före och efter (andel %)",
        [v["label"] for v in data["sources"].values()],
        [
            ("Före", [v["before_share"] for v in data["sources"].values()]),
            ("Efter", [v["after_share"] for v in data["sources"].values()]),
        ],
        max_value=100,
        caption="Andel av de avslutade i procent, före och efter insatsen, "
        + (
            f"n\u00a0=\u00a0{swedish_number(data['n'])}."
            if before == after == data["n"]
            else f"n\u00a0=\u00a0{swedish_number(before)} före och {swedish_number(after)} efter."
        ),
    )
    empty = not _has_counts(data)
    return Report(
        "income-sources",
        "Försörjning före och efter",
        ctx.filters,
        ctx.external,
        data,
        tables,
        [chart],
        [
            "Avslutade inskrivningar i perioden (n). En huvudsaklig försörjning per inskrivning före och efter; "
            "andelarna summerar till 100 %.",
            "Förändring = efter − före; förändring % = förändring ÷ före.",
            *([ANNAT_DEFINITION] if ctx.filters.by_kon else []),
            *([SHARES_OF_ROWS_SHOWN] if ctx.external else []),
        ],
        empty_message=empty_sentence(
            ctx, "Inga avslut", "Försörjning före och efter redovisas för avslutade inskrivningar."
        )
        if empty
        else "",
    )


# --- 4. Bakgrund ---------------------------------------------------------------------------------------


def _years_cells(support: QuerySet[Enrolment]) -> dict[str, Cell]:
    """Per kön column: the enrolments with years in public support, their key sum, the years' sum and
    the largest (one row's largest contribution to the sum, for the protected mean)."""
    aggregates: dict[str, Any] = {}
    for kon, condition in kon_conditions(Q()).items():
        aggregates |= cell_aggregates(kon, condition) | {
            f"{kon}_sum": Sum("years_in_public_support", filter=condition),
            f"{kon}_max": Max("years_in_public_support", filter=condition),
        }
    totals = support.aggregate(**aggregates)
    return {
        kon: Cell(
            totals[f"{kon}_n"],
            totals[f"{kon}_key"] or 0,
            float(totals[f"{kon}_sum"] or 0),
            float(totals[f"{kon}_max"] or 0),
        )
        for kon in KON_COLUMNS
    }


def background(ctx: Context) -> Report:
    registrations = (
        enrolments(ctx)
        .filter(open_in_period(ctx))
        .annotate(
            age=ExpressionWrapper(ExtractYear("start_date") - F("participant__birth_year"), output_field=IntegerField())
        )
    )
    everyone = ctx.counts(cells_by_kon(registrations))
    age_cells = {
        label: ctx.counts(cells_by_kon(registrations.filter(age__gte=low, age__lte=high)))
        for label, low, high in AGE_AT_START_BANDS
    } | {"Totalt": everyone}
    education = {
        level.label_sv: ctx.counts(cells_by_kon(registrations.filter(education=level)))
        for level in EducationLevel.objects.order_by("sort_order")
    }
    missing = ctx.counts(cells_by_kon(registrations.filter(education__isnull=True)))
    if missing["total"]:
        education["Uppgift saknas"] = missing
    education["Totalt"] = everyone
    support = registrations.filter(years_in_public_support__isnull=False)
    bands = {
        label: ctx.counts(
            cells_by_kon(support.filter(years_in_public_support__gte=low, years_in_public_support__lt=high))
        )
        for label, low, high in SUPPORT_BANDS
    }
    years = _years_cells(support)
    support_n = {kon: ctx.count(cell) for kon, cell in years.items()}
    mean_years = {kon: ctx.mean(cell, "år i försörjning", 1) for kon, cell in years.items()}
    data = {
        "age_at_start": age_cells,
        "education": education,
        "years_in_public_support": {"mean": mean_years, "n": support_n, "bands": bands},
    }
    cols = ["", *KON_HEADERS]
    bands_of_age = [band for band in age_cells if band != "Totalt"]
    empty = not any(count for counts in age_cells.values() for count in counts.values())
    return Report(
        "background",
        "Bakgrund",
        ctx.filters,
        ctx.external,
        data,
        [
            Table(
                "Ålder vid inskrivning (antal)",
                ["Ålder (år)", *KON_HEADERS],
                [_kon_row(k, v) for k, v in age_cells.items()],
            ),
            Table("Högsta avslutade utbildning (antal)", cols, [_kon_row(k, v) for k, v in education.items()]),
            Table(
                "Tid i offentlig försörjning före insatsen (antal; medel i år)",
                ["År", *KON_HEADERS],
                [_kon_row(k, v) for k, v in bands.items()] + [_kon_row("Medel (år)", mean_years)],
            ),
        ],
        [
            Chart(
                "bar",
                "Ålder vid inskrivning",
                [f"{band} år" for band in bands_of_age],
                kon_series({k: [age_cells[band][k] for band in bands_of_age] for k in KON_PARTS}),
                max_value=0,
                caption=f"Antal inskrivningar per åldersgrupp och kön, n = {swedish_number(everyone['total'])}.",
            )
        ],
        ["Inskrivningar som pågått under perioden (anonyma ej med).", ANNAT_DEFINITION],
        empty_message=empty_sentence(ctx, "Inga inskrivningar") if empty else "",
    )


# --- 5. Deltagarenkät -----------------------------------------------------------------------------------


def survey(ctx: Context) -> Report:
    f = ctx.filters
    campaigns = SurveyCampaign.objects.filter(
        insats_id__in=f.insats_ids, period_start__lte=f.date_to, period_end__gte=f.date_from
    ).select_related("version__instrument")
    by_instrument: dict = {}
    tables = []
    for instrument_code in sorted({c.version.instrument.code for c in campaigns}):
        own = [c for c in campaigns if c.version.instrument.code == instrument_code]
        asked = sum(c.number_asked for c in own)
        responded = SurveyResponse.objects.filter(campaign__in=own).aggregate(n=Count("id"), key=Sum("record_key"))
        # Outside, a count's noise could show more responses than people asked: never more.
        responses = min(ctx.count(Cell(responded["n"], responded["key"] or 0)), asked)
        questions = []
        items = (
            Item.objects.filter(version__in={c.version_id for c in own})
            .select_related("scale")
            .order_by("dimension__order", "order")
            .distinct()
        )
        seen = set()
        for item in items:
            if item.code in seen:
                continue
            seen.add(item.code)
            positive_values = [o["value"] for o in item.scale.options if o.get("positive")]
            answers = SurveyAnswer.objects.filter(response__campaign__in=own, item__code=item.code, value__isnull=False)
            is_positive = Q(value__in=positive_values)
            totals = answers.aggregate(
                n=Count("id"),
                key=Sum("response__record_key"),
                positive=Count("id", filter=is_positive),
                positive_key=Sum("response__record_key", filter=is_positive),
            )
            n_shown = min(ctx.count(Cell(totals["n"], totals["key"] or 0)), asked)
            positive_shown = ctx.count(Cell(totals["positive"], totals["positive_key"] or 0))
            pct = ctx.share(positive_shown, n_shown)
            target_field = "target_survey_contact_pct" if item.scale.kind == "yes_no" else "target_survey_positive_pct"
            target = _target(ctx, target_field)
            questions.append(
                {
                    "code": item.code,
                    # Its place in the questionnaire, as the respondent saw it: "Fråga 4".
                    "number": len(seen),
                    "question": item.texts["self"]["sv"],
                    "positive": positive_shown,
                    "n": n_shown,
                    "asked": asked,
                    "response_rate": ctx.share(n_shown, asked),
                    "share_positive": pct,
                    "target": target,
                    "met": ctx.target_met(positive_shown, n_shown, target),
                }
            )
        by_instrument[instrument_code] = {
            "name": own[0].version.instrument.name,
            "asked": asked,
            "responses": responses,
            "response_rate": ctx.share(responses, asked),
            "questions": questions,
        }
        if responses:  # an instrument nobody answered has no table of zeros
            tables.append(
                Table(
                    f"{own[0].version.instrument.name} (tillfrågade {swedish_number(asked)}, "
                    f"svar {swedish_number(responses)})",
                    [
                        "Fråga",
                        "Positiva (antal)",
                        "Svarande (antal)",
                        "Svarsfrekvens %",
                        "Andel positiva %",
                        "Mål %",
                        "Uppfyllt",
                    ],
                    [
                        [
                            f"{q['number']}. {q['question']}",
                            q["positive"],
                            q["n"],
                            q["response_rate"],
                            q["share_positive"],
                            q["target"],
                            met_word(q["met"]),
                        ]
                        for q in questions
                    ],
                )
            )
    charts = [
        Chart(
            "bar",
            f"Andel positiva svar – {v['name']}",
            [f"Fråga {q['number']}" for q in v["questions"]],
            [("Andel positiva %", [q["share_positive"] for q in v["questions"]])],
            max_value=100,
            caption="Andel positiva svar i procent per fråga (frågorna i tabellen nedan), "
            f"{swedish_number(v['responses'])} svar.",
        )
        for v in by_instrument.values()
        if v["responses"]
    ]
    if not by_instrument:
        empty_message = empty_sentence(ctx, "Ingen deltagarenkät")
    elif not tables:
        empty_message = empty_sentence(ctx, "Inga svar på deltagarenkäten")
    else:
        empty_message = ""
    return Report(
        "survey",
        "Deltagarenkät",
        f,
        ctx.external,
        {"instruments": by_instrument},
        tables,
        charts,
        [
            "Enkäter vars period överlappar rapportperioden. Positiva svar: de tre översta svarsalternativen "
            "(Ja på fråga 4). Svarsfrekvens: svarande på frågan ÷ tillfrågade.",
        ],
        empty_message=empty_message,
    )


# --- 6. Stegförflyttning ---------------------------------------------------------------------------------


ProgressionKey = tuple[str, str, str]  # instrument code, dimension code, perspective
PROGRESSION_GROUPS = ("instrument__code", "dimension_code", "perspective")
CLASSES = ("improved", "unchanged", "worse")
STAGE_MOVES = ("up", "same", "down")
THIRDS = (1, 2, 3)  # of the first scores, lowest first: regression to the mean shows between them
DAYS_PER_MONTH = 365.25 / 12
# A dimension score and a stage's first value in score units are computed in different orders:
# a mean exactly on a stage's first value must not fall below it by a rounding error.
STAGE_TOLERANCE = 1e-9


def stage_starts() -> dict[tuple[int, str], list[float]]:
    """Per instrument version and rating dimension answered on a ladder with stages: the score
    (0–100) at which each stage after the first begins. A dimension's score is the mean of its
    items' rescaled answers, so a mean ladder value between two stages (4.5 between 3–4 and 5–6)
    belongs to the lower one: a stage is reached when the mean reaches its first value."""
    starts: dict[tuple[int, str], list[float]] = {}
    items = (
        Item.objects.filter(dimension__is_rating=True, scale__kind=ScaleKind.LADDER)
        .exclude(scale__stages=[])
        .values_list("version_id", "dimension__code", "scale__min_value", "scale__max_value", "scale__stages")
        .order_by("version_id", "dimension__order", "order")
    )
    for version_id, code, low, high, stages in items:
        if low is None or high is None:  # the loader requires both; without them scoring gives NULL too
            continue
        if (version_id, code) not in starts and high > low:
            firsts = sorted(stage["from"] for stage in stages)[1:]
            starts[(version_id, code)] = [(first - low) * 100 / (high - low) for first in firsts]
    return starts


def _stage_sql(score: str, version: str, starts: dict[tuple[int, str], list[float]]) -> tuple[str, list[Any]]:
    """SQL for the stage (0 = the first) of a row's first or latest score, by its reading's
    instrument version; NULL for a dimension without stages."""
    whens: list[str] = []
    params: list[Any] = []
    for (version_id, code), firsts in starts.items():
        for number in range(len(firsts), 0, -1):
            whens.append(f"WHEN p.{version} = %s AND p.dimension_code = %s AND p.{score} >= %s THEN {number}")
            params += [version_id, code, firsts[number - 1] - STAGE_TOLERANCE]
        whens.append(f"WHEN p.{version} = %s AND p.dimension_code = %s THEN 0")
        params += [version_id, code]
    if not whens:
        return "NULL", []
    return f"CASE {' '.join(whens)} END", params


def _counted(condition: str, name: str) -> str:
    """A count and the sum of the enrolments' record keys of the rows matching `condition`."""
    return (
        f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END) AS {name}, "
        f"CAST(SUM(CASE WHEN {condition} THEN e.record_key ELSE 0 END) AS BIGINT) AS key_{name}"
    )


# The progression of each reported enrolment as it stood at the period's end: its first reading ever
# and its latest reading up to the last day, for the enrolments with at least two readings by then and
# the latest of them in the period, summed per instrument, dimension and perspective. Readings after
# the period never move an enrolment out of it. A stored progression row whose latest reading is no
# later than the period's end is that state already (stored); a key with later readings is computed
# again from its readings up to the end by the engine's own rules (scoring.PROGRESSION_ROWS_SQL)
# against the norm set in force (recomputed). Which keys those are is asked of the stored row by its
# unique key (EXISTS), not by a join with `stored`: PostgreSQL expects one recomputed row and joins a
# CTE in a nested loop, 300 ms at 2 000 participants (docs/performance.md). {open} and {later} are
# id lists (_ids_in), not subqueries: from a subquery PostgreSQL expected a fraction of the readings
# and read every dimension score in the database, 9.6 s at 200 000 participants. The enrolments'
# people and record keys ({people}) are read once and joined by hash ({materialized} on PostgreSQL):
# PostgreSQL expected a few hundred counted rows and looked each of 290 000 up by index, 1.5 s at L.
PROGRESSION_FIGURES_SQL = """
    WITH people AS {materialized} (
        SELECT e.id, e.participant_id, e.record_key, pp.record_key AS person_key
        FROM participants_enrolment e
        JOIN participants_participant pp ON pp.id = e.participant_id
        WHERE {people}
    ),
    stored AS (
        SELECT p.enrolment_id, p.instrument_id, p.dimension_code, p.perspective, p.n_readings AS n,
               p.first_score, p.latest_score, p.latest_on, p.first_on, p.first_version_id AS first_version,
               p.latest_version_id AS latest_version, p.change, p.baseline_sd AS sd, p.reliability,
               p.classification, p.meets_mid
        FROM progression_progression p
        WHERE {open} AND p.n_readings >= 2 AND p.latest_on >= %s AND p.latest_on <= %s
    ),
    recomputed AS (
        SELECT r.enrolment_id, r.instrument_id, r.dimension_code, r.perspective, r.n, r.first_score,
               r.latest_score, r.latest_on, r.first_on, r.first_version, r.latest_version, r.change, r.sd,
               r.reliability, r.classification, r.meets_mid
        FROM ({rows}) r
        WHERE EXISTS (
            SELECT 1 FROM progression_progression later
            WHERE later.enrolment_id = r.enrolment_id AND later.instrument_id = r.instrument_id
              AND later.dimension_code = r.dimension_code AND later.perspective = r.perspective
              AND later.latest_on > %s
        )
    )
    SELECT i.code AS instrument__code, p.dimension_code, p.perspective,
           {counts},
           COUNT(DISTINCT e.participant_id) AS persons,
           {key_persons} AS key_persons,
           SUM(p.first_score) AS sum_first, SUM(p.first_score * p.first_score) AS sum_first_sq,
           SUM(p.latest_score) AS sum_latest, SUM(p.latest_score * p.latest_score) AS sum_latest_sq,
           SUM(p.change) AS sum_change, SUM(p.change * p.change) AS sum_change_sq,
           {median} AS days_median, MIN(p.days) AS days_min, MAX(p.days) AS days_max,
           MIN(CASE WHEN p.classification IN ({classes}) THEN p.sd * p.sd * (1 - p.reliability) END)
               AS error_variance_min,
           MAX(CASE WHEN p.classification IN ({classes}) THEN p.sd * p.sd * (1 - p.reliability) END)
               AS error_variance_max
    FROM (
        SELECT counted.*,
               NTILE(3) OVER (PARTITION BY instrument_id, dimension_code, perspective
                              ORDER BY first_score, enrolment_id) AS third
        FROM (
            SELECT p.*, {days} AS days, {stage_first} AS stage_first, {stage_latest} AS stage_latest
            FROM (
                SELECT * FROM stored
                UNION ALL
                SELECT * FROM recomputed
            ) p
            WHERE p.n >= 2 AND p.latest_on >= %s AND p.latest_on <= %s
        ) counted
    ) p
    JOIN people e ON e.id = p.enrolment_id
    JOIN surveys_instrument i ON i.id = p.instrument_id
    GROUP BY i.code, p.dimension_code, p.perspective
    ORDER BY p.perspective, p.dimension_code, i.code
"""


def progression_figures(
    ctx: Context, norm_set: NormSet | None, open_ids: list[int]
) -> dict[ProgressionKey, dict[str, Any]]:
    """Per instrument, dimension and perspective, in one statement (PROGRESSION_FIGURES_SQL): the
    counts and their record keys, the sums and sums of squares behind the means and their
    intervals, the distinct persons, the days between first and latest reading, the error variance
    of the norms used and the stage moves, of the enrolments `open_ids` (those open in the period,
    as the Bortfall table counts them, so that n is one of its parts)."""
    f = ctx.filters
    starts = stage_starts()
    if not open_ids:
        return {}
    until = _period_moments(ctx)[1]
    people_in, people_params = _ids_in("e.id", open_ids)
    open_in, open_params = _ids_in("p.enrolment_id", open_ids)
    # Only the readings of enrolments with a reading after the period are computed again.
    later_in, later_params = _ids_in("enrolment_id", open_ids)
    later = f"SELECT enrolment_id FROM progression_progression WHERE {later_in} AND latest_on > %s"  # noqa: S608
    rows, rows_params = scoring.progression_rows_sql(
        f"AND s.enrolment_id IN ({later}) AND s.occurred_at <= %s",
        [*later_params, f.date_to, until],
        norm_set_id=norm_set.pk if norm_set else None,
    )
    stage_first, first_params = _stage_sql("first_score", "first_version", starts)
    stage_latest, latest_params = _stage_sql("latest_score", "latest_version", starts)
    classes = ", ".join(f"'{name}'" for name in CLASSES)
    classified = f"p.classification IN ({classes})"
    conditions = {
        "n": "1 = 1",
        **{name: f"p.classification = '{name}'" for name in CLASSES},
        "mid": "p.meets_mid",
        "stage_up": "p.stage_latest > p.stage_first",
        "stage_same": "p.stage_latest = p.stage_first",
        "stage_down": "p.stage_latest < p.stage_first",
        **{
            f"third{third}_{name}": f"p.third = {third} AND {condition}"
            for third in THIRDS
            for name, condition in (("improved", "p.classification = 'improved'"), ("classified", classified))
        },
    }
    postgresql = connection.vendor == "postgresql"
    sql = PROGRESSION_FIGURES_SQL.format(
        materialized="MATERIALIZED" if postgresql else "",
        people=people_in,
        open=open_in,
        rows=rows,
        counts=", ".join(_counted(condition, name) for name, condition in conditions.items()),
        classes=classes,
        median="percentile_cont(0.5) WITHIN GROUP (ORDER BY p.days)" if postgresql else "MEDIAN(p.days)",
        days="CAST(p.latest_on - p.first_on AS DOUBLE PRECISION)"
        if postgresql
        else "julianday(p.latest_on) - julianday(p.first_on)",
        stage_first=stage_first,
        stage_latest=stage_latest,
        key_persons=disclosure.person_key_sum_sql("e.participant_id", "e.person_key"),
    )
    params = [
        *people_params,
        *open_params,
        f.date_from,  # a stored row is counted as it is if its latest reading fell in the period
        f.date_to,
        *rows_params,
        f.date_to,
        *first_params,
        *latest_params,
        f.date_from,
        f.date_to,
    ]
    reading = reading_connection()
    # On PostgreSQL in a transaction of its own, without JIT: compiling the statement's hundreds of
    # CASE branches took 1–3.5 s at L, more than it saved. (On SQLite a transaction would take the
    # write lock.)
    with transaction.atomic(using=reading.alias) if postgresql else nullcontext(), reading.cursor() as cursor:
        if postgresql:
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        lines = [dict(zip(names, line, strict=True)) for line in cursor.fetchall()]
    return {tuple(line[g] for g in PROGRESSION_GROUPS): line for line in lines}


PERSPECTIVE_LABELS = {"self": "Deltagaren", "mentor": "Handledaren", "agreed": "Gemensam"}
CAVEATS = [
    "Regression mot medelvärdet: den som börjar lågt skattar ofta högre vid nästa mätning även utan "
    "effekt, och tvärtom. Ingen jämförelsegrupp finns, så förändringen är inte insatsens effekt.",
    "Intervallen behandlar inskrivningarna som oberoende; har personer flera inskrivningar (Personer "
    "mindre än n) blir intervallen något för smala.",
    "Normerna räknas på alla förbunds förstamätningar i Stegvis och är desamma för alla förbund.",
]


# Per perspective: the open enrolments with at least two readings by the period's end and at least
# one in it, and those with two or more but none in it, with their record keys. The inner query
# counts each enrolment's readings once (one pass over the readings instead of a count per enrolment).
ATTRITION_SQL = """
    SELECT r.perspective,
           SUM(CASE WHEN r.by_end >= 2 AND r.in_period >= 1 THEN 1 ELSE 0 END),
           CAST(SUM(CASE WHEN r.by_end >= 2 AND r.in_period >= 1 THEN r.record_key ELSE 0 END) AS BIGINT),
           SUM(CASE WHEN r.by_end >= 2 AND r.in_period = 0 THEN 1 ELSE 0 END),
           CAST(SUM(CASE WHEN r.by_end >= 2 AND r.in_period = 0 THEN r.record_key ELSE 0 END) AS BIGINT)
    FROM (
        SELECT s.enrolment_id, e.record_key, s.perspective, COUNT(*) AS by_end,
               SUM(CASE WHEN s.occurred_at >= %s THEN 1 ELSE 0 END) AS in_period
        FROM surveys_assessmentsession s
        JOIN participants_enrolment e ON e.id = s.enrolment_id
        WHERE {open} AND s.status = %s AND NOT s.consent_withdrawn
          AND s.occurred_at <= %s
        GROUP BY s.enrolment_id, e.record_key, s.perspective
    ) r
    GROUP BY r.perspective
"""


def _open_enrolments(ctx: Context) -> tuple[list[int], Cell]:
    """The reported enrolments open in the period (the Bortfall table's "inskrivna"): their ids, and
    their count with its record keys."""
    rows = list(enrolments(ctx).filter(open_in_period(ctx)).values_list("id", "record_key"))
    return [pk for pk, _ in rows], Cell(len(rows), sum(key for _, key in rows))


def _ids_in(column: str, ids: list[int]) -> tuple[str, list[Any]]:
    """SQL saying `column` is one of the ids, with its one param: an array on PostgreSQL, whose
    length the planner sees, a JSON list on SQLite (the embedded default)."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [ids]
    return f"{column} IN (SELECT value FROM json_each(%s))", [json.dumps(ids)]  # noqa: S608 - a column name


def _period_moments(ctx: Context) -> tuple[Any, Any]:
    """The first and the last moment of the period (local time), as the database stores moments."""
    f = ctx.filters
    adapt = connection.ops.adapt_datetimefield_value
    return (
        adapt(timezone.make_aware(datetime.combine(f.date_from, time.min))),
        adapt(timezone.make_aware(datetime.combine(f.date_to, time.max))),
    )


def _attrition(ctx: Context, open_ids: list[int], enrolled: Cell) -> dict[str, dict[str, int]]:
    """Per perspective, the enrolments open in the period in three parts that add up: measured in
    it (at least two readings by its end, the latest in it: the enrolments behind n above), measured
    only before it (two readings, none in the period), and fewer than two readings (the attrition)."""
    measured: dict[str, tuple[Cell, Cell]] = {}
    if open_ids:
        open_in, open_params = _ids_in("s.enrolment_id", open_ids)
        start, end = _period_moments(ctx)
        with reading_connection().cursor() as cursor:
            cursor.execute(ATTRITION_SQL.format(open=open_in), [start, *open_params, SessionStatus.SUBMITTED, end])
            for perspective, n_in, key_in, n_before, key_before in cursor.fetchall():
                measured[perspective] = (Cell(n_in or 0, key_in or 0), Cell(n_before or 0, key_before or 0))
    attrition = {}
    for p in PERSPECTIVE_LABELS:
        in_period, before = measured.get(p, (Cell(), Cell()))
        attrition[p] = {
            "enrolled": ctx.count(enrolled),
            "measured": ctx.count(in_period),
            "measured_before": ctx.count(before),
            "fewer_than_two": ctx.count(enrolled - in_period - before),
        }
    return attrition


# Scores and their changes lie within 0–100 (changes −100…100): one enrolment moves a sum by at most this.
SCORE_RANGE = 100.0


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else stable_round(value, digits)


def _interval(interval: Interval | None, digits: int) -> list[float] | None:
    return None if interval is None else interval.rounded(digits).as_json()


def interval_text(interval: list[float] | None, digits: int = 1) -> str | None:
    """An interval for a table cell, "−1,2 till 3,4" (a true minus sign: a leading hyphen is a
    formula to a spreadsheet)."""
    if interval is None:
        return None

    def number(value: float) -> str:
        return f"{value:.{digits}f}".replace(".", ",").replace("-", "\u2212")

    return f"{swedish_number(interval[0])} till {swedish_number(interval[1])}"


def _range(low: float | None, high: float | None, digits: int) -> list[float] | None:
    return None if low is None or high is None else [stable_round(low, digits), stable_round(high, digits)]


def _dimension_figures(ctx: Context, row: dict[str, Any]) -> dict[str, Any]:
    """One line of the report: the figures of one instrument, dimension and perspective, protected
    outside the organisation. Outside, the intervals of the means and d_z are left out: next to the
    protected means they would give back the exact SD, a second moment no protection covers."""
    n, key = row["n"], row["key_n"] or 0
    cells = {name: Cell(row[name], row[f"key_{name}"] or 0) for name in (*CLASSES, "mid", "n", "persons")}
    cells |= {f"stage_{name}": Cell(row[f"stage_{name}"], row[f"key_stage_{name}"] or 0) for name in STAGE_MOVES}
    cells |= {
        f"third{third}_{name}": Cell(row[f"third{third}_{name}"], row[f"key_third{third}_{name}"] or 0)
        for third in THIRDS
        for name in ("improved", "classified")
    }
    cells["classified"] = sum((cells[name] for name in CLASSES), Cell())
    cells["staged"] = sum((cells[f"stage_{name}"] for name in STAGE_MOVES), Cell())
    counts = ctx.counts(cells)
    # Outside, every total is its own protected count (±2), closer to the truth than a sum of
    # protected parts; only what cannot be is ruled out: more persons, assessed or staged than n.
    for part in ("persons", "classified", "staged"):
        counts[part] = min(counts[part], counts["n"])
    # The shares are of the published classes' own sum, so that they add up to 100.
    classified = sum(counts[name] for name in CLASSES)
    stage_counts = {name: counts[f"stage_{name}"] for name in STAGE_MOVES}

    def mean(total: str) -> float | None:
        purpose = {"first": "första", "latest": "senaste", "change": "förändring"}[total]
        return ctx.mean(Cell(n, key, row[f"sum_{total}"], SCORE_RANGE), purpose, None)

    def exact_interval(total: str) -> list[float] | None:
        if ctx.external:
            return None
        return _interval(mean_interval(n, row[f"sum_{total}"], row[f"sum_{total}_sq"]), 2)

    means = {f"mean_{total}": mean(total) for total in ("first", "latest", "change")}
    mean_first, mean_latest = means["mean_first"], means["mean_latest"]
    if ctx.external and mean_first is not None and mean_latest is not None:
        # The protected change is the protected latest minus the protected first, so that the three
        # agree; it discloses nothing the two do not.
        means["mean_change"] = mean_latest - mean_first
    means = {name: _rounded(value, 2) for name, value in means.items()}
    d_z = None if ctx.external else d_z_value(n, row["sum_change"], row["sum_change_sq"])
    months = None if row["days_median"] is None else row["days_median"] / DAYS_PER_MONTH
    if ctx.external:
        # The median is one person's duration (or two persons' mean): published in whole months, and
        # only where a mean would be; the range (two persons' durations) stays inside.
        months = round(months) if months is not None and counts["n"] >= disclosure.MINIMUM_FOR_MEANS else None
    variance_min, variance_max = row["error_variance_min"], row["error_variance_max"]
    classified_shares = ctx.shares_summing_to_100({name: counts[name] for name in CLASSES}, total=counts["classified"])
    stage_shares = ctx.shares_summing_to_100(stage_counts, total=counts["staged"])
    return {
        "instrument": row["instrument__code"],
        "dimension": row["dimension_code"],
        "perspective": row["perspective"],
        "n": counts["n"],
        "persons": counts["persons"],
        **means,
        **{f"mean_{total}_ci": exact_interval(total) for total in ("first", "latest", "change")},
        "effect_size": "d_z",
        "d_z": _rounded(d_z, 3),
        "d_z_ci": _interval(d_z_interval(d_z, n), 3),
        "months_median": _rounded(months, 1),
        "months_range": None
        if ctx.external
        else _range(
            None if row["days_min"] is None else row["days_min"] / DAYS_PER_MONTH,
            None if row["days_max"] is None else row["days_max"] / DAYS_PER_MONTH,
            1,
        ),
        "sem": _range(
            None if variance_min is None else variance_min**0.5, None if variance_max is None else variance_max**0.5, 2
        ),
        "threshold": _range(reliable_change_threshold(variance_min), reliable_change_threshold(variance_max), 2),
        "classified": counts["classified"],
        # Of the enrolments classified against a usable norm (the rest: för få för att bedöma),
        # by largest remainder so that the three add up to exactly 100.
        **{f"share_{name}": value for name, value in classified_shares.items()},
        **{f"share_{name}_ci": _interval(wilson_interval(counts[name], classified), 1) for name in CLASSES},
        "share_mid": ctx.share(counts["mid"], classified),
        "share_mid_ci": _interval(wilson_interval(counts["mid"], classified), 1),
        "staged": counts["staged"],
        # Reliably improved by third of the first score (lowest first), of those classified in it.
        # Inside only: outside, thirds of a line are small cells whose noise (1–4 shown as 0 or 5)
        # would swamp the pattern they are there to show.
        "improved_by_third": None
        if ctx.external
        else [ctx.share(counts[f"third{t}_improved"], counts[f"third{t}_classified"]) for t in THIRDS],
        **{f"share_stage_{name}": value for name, value in stage_shares.items()},
    }


def _label(d: dict[str, Any]) -> list[str]:
    return [d["area"], PERSPECTIVE_LABELS.get(d["perspective"], d["perspective"])]


def _points(span: list[float] | None) -> float | str | None:
    """One norm's value, or the range when the rows used several norms (several instrument versions)."""
    if span is None:
        return None
    return span[0] if span[0] == span[1] else interval_text(span, 2)


def progression(ctx: Context) -> Report:
    f = ctx.filters
    norm_set = NormSet.objects.order_by("-version").first()
    open_ids, enrolled = _open_enrolments(ctx)
    dimensions = [_dimension_figures(ctx, row) for row in progression_figures(ctx, norm_set, open_ids).values()]
    labels = area_labels()
    for d in dimensions:
        d["area"] = labels.get(d["dimension"], d["dimension"])  # the area's name, never its code
    # Outside the organisation the intervals of the means and d_z are not made (_dimension_figures):
    # their columns are left out rather than shown empty.
    exact = not ctx.external
    means_table = Table(
        "Medelvärden (poäng 0–100)",
        ["Område", "Vem", "Personer (antal)", "n (antal)", "Första", "Senaste", "Förändring"],
        [[*_label(d), d["persons"], d["n"], d["mean_first"], d["mean_latest"], d["mean_change"]] for d in dimensions],
        "n: inskrivningar (en person kan ha flera).",
    )
    mean_intervals_table = Table(
        "Medelvärdenas 95 % konfidensintervall",
        ["Område", "Vem", "Första", "Senaste", "Förändring"],
        [
            [*_label(d), *[interval_text(d[f"mean_{total}_ci"]) for total in ("first", "latest", "change")]]
            for d in dimensions
        ],
        "Medel ± t(n − 1) × SD ÷ √n.",
    )
    effect_table = Table(
        "Effektstorlek, mätfel och tid" if exact else "Mätfel och tid",
        (["Område", "Vem", "d_z", "95 % KI"] if exact else ["Område", "Vem"])
        + ["SEM (poäng)", "Gräns (poäng)", "Månader"],
        [
            [*_label(d)]
            + ([d["d_z"], interval_text(d["d_z_ci"], 2)] if exact else [])
            + [_points(d["sem"]), _points(d["threshold"]), d["months_median"]]
            for d in dimensions
        ],
        ("d_z: medelförändringen delad med förändringarnas standardavvikelse. " if exact else "")
        + "Gräns: den minsta förändring som räknas som tillförlitlig, 1,96 × √2 × SEM. Månader: median av tiden "
        + "mellan första och senaste mätningen"
        + ("." if exact else ", i hela månader."),
    )
    change_table = Table(
        "Tillförlitlig förändring (RCI)",
        ["Område", "Vem", "Bedömda (antal)", "Förbättrad %", "Oförändrad %", "Försämrad %", "≥ MID %"],
        [[*_label(d), d["classified"], *[d[f"share_{name}"] for name in (*CLASSES, "mid")]] for d in dimensions],
        "Bedömda: inskrivningar som kunnat bedömas mot en norm med tillräckligt underlag; andelarna räknas av dem.",
    )
    share_intervals_table = Table(
        "Andelarnas 95 % konfidensintervall (Wilson)",
        ["Område", "Vem", "Förbättrad", "Oförändrad", "Försämrad", "≥ MID"],
        [[*_label(d), *[interval_text(d[f"share_{name}_ci"]) for name in (*CLASSES, "mid")]] for d in dimensions],
    )
    stage_table = Table(
        "Förflyttning mellan stegen",
        ["Område", "Vem", "n (antal)", "Uppåt minst ett steg %", "Samma steg %", "Nedåt minst ett steg %"],
        [
            [*_label(d), d["staged"], d["share_stage_up"], d["share_stage_same"], d["share_stage_down"]]
            for d in dimensions
            if d["staged"]
        ],
        "Steget för medelvärdet av områdets frågor vid första och senaste mätningen (Står still, Tar emot "
        "stöd, Provar, Lär mig, Klarar själv på den levererade stegen).",
    )
    charts = []
    for perspective, name in (("self", "Deltagarnas självskattning"), ("mentor", "Handledarnas bedömning")):
        own = [d for d in dimensions if d["perspective"] == perspective]
        if len(own) >= 3:
            charts.append(
                Chart(
                    "radar",
                    f"{name}: medel första och senaste (0–100)",
                    [d["area"] for d in own],
                    [("Första", [d["mean_first"] for d in own]), ("Senaste", [d["mean_latest"] for d in own])],
                    caption="Medelpoäng 0–100 per område vid första och senaste mätningen, för inskrivningar "
                    f"med minst två mätningar (n = {swedish_number(max(d['n'] for d in own))}).",
                )
            )
    # The perspectives measured at all (joint readings are optional): a line of 100 % "fewer than
    # two" for a perspective nobody uses would read as a failure.
    measured = {d["perspective"] for d in dimensions}
    attrition = {
        p: counts
        for p, counts in _attrition(ctx, open_ids, enrolled).items()
        if p in measured or counts["measured"] or counts["measured_before"]
    }
    thirds_table = Table(
        "Förbättrade efter utgångsläge",
        ["Område", "Vem", "Lägsta tredjedelen %", "Mittersta %", "Högsta tredjedelen %"],
        [[*_label(d), *d["improved_by_third"]] for d in dimensions if d["classified"] and d["improved_by_third"]],
        "Andelen tillförlitligt förbättrade bland de bedömda i varje tredjedel av första mätningen. Att de "
        "som började lägst förbättras oftare är delvis regression mot medelvärdet, inte bara insatsens verkan.",
    )
    attrition_table = Table(
        "Bortfall: inskrivna under perioden och deras mätningar (antal)",
        ["Vem", "Inskrivna", "Mätta under perioden", "Mätta bara före", "Färre än två", "Färre än två %"],
        [
            [
                PERSPECTIVE_LABELS[perspective],
                counts["enrolled"],
                counts["measured"],
                counts["measured_before"],
                counts["fewer_than_two"],
                ctx.share(counts["fewer_than_two"], counts["enrolled"]),
            ]
            for perspective, counts in attrition.items()
        ],
        "Mätta under perioden: minst två mätningar vid periodens slut och den senaste under perioden (de "
        "inskrivningar som n ovan räknas av; n per område kan vara något lägre om ett område saknar svar). "
        "Mätta bara före: två mätningar, ingen under perioden. Färre än två: kan inte visa någon förändring.",
    )
    return Report(
        "progression",
        "Stegförflyttning",
        f,
        ctx.external,
        {
            "dimensions": dimensions,
            "attrition": attrition,
            "norm_set": norm_set.version if norm_set else None,
            "algorithm_version": scoring.ALGORITHM_VERSION,
        },
        [
            means_table,
            *([mean_intervals_table] if exact else []),
            effect_table,
            change_table,
            share_intervals_table,
            stage_table,
            *([thirds_table] if exact else []),
            attrition_table,
        ],
        charts,
        [
            "Inskrivningar med minst två mätningar där den senaste mätningen gjordes under perioden. Personer: "
            "olika deltagare bland dem (en person kan ha fler inskrivningar).",
            *CAVEATS,
            f"Klassificeringen räknas mot normversion {norm_set.version} (se Normer)."
            if norm_set
            else "Inga normer ännu.",
            "Poäng 0–100. 95 % KI för ett medel: medel ± t(n − 1) × SD ÷ √n. d_z = medelförändring ÷ "
            "förändringens standardavvikelse (effektstorlek för upprepade mätningar på samma personer; Cohens "
            "gränser för liten, medel och stor gäller andra d), med exakt 95 % KI ur den icke-centrala "
            "t-fördelningen"
            + (
                ". Utanför organisationen visas varken d_z eller medlens intervall: bredvid de skyddade medlen "
                "skulle de ge den exakta spridningen."
                if ctx.external
                else "."
            ),
            "Tillförlitlig förändring: |RCI| ≥ 1,96 mot normen för instrumentversion, område och vem som "
            "bedömer; SEM = SD₀ × √(1 − r). Andelarna förbättrad, oförändrad och försämrad räknas av de "
            "bedömda och summerar till 100; 95 % KI enligt Wilson. MID: förändring ≥ 0,5 × SD₀.",
            "Stegen: medelvärdet av områdets frågor (1–10) placeras på stegen vid första och senaste mätningen; "
            "ett medel mellan två steg räknas till det lägre.",
            *(
                [
                    "Skyddade tal: andelarna räknas på de skyddade antalen i varje grupp (förbättrad, oförändrad, "
                    "försämrad; uppåt, samma, nedåt), vars summa kan skilja sig från n och Bedömda, som har sitt "
                    "eget brus."
                ]
                if ctx.external
                else []
            ),
        ],
        empty_message=""
        if dimensions
        else empty_sentence(
            ctx, "Ingen stegförflyttning att visa: inga inskrivningar med minst två mätningar där den senaste gjordes"
        ),
    )


def improvement_trend(ctx: Context) -> dict[int, list[dict[str, int]]]:
    """Per insats (id), by year of the latest reading: the participants with at least two
    self-assessments and how many of them improved reliably in at least one area. Persons, not
    person × area pairs (InsatsSummary sums over areas, so it cannot count persons); one statement."""
    person, key = "enrolment__participant_id", "enrolment__participant__record_key"
    improved = Q(classification=Classification.IMPROVED)
    rows = (
        Progression.objects.filter(enrolment__in=enrolments(ctx), perspective="self", n_readings__gte=2)
        .annotate(year=ExtractYear("latest_on"))
        .values("enrolment__insats_id", "year")
        .annotate(
            n=Count(person, distinct=True),
            n_key=disclosure.person_key_sum(person, key),
            improved=Count(person, distinct=True, filter=improved),
            improved_key=disclosure.person_key_sum(person, key, filter=improved),
        )
        .order_by("enrolment__insats_id", "year")
    )
    trend: dict[int, list[dict[str, int]]] = {}
    for row in rows:
        trend.setdefault(row["enrolment__insats_id"], []).append(
            {
                "year": row["year"],
                "n": ctx.count(Cell(row["n"], row["n_key"] or 0)),
                "improved": ctx.count(Cell(row["improved"], row["improved_key"] or 0)),
            }
        )
    return trend


# --- 7. Volymer ---------------------------------------------------------------------------------------------


def _volume_aggregates() -> dict[str, Any]:
    """Per kön column: the heads registered, and the registrations' record keys."""
    conditions = {
        "kvinna": Q(kon="kvinna"),
        "man": Q(kon="man"),
        "annat": ~Q(kon__in=["kvinna", "man"]),  # annat, okänt, or heads registered without kön
        "total": Q(),
    }
    return {
        name: aggregate
        for kon, condition in conditions.items()
        for name, aggregate in (
            (f"{kon}_n", Sum("count", filter=condition)),
            (f"{kon}_key", Sum("record_key", filter=condition)),
        )
    }


def volumes(ctx: Context) -> Report:
    f = ctx.filters
    rows = (
        VolumeRegistration.objects.filter(
            insats_id__in=f.insats_ids, period_start__lte=f.date_to, period_end__gte=f.date_from
        )
        .values("insats__name", "category")
        .annotate(**_volume_aggregates())
        .order_by("insats__name", "category")
    )
    lines = []
    for row in rows:
        counts = {kon: ctx.count(Cell(row[f"{kon}_n"] or 0, row[f"{kon}_key"] or 0)) for kon in KON_COLUMNS}
        lines.append({"insats": row["insats__name"], "category": row["category"], **counts})
    return Report(
        "volumes",
        "Volymer",
        f,
        ctx.external,
        {"volumes": lines},
        [
            Table(
                "Volymregistreringar (antal)",
                ["Insats", "Vad", *KON_HEADERS],
                [[v["insats"], v["category"], *[v[k] for k in KON_COLUMNS]] for v in lines],
            ),
        ],
        [],
        [
            "Registreringar vars period överlappar rapportperioden (volyminsatser, t.ex. SIP-möten).",
            "Annat/okänt: personer med annat eller okänt kön och antal som registrerats utan kön.",
        ],
        empty_message=""
        if any(v[k] for v in lines for k in KON_COLUMNS)
        else empty_sentence(ctx, "Inga volymregistreringar"),
    )
