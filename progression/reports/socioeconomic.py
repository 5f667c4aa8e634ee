"""The socioeconomic report: transitions, helårsekvivalenter, public cost by payer, and what the
insats may claim over 1 and 5 years with a sensitivity range, next to its cost per participant."""

from django.db.models import Q

from participants.models import IncomeSource, InsatsPeriod, Payer
from progression import socioeconomics as se
from progression.reports.base import Context, Report, Table
from progression.reports.definitions import background, ended_in_period, enrolments, open_in_period
from progression.reports.suppression import suppress_matrix

PAYER_LABELS = dict(Payer.choices)


def _kr(value: float | None) -> int | None:
    return None if value is None else round(value)


def _hide_small_payers(ctx: Context, effects: list, payers: dict) -> None:
    """Money of a payer that 1–4 persons stand behind would reveal them (cost = persons × rate): hide it,
    and one more payer where the total would otherwise give the hidden one away."""
    for side in ("before", "after"):
        persons = {PAYER_LABELS[p]: 0 for p in Payer.values if p != Payer.INGEN}
        for effect in effects:
            payer = PAYER_LABELS.get(getattr(effect, f"{side}_payer"))
            if payer in persons and getattr(effect, f"{side}_cost"):
                persons[payer] += 1
        cells = {("r", payer): count for payer, count in persons.items()} | {("r", "total"): sum(persons.values())}
        hidden = suppress_matrix(
            cells, row_keys=["r"], col_keys=[*persons, "total"], threshold=ctx.threshold, rows_add_up=False
        )
        for payer in persons:
            if ("r", payer) in hidden:
                payers[payer][side] = None
                payers[payer]["change"] = None


def socioeconomic(ctx: Context) -> Report:
    f = ctx.filters
    ended = enrolments(ctx).filter(ended_in_period(ctx))
    effects = se.enrolment_effects(ended)
    n = len(effects)
    hide_money = ctx.external and 0 < n < ctx.threshold
    sources = list(IncomeSource.objects.order_by("sort_order"))
    codes = [s.code for s in sources]
    labels = {s.code: s.label_sv for s in sources}

    # Transition matrix before → after (persons), suppressed like any table of counts.
    cells = {(b, a): 0 for b in [*codes, "total"] for a in [*codes, "total"]}
    for e in effects:
        for key in ((e.before, e.after), (e.before, "total"), ("total", e.after), ("total", "total")):
            cells[key] += 1
    shown = ctx.matrix(cells, [*codes, "total"], [*codes, "total"])
    used = [c for c in codes if cells[(c, "total")] or cells[("total", c)]]
    transitions = {b: {a: shown[(b, a)] for a in [*used, "total"]} for b in [*used, "total"]}

    before_hae = sum(e.before_hae for e in effects)
    after_hae = sum(e.after_hae for e in effects)
    before_cost = sum(e.before_cost for e in effects)
    after_cost = sum(e.after_cost for e in effects)
    reduction = before_cost - after_cost
    assumptions = se.Assumptions.for_forbund(f.forbund)
    horizons = {
        name: {
            "assumptions": a.describe(),
            "year_1": _kr(se.claimable(yearly_reduction=reduction, assumptions=a, years=1)),
            "years_5": _kr(se.claimable(yearly_reduction=reduction, assumptions=a, years=5)),
        }
        for name, a in (("low", se.LOW), ("central", assumptions), ("high", se.HIGH))
    }
    payers = {PAYER_LABELS[p]: {k: _kr(v) for k, v in values.items()} for p, values in se.by_payer(effects).items()}
    if ctx.external:
        _hide_small_payers(ctx, effects, payers)

    # The insats' cost for the period (pro rata over its plan periods) per participant in the period.
    cost = 0.0
    for plan in InsatsPeriod.objects.filter(insats__in=f.insatser, cost_sek__isnull=False).filter(
        Q(period_start__lte=f.date_to) & Q(period_end__gte=f.date_from)
    ):
        days = (plan.period_end - plan.period_start).days + 1
        cost += (
            float(plan.cost_sek)
            * se.period_days_overlap(f.date_from, f.date_to, plan.period_start, plan.period_end)
            / days
        )
    participants = (
        enrolments(ctx, include_anonymous=True).filter(open_in_period(ctx)).values("participant").distinct().count()
    )
    cost_per_participant = cost / participants if participants else None
    per_ended = {name: (None if not n else _kr(h["years_5"] / n)) for name, h in horizons.items()}

    money = {
        "helarsekvivalenter": {
            "before": round(before_hae, 2),
            "after": round(after_hae, 2),
            "change": round(after_hae - before_hae, 2),
        },
        "yearly_public_cost": {"before": _kr(before_cost), "after": _kr(after_cost), "change": _kr(-reduction)},
        "by_payer": payers,
        "claimable": horizons,
        "claimable_5_years_per_ended_participant": per_ended,
        "insats_cost": {"total": _kr(cost), "participants": participants, "per_participant": _kr(cost_per_participant)},
    }
    if hide_money:
        money = {key: None for key in money}
    support = background(ctx).data["years_in_public_support"]
    data = {
        "n": n if not ctx.external or not 0 < n < ctx.threshold else "<5",
        "transitions": transitions,
        **money,
        "years_in_public_support": support,
        "cost_parameters": "CostParameter per år och kommun; schablon 162 000 kr per helårsekvivalent om inget "
        "annat har angetts (Finsam Uppsala, 2022).",
    }

    tables = [
        Table(
            "Försörjning före → efter (antal personer)",
            ["Före \\ Efter", *[labels[c] for c in used], "Totalt"],
            [[labels.get(b, "Totalt"), *[transitions[b][a] for a in [*used, "total"]]] for b in [*used, "total"]],
        )
    ]
    if not hide_money:
        tables += [
            Table(
                "Helårsekvivalenter och offentlig kostnad per år",
                ["", "Före", "Efter", "Förändring"],
                [
                    ["Helårsekvivalenter", *money["helarsekvivalenter"].values()],
                    ["Offentlig kostnad per år (kr)", *money["yearly_public_cost"].values()],
                ],
                "Helårsekvivalent = ersättningsdagar × omfattning ÷ 365; ett helt år på angiven omfattning.",
            ),
            Table(
                "Per betalare (kr per år)",
                ["Betalare", "Före", "Efter", "Förändring"],
                [[payer, v["before"], v["after"], v["change"]] for payer, v in payers.items()],
            ),
            Table(
                "Vad insatsen kan tillgodoräkna sig (kr)",
                ["Scenario", "Antaganden", "År 1", "5 år", "5 år per avslutad deltagare"],
                [
                    [
                        {"low": "Försiktigt", "central": "Huvudalternativ", "high": "Optimistiskt"}[k],
                        h["assumptions"],
                        h["year_1"],
                        h["years_5"],
                        per_ended[k],
                    ]
                    for k, h in horizons.items()
                ],
                "En uppskattning med osäkerhetsintervall, inte ett exakt belopp.",
            ),
            Table(
                "Insatsens kostnad",
                ["", "Värde"],
                [
                    ["Kostnad för perioden (kr)", money["insats_cost"]["total"]],
                    ["Deltagare under perioden", participants],
                    ["Kostnad per deltagare (kr)", money["insats_cost"]["per_participant"]],
                ],
            ),
        ]
    return Report(
        "socioeconomic",
        "Samhällsekonomisk effekt",
        f,
        ctx.external,
        data,
        tables,
        [],
        [
            "Avslutade inskrivningar i perioden med försörjning före och efter (n). Ingen offentlig försörjning "
            "kostar 0 kr.",
            "Offentlig kostnad = helårsekvivalenter × kostnad per helårsekvivalent "
            "(kostnadsparametrar per år och kommun).",
            "År 1 = minskning × (1 − dödvikt) × tillskrivning; därefter minskar effekten med avtagandet varje år och "
            "diskonteras. Tre scenarier visar osäkerheten.",
            "Siffrorna är uppskattningar av offentliga utgifter, inte av människors livskvalitet eller inkomst.",
        ],
    )
