"""Socio-economic formulas checked against hand-computed examples."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from django.http import QueryDict

from participants.models import Enrolment, ExitReason, IncomeSource, InsatsPeriod
from participants.services import enrolment_close, enrolment_create, participant_create
from progression import socioeconomics as se
from progression.models import CostParameter, ImpactAssumptions
from progression.reports.base import Context
from progression.reports.filters import parse_filter
from progression.reports.registry import build_report
from progression.reports.socioeconomic import _payers
from tests.factories import operator, registry_world

pytestmark = pytest.mark.django_db
SCHABLON = 162_000


def _ended(world, before: str, before_extent: str, after: str, after_extent: str, *, insats=None, kon="kvinna"):
    insats = insats or world.jonsbo
    person = participant_create(forbund=insats.forbund, kon=kon, birth_year=1990)
    enrolment = enrolment_create(
        by=operator(),
        participant=person,
        insats=insats,
        start_date=date(2025, 9, 1),
        income_before=IncomeSource.objects.get(code=before),
        income_before_extent=Decimal(before_extent),
        today=date(2026, 6, 1),
    )
    return enrolment_close(
        by=operator(),
        enrolment=enrolment,
        end_date=date(2026, 5, 31),
        exit_reason=ExitReason.objects.get(code="arbete"),
        income_after=IncomeSource.objects.get(code=after),
        income_after_extent=Decimal(after_extent),
        today=date(2026, 6, 1),
    )


@pytest.fixture
def world():
    return registry_world()


def _effects(*enrolments):
    return {
        e.enrolment_id: e for e in se.enrolment_effects(Enrolment.objects.filter(pk__in=[x.pk for x in enrolments]))
    }


def test_helarsekvivalent_is_days_times_extent_over_365():
    assert se.helarsekvivalenter(benefit_days=365, extent=1) == 1
    assert se.helarsekvivalenter(benefit_days=182.5, extent=0.5) == 0.25


def test_full_time_social_assistance_to_no_public_support(world):
    enrolment = _ended(world, "forsorjningsstod", "1", "ingen_offentlig", "1")
    effect = _effects(enrolment)[enrolment.pk]
    assert (effect.before_hae, effect.after_hae) == (1.0, 0.0)
    assert (effect.before_cost, effect.after_cost, effect.change_cost) == (SCHABLON, 0.0, -SCHABLON)
    assert (effect.before_payer, effect.after_payer) == ("kommun", "ingen")


def test_part_time_extents_and_a_change_of_payer(world):
    enrolment = _ended(world, "sjukpenning_rehab", "0.50", "aktivitetsstod", "0.25")
    effect = _effects(enrolment)[enrolment.pk]
    assert (effect.before_hae, effect.after_hae) == (0.5, 0.25)
    assert (effect.before_cost, effect.after_cost) == (81_000, 40_500)
    payers = _payers(Context(filters=None, external=False), [effect])
    assert payers["Försäkringskassan"] == {"before": 81_000, "after": 0, "change": -81_000}
    assert payers["Staten/Arbetsförmedlingen"] == {"before": 0, "after": 40_500, "change": 40_500}


def test_kommun_specific_cost_parameter_wins_over_the_schablon(world):
    world.jonsbo.kommun = "Linköping"
    world.jonsbo.save()
    CostParameter.objects.create(
        year=2026,
        kommun="Linköping",
        income_source=IncomeSource.objects.get(code="forsorjningsstod"),
        yearly_cost_sek=120_000,
        source="Linköpings kommun, budget 2026",
    )
    linkoping = _ended(world, "forsorjningsstod", "1", "ingen_offentlig", "1")
    elsewhere = _ended(world, "forsorjningsstod", "1", "ingen_offentlig", "1", insats=world.natursteget)
    effects = _effects(linkoping, elsewhere)
    assert effects[linkoping.pk].before_cost == 120_000
    assert effects[elsewhere.pk].before_cost == SCHABLON


def test_claimable_over_one_and_five_years():
    central = se.Assumptions(deadweight=0.30, attribution=0.50, dropoff=0.25, discount_rate=0.03)
    assert se.claimable(yearly_reduction=100_000, assumptions=central, years=1) == pytest.approx(35_000)
    assert se.claimable(yearly_reduction=100_000, assumptions=central, years=5) == pytest.approx(102_394.7323, abs=1e-3)
    assert se.claimable(yearly_reduction=100_000, assumptions=se.LOW, years=1) == pytest.approx(15_000)


def _filters(world, **params):
    query = QueryDict(mutable=True)
    query.update({"forbund": "sco", "from": "2026-01-01", "to": "2026-12-31", **params})
    query.setlist("insats", ["jonsbo"])
    return parse_filter(user=world.coordinator_sco, params=query, default_year=2026)


def _report(world, **params):
    return build_report("socioeconomic", filters=replace(_filters(world, **params), external=False)).data


def test_report_aggregates_and_reacts_to_parameters(world):
    InsatsPeriod.objects.create(
        insats=world.jonsbo, period_start=date(2026, 1, 1), period_end=date(2026, 12, 31), cost_sek=300_000
    )
    _ended(world, "forsorjningsstod", "1", "ingen_offentlig", "1")
    _ended(world, "sjukpenning_rehab", "0.50", "aktivitetsstod", "0.25", kon="man")
    _ended(world, "aktivitetsstod", "1", "studiemedel", "1")
    data = _report(world)
    assert data["n"] == 3
    assert data["transitions"]["forsorjningsstod"]["ingen_offentlig"] == 1
    assert data["transitions"]["total"]["total"] == 3
    assert data["helarsekvivalenter"] == {"before": 2.5, "after": 1.25, "change": -1.25}
    # before 162 000 + 81 000 + 162 000; after 0 + 40 500 + studiemedel's grant part 131 560 × 0.30
    assert data["yearly_public_cost"] == {"before": 405_000, "after": 79_968, "change": -325_032}
    assert data["claimable"]["central"]["year_1"] == round(325_032 * 0.7 * 0.5)
    assert data["insats_cost"] == {"total": 300_000, "participants": 3, "per_participant": 100_000}
    ImpactAssumptions.objects.create(
        forbund=world.sco, deadweight_pct=50, attribution_pct=40, dropoff_pct=25, discount_rate_pct=3
    )
    assert _report(world)["claimable"]["central"]["year_1"] == round(325_032 * 0.5 * 0.4)
    CostParameter.objects.filter(year=2026, kommun="", income_source=None).update(yearly_cost_sek=100_000)
    assert _report(world)["yearly_public_cost"] == {"before": 250_000, "after": 64_468, "change": -185_532}
    CostParameter.objects.filter(year=2026, income_source__code="studiemedel").update(public_share=1)
    assert _report(world)["yearly_public_cost"]["after"] == 25_000 + 131_560


def test_small_groups_hide_money_in_external_output(world):
    _ended(world, "forsorjningsstod", "1", "ingen_offentlig", "1")
    query = QueryDict(mutable=True)
    query.update({"forbund": "sco", "from": "2026-01-01", "to": "2026-12-31"})
    filters = parse_filter(user=world.coordinator_sco, params=query, default_year=2026)
    data = build_report("socioeconomic", filters=replace(filters, external=True)).data
    assert data["n"] in (0, 5)  # one person: published as 0 or 5, never 1
    assert data["yearly_public_cost"] is None and data["claimable"] is None
    assert build_report("socioeconomic", filters=replace(filters, external=False)).data["yearly_public_cost"]["before"]


def test_a_year_before_the_first_parameter_year_is_priced_with_the_first_never_the_latest(world):
    CostParameter.objects.create(year=2029, kommun="", income_source=None, yearly_cost_sek=200_000, source="test")
    table = se.CostTable()
    first = min(table.years)
    assert table.year_used(first - 3) == first  # before the first: the nearest, the first
    assert table.year_used(2030) == max(table.years)  # after the last: the latest earlier
    assert table.cost(year=first - 3, kommun="", source="forsorjningsstod") == 162_000
    assert table.cost(year=2030, kommun="", source="forsorjningsstod") == 200_000


def test_studiemedel_is_priced_as_its_grant_part_with_its_source():
    studiemedel = CostParameter.objects.filter(income_source__code="studiemedel")
    assert studiemedel.exists()
    for parameter in studiemedel:
        assert (parameter.yearly_cost_sek, parameter.public_share) == (131_560, Decimal("0.30"))
        assert "CSN" in parameter.source and "lånet betalas tillbaka" in parameter.source
    assert se.CostTable().cost(year=2025, kommun="", source="studiemedel") == pytest.approx(39_468)


def test_scenarios_are_named_by_the_size_of_their_figure_when_costs_rise(world):
    """Leaving försörjningsstöd for sjukpenning at a higher cost: the public cost rises, and the
    scenario labelled lowest still gives the lowest figure."""
    CostParameter.objects.create(
        year=2026, kommun="", income_source=IncomeSource.objects.get(code="sjukpenning_rehab"),
        yearly_cost_sek=300_000, source="test",
    )  # fmt: skip
    _ended(world, "forsorjningsstod", "1", "sjukpenning_rehab", "1")
    claims = _report(world)["claimable"]
    assert claims["central"]["years_5"] < 0
    assert claims["low"]["years_5"] <= claims["central"]["years_5"] <= claims["high"]["years_5"]
    table = build_report("socioeconomic", filters=_filters(world)).tables
    labels = [row[0] for t in table for row in t.rows if row and row[0] in ("Lägst", "Huvudalternativ", "Högst")]
    assert labels == ["Lägst", "Huvudalternativ", "Högst"]
