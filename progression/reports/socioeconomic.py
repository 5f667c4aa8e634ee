"""The socioeconomic report: transitions, helårsekvivalenter, public cost by payer, and what the
insats may claim over 1 and 5 years with a sensitivity range, next to its cost per participant."""

from typing import Any, TypedDict

from django.db.models import Q

from participants.models import IncomeSource, InsatsPeriod, Payer
from progression import socioeconomics as se
from progression.reports.base import Context, Report, Table, empty_sentence
from progression.reports.definitions import (
    background,
    cell_aggregates,
    cell_from,
    ended_in_period,
    enrolments,
    open_in_period,
)
from progression.reports.disclosure import MINIMUM_FOR_MEANS, Cell

PAYER_LABELS = dict(Payer.choices)
MONEY_FIGURES = (
    "helarsekvivalenter",
    "yearly_public_cost",
    "by_payer",
    "claimable",
    "claimable_5_years_per_ended_participant",
    "insats_cost",
)


class Horizon(TypedDict):
    """What the insats may claim (kr) under one scenario's assumptions."""

    assumptions: str
    year_1: int
    years_5: int


def _kr(value: float | None) -> int | None:
    return None if value is None else round(value)


def _cell(effects: list[se.EnrolmentEffect], amount: str = "") -> Cell:
    """The enrolments behind a figure, with the sum and largest of one of their amounts."""
    values = [getattr(e, amount) for e in effects] if amount else []
    return Cell(
        len(effects),
        sum(e.record_key for e in effects),
        float(sum(values)),
        max((abs(v) for v in values), default=0.0),
    )


def _payers(ctx: Context, effects: list[se.EnrolmentEffect]) -> dict[str, dict[str, int | None]]:
    """Yearly public cost before and after per payer, each from the enrolments that payer paid for;
    outside the organisation a payer that too few stand behind shows no amount."""
    payers = {}
    for payer in Payer.values:
        if payer == Payer.INGEN:
            continue
        sides = {
            side: ctx.amount(
                _cell([e for e in effects if getattr(e, f"{side}_payer") == payer], f"{side}_cost"),
                f"{payer} {side}",
            )
            for side in ("before", "after")
        }
        before, after = sides["before"], sides["after"]
        change = None if before is None or after is None else after - before
        payers[PAYER_LABELS[payer]] = {k: _kr(v) for k, v in (sides | {"change": change}).items()}
    return payers


def socioeconomic(ctx: Context) -> Report:
    f = ctx.filters
    ended = enrolments(ctx).filter(ended_in_period(ctx))
    effects = se.enrolment_effects(ended)
    n = ctx.count(_cell(effects))
    sources = list(IncomeSource.objects.order_by("sort_order"))
    codes = [s.code for s in sources]
    labels = {s.code: s.label_sv for s in sources}

    # Transition matrix before → after (persons): each cell its own set of enrolments; the sources
    # shown are those with a (published) person before or after.
    def moved(before: str, after: str) -> int:
        return ctx.count(_cell([e for e in effects if before in ("total", e.before) and after in ("total", e.after)]))

    everything = {b: {a: moved(b, a) for a in [*codes, "total"]} for b in [*codes, "total"]}
    used = [c for c in codes if everything[c]["total"] or everything["total"][c]]
    transitions = {b: {a: everything[b][a] for a in [*used, "total"]} for b in [*used, "total"]}

    before_hae = ctx.amount(_cell(effects, "before_hae"), "helårsekvivalenter före")
    after_hae = ctx.amount(_cell(effects, "after_hae"), "helårsekvivalenter efter")
    before_cost = ctx.amount(_cell(effects, "before_cost"), "kostnad före")
    after_cost = ctx.amount(_cell(effects, "after_cost"), "kostnad efter")
    reduction = 0.0 if before_cost is None or after_cost is None else before_cost - after_cost
    assumptions = se.Assumptions.for_forbund(f.forbund)
    # The outer scenarios named by the size of what they give, not by their assumptions: when the
    # public cost rose (a negative reduction), the generous assumptions give the lowest figure.
    outer = sorted((se.LOW, se.HIGH), key=lambda a: se.claimable(yearly_reduction=reduction, assumptions=a, years=5))
    horizons: dict[str, Horizon] = {
        name: {
            "assumptions": a.describe(),
            "year_1": round(se.claimable(yearly_reduction=reduction, assumptions=a, years=1)),
            "years_5": round(se.claimable(yearly_reduction=reduction, assumptions=a, years=5)),
        }
        for name, a in (("low", outer[0]), ("central", assumptions), ("high", outer[1]))
    }
    payers = _payers(ctx, effects)

    # The insats' cost for the period (pro rata over its plan periods) per participant in the period.
    cost = 0.0
    for plan in InsatsPeriod.objects.filter(insats__in=f.insatser, cost_sek__isnull=False).filter(
        Q(period_start__lte=f.date_to) & Q(period_end__gte=f.date_from)
    ):
        if plan.cost_sek is None:  # left out by the query already; a plan period without a cost adds none
            continue
        days = (plan.period_end - plan.period_start).days + 1
        cost += (
            float(plan.cost_sek)
            * se.period_days_overlap(f.date_from, f.date_to, plan.period_start, plan.period_end)
            / days
        )
    persons = (
        enrolments(ctx, include_anonymous=True)
        .filter(open_in_period(ctx))
        .aggregate(**cell_aggregates("persons", Q(), persons=True))
    )
    participants = ctx.count(cell_from(persons, "persons"))
    cost_per_participant = cost / participants if participants else None
    per_ended = {name: (None if not n else _kr(h["years_5"] / n)) for name, h in horizons.items()}

    # None of the money figures when too few stand behind the amounts.
    money: dict[str, Any] = dict.fromkeys(MONEY_FIGURES)
    money_shown = False
    if before_hae is not None and after_hae is not None and before_cost is not None and after_cost is not None:
        money_shown = True
        money = {
            "helarsekvivalenter": {
                "before": round(before_hae, 2),
                "after": round(after_hae, 2),
                "change": round(round(after_hae, 2) - round(before_hae, 2), 2),  # adds up as printed
            },
            "yearly_public_cost": {"before": _kr(before_cost), "after": _kr(after_cost), "change": _kr(-reduction)},
            "by_payer": payers,
            "claimable": horizons,
            "claimable_5_years_per_ended_participant": per_ended,
            "insats_cost": {
                "total": _kr(cost),
                "participants": participants,
                "per_participant": _kr(cost_per_participant),
            },
        }
    support = background(ctx).data["years_in_public_support"]
    data = {
        "n": n,
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
    if money_shown:
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
                        {"low": "Lägst", "central": "Huvudalternativ", "high": "Högst"}[k],
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
                    ["Deltagare under perioden, anonyma inräknade (antal)", participants],
                    ["Kostnad per deltagare (kr)", money["insats_cost"]["per_participant"]],
                ],
            ),
        ]
    # Nobody ended (no published count anywhere in the matrix): a sentence, not a matrix of zeros.
    empty = not n and not any(count for line in transitions.values() for count in line.values())
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
            *(
                []
                if money_shown or empty or not ctx.external
                else [
                    "Helårsekvivalenter, kostnader, betalare, scenarier och insatsens kostnad visas inte: för få "
                    f"avslutade står bakom beloppen (färre än {MINIMUM_FOR_MEANS} i de skyddade talen)."
                ]
            ),
        ],
        empty_message=empty_sentence(
            ctx, "Inga avslut", "Den samhällsekonomiska effekten räknas för avslutade inskrivningar."
        )
        if empty
        else "",
    )
