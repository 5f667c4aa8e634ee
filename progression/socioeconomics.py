"""Socio-economic indicators (DESIGN.md §5): income source before and after an enrolment,
helårsekvivalenter, estimated yearly public cost by payer, and what an insats may claim over 1 and
5 years after deadweight, attribution and drop-off. See docs/socioeconomics.md for every formula."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet

from participants.models import Enrolment, Forbund
from progression.models import CostParameter, ImpactAssumptions

NO_SUPPORT = "ingen_offentlig"


@dataclass(frozen=True)
class Assumptions:
    deadweight: float  # share of the change that would have happened anyway
    attribution: float  # share of the rest that the insats may claim
    dropoff: float  # yearly decline of the effect after the first year
    discount_rate: float

    @classmethod
    def for_forbund(cls, forbund: Forbund) -> "Assumptions":
        stored = ImpactAssumptions.objects.filter(forbund=forbund).first()
        if stored is None:
            return CENTRAL
        return cls(
            float(stored.deadweight_pct) / 100,
            float(stored.attribution_pct) / 100,
            float(stored.dropoff_pct) / 100,
            float(stored.discount_rate_pct) / 100,
        )

    def describe(self) -> str:
        return (
            f"dödvikt {self.deadweight:.0%}, tillskrivning {self.attribution:.0%}, "
            f"avtagande {self.dropoff:.0%} per år, diskontering {self.discount_rate:.0%}"
        ).replace("%", "\u00a0%")  # never "3 / %" at a line break


# Conservative defaults (see docs/socioeconomics.md), and the sensitivity range around them.
CENTRAL = Assumptions(deadweight=0.30, attribution=0.50, dropoff=0.25, discount_rate=0.03)
LOW = Assumptions(deadweight=0.50, attribution=0.30, dropoff=0.50, discount_rate=0.03)
HIGH = Assumptions(deadweight=0.15, attribution=0.70, dropoff=0.10, discount_rate=0.03)


@dataclass(frozen=True)
class EnrolmentEffect:
    enrolment_id: int
    record_key: int  # the enrolment's, for the protected figures of external reports
    before: str
    after: str
    before_hae: float
    after_hae: float
    before_cost: float
    after_cost: float
    before_payer: str
    after_payer: str

    @property
    def change_hae(self) -> float:
        return self.after_hae - self.before_hae

    @property
    def change_cost(self) -> float:
        return self.after_cost - self.before_cost


class CostTable:
    """Public cost per helårsekvivalent (the parameter's cost × its public share) for (year, kommun,
    income source), falling back from the most specific parameter to the schablon. A year without
    parameters uses the latest earlier year; a year before the first parameter year uses the first
    (the nearest: a later year's prices, never a guess)."""

    def __init__(self) -> None:
        self.rows = {
            (p.year, p.kommun, p.income_source.code if p.income_source else None): float(p.yearly_cost_sek)
            * float(p.public_share)
            for p in CostParameter.objects.select_related("income_source")
        }
        self.years = sorted({year for year, _, _ in self.rows})

    def year_used(self, year: int) -> int | None:
        """The parameter year that prices `year`: itself, else the latest earlier, else the first."""
        earlier = [candidate for candidate in self.years if candidate <= year]
        return earlier[-1] if earlier else (self.years[0] if self.years else None)

    def cost(self, *, year: int, kommun: str, source: str) -> float:
        if source == NO_SUPPORT:
            return 0.0
        used = self.year_used(year)
        if used is None:
            return 0.0
        for candidate in [y for y in reversed(self.years) if y <= used]:
            for key in (
                (candidate, kommun, source),
                (candidate, kommun, None),
                (candidate, "", source),
                (candidate, "", None),
            ):
                if key in self.rows:
                    return self.rows[key]
        return 0.0


def helarsekvivalenter(*, benefit_days: float, extent: float) -> float:
    """SCB: a helårsekvivalent is benefit days × extent ÷ 365."""
    return benefit_days * extent / 365


def enrolment_effects(enrolments: QuerySet[Enrolment]) -> list[EnrolmentEffect]:
    """Per ended enrolment: income source, helårsekvivalenter and yearly public cost before and after.

    The situation before and after is taken as a full year (365 days) at the recorded extent, priced
    with the cost parameters of the year of avslut."""
    table = CostTable()
    rows = enrolments.filter(end_date__isnull=False, income_before__isnull=False, income_after__isnull=False).values(
        "id",
        "record_key",
        "end_date",
        "insats__kommun",
        "income_before__code",
        "income_before__payer",
        "income_before_extent",
        "income_after__code",
        "income_after__payer",
        "income_after_extent",
    )
    effects = []
    for row in rows:
        end_date = row["end_date"]
        if end_date is None:  # excluded by the filter above
            raise ValueError(f"Enrolment {row['id']} has no end date")
        year, kommun = end_date.year, row["insats__kommun"]
        before, after = row["income_before__code"], row["income_after__code"]
        before_hae = (
            0.0
            if before == NO_SUPPORT
            else helarsekvivalenter(benefit_days=365, extent=float(row["income_before_extent"]))
        )
        after_hae = (
            0.0
            if after == NO_SUPPORT
            else helarsekvivalenter(benefit_days=365, extent=float(row["income_after_extent"] or Decimal(1)))
        )
        effects.append(
            EnrolmentEffect(
                enrolment_id=row["id"],
                record_key=row["record_key"],
                before=before,
                after=after,
                before_hae=before_hae,
                after_hae=after_hae,
                before_cost=before_hae * table.cost(year=year, kommun=kommun, source=before),
                after_cost=after_hae * table.cost(year=year, kommun=kommun, source=after),
                before_payer=row["income_before__payer"],
                after_payer=row["income_after__payer"],
            )
        )
    return effects


def claimable(*, yearly_reduction: float, assumptions: Assumptions, years: int) -> float:
    """What the insats may claim of a yearly reduction in public cost over a horizon:
    year 1 = reduction × (1 − deadweight) × attribution; each later year × (1 − drop-off),
    discounted by (1 + rate)^(t−1)."""
    first = yearly_reduction * (1 - assumptions.deadweight) * assumptions.attribution
    return sum(
        first * (1 - assumptions.dropoff) ** (t - 1) / (1 + assumptions.discount_rate) ** (t - 1)
        for t in range(1, years + 1)
    )


def period_days_overlap(start: date, end: date, period_start: date, period_end: date) -> int:
    return max(0, (min(end, period_end) - max(start, period_start)).days + 1)
