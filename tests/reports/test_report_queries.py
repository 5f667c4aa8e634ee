"""What the reports cost in queries, and that stegförflyttning read from the insats summaries gives
the same report as the progression rows it summarises (progression/reports/definitions.py).

A report's number of queries does not grow with the data or with the lines of its tables; the
figures themselves are checked in test_report_figures.py and test_suppression.py."""

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from factory import Transformer

from participants.models import Role
from participants.services import enrolment_close
from progression import scoring
from progression.models import Classification, InsatsSummary, Progression
from progression.reports.base import Context
from progression.reports.definitions import (
    PROGRESSION_SUMS,
    progression_sums_from_rows,
    progression_sums_from_summaries,
)
from progression.reports.filters import parse_filter
from progression.reports.registry import build_report
from tests.factories import exit_reason, operator, user_with_role
from tests.progression.helpers import enrol as enrol_consenting
from tests.progression.helpers import item_infos, norms_now, rating_answers, submit, world_create
from tests.reports.conftest import JUNE
from tests.reports.helpers import PERIOD, build, progression_row, query
from tests.surveys.factories import shipped_version, valid_answers

pytestmark = pytest.mark.django_db

D = date


def context(user, *, external: bool = False, **params) -> Context:  # noqa: ANN001
    filters = parse_filter(user=user, params=query(**(PERIOD | params)), default_year=2025)
    return Context(filters=filters, external=external)


@pytest.fixture
def summarised(figures):
    """Progression rows around 2025 in sco and svo, written directly, and the insats summaries
    computed from them by progression.scoring. Two dimensions, both perspectives, two insatser."""
    e = figures.e
    version = shipped_version("stegvis-progression")
    improved, unchanged, worse = Classification.IMPROVED, Classification.UNCHANGED, Classification.WORSE
    rows = [
        # enrolment, dimension, perspective, first, latest, classification, mid, latest_on
        (e.e1, "halsa", "self", 40.25, 61.5, improved, True, JUNE),
        (e.e1, "halsa", "mentor", 50.0, 38.75, worse, False, JUNE),
        (e.e1, "vardag", "self", 33.3, 45.1, unchanged, True, JUNE),
        (e.e2, "halsa", "self", 50.5, 55.25, unchanged, False, D(2025, 2, 3)),
        (e.e2, "halsa", "mentor", 45.0, 66.6, improved, True, D(2025, 11, 1)),
        (e.e3, "halsa", "self", 30.1, 70.7, improved, True, D(2025, 12, 31)),
        (e.e3, "vardag", "self", 62.5, 58.3, unchanged, False, D(2025, 12, 31)),
        (e.e12, "halsa", "self", 60.0, 50.0, unchanged, False, D(2025, 1, 1)),
        (e.e15, "halsa", "self", 20.0, 51.7, improved, True, JUNE),
        (e.e15, "vardag", "self", 41.6, 41.6, Classification.INSUFFICIENT, None, JUNE),
        (e.e7b, "halsa", "self", 35.5, 52.25, improved, True, D(2025, 10, 20)),
        (e.e9, "halsa", "mentor", 48.0, 44.4, unchanged, False, D(2025, 9, 9)),
        (e.e13, "vardag", "self", 55.0, 75.0, improved, True, D(2025, 4, 30)),
        # a felregistrering: in the summary, never in a report
        (e.e6, "halsa", "self", 10.0, 90.0, improved, True, D(2025, 4, 2)),
        (e.e6, "vardag", "mentor", 10.0, 90.0, improved, True, D(2025, 4, 2)),
        # latest reading in another year
        (e.e14, "halsa", "self", 40.0, 80.0, improved, True, D(2024, 12, 31)),
        (e.e10, "halsa", "self", 44.0, 47.0, unchanged, False, D(2024, 6, 1)),
        (e.e17, "halsa", "self", 10.0, 90.0, improved, True, D(2026, 1, 1)),
        # another förbund
        (e.es, "halsa", "self", 12.0, 88.0, improved, True, JUNE),
    ]
    for enrolment, dimension, perspective, first, latest, classification, mid, latest_on in rows:
        progression_row(
            enrolment,
            version,
            dimension=dimension,
            perspective=perspective,
            first=first,
            latest=latest,
            latest_on=latest_on,
            classification=classification,
            mid=mid,
        )
    # one reading only: in neither
    progression_row(
        e.e16,
        version,
        perspective="self",
        first=50,
        latest=50,
        latest_on=JUNE,
        classification=Classification.INSUFFICIENT,
        mid=None,
        n_readings=1,
    )
    w = figures.world
    scoring.insats_summaries_update(insats_ids=[w.jonsbo.pk, w.backaberg.pk, w.natursteget.pk])
    return figures


def report_from_rows(user, name: str = "progression", **params):  # noqa: ANN001, ANN201
    """The report with the summaries out of the way, so that the progression rows decide."""
    saved = list(InsatsSummary.objects.all())
    InsatsSummary.objects.all().delete()
    try:
        return build(user, name, **params)
    finally:
        InsatsSummary.objects.bulk_create(saved)


def as_text(report) -> str:  # noqa: ANN001
    """The report's JSON and tables as text, so that 5 and Decimal("5") or 5.0 differ as in the API."""
    return json.dumps([report.as_json(), [table.rows for table in report.tables]], sort_keys=True, default=repr)


# --- Queries per report ----------------------------------------------------------------------------


def test_the_filters_are_read_in_one_query(figures, django_assert_max_num_queries):
    params = query(forbund="sco", insats=["jonsbo", "backaberg"], period="helar", ar="2025")
    with django_assert_max_num_queries(1):
        filters = parse_filter(user=figures.world.coordinator_sco, params=params, default_year=2025)

    assert [i.code for i in filters.insatser] == ["backaberg", "jonsbo"]


@pytest.mark.parametrize(
    ("name", "params", "queries"),
    [
        ("participant-flow", {}, 1),
        ("participant-flow", {"kon": "kvinna", "aldersgrupp": "25-34"}, 1),
        ("income-sources", {}, 2),  # the income sources, then one grouped count
        ("income-sources", {"per_kon": "1"}, 2),
        # the felregistrering reasons, a planner setting, the summaries minus the felregistreringar's
        # rows; and a savepoint and its release, because the test runs in a transaction
        # and the attrition line and the norm version (2 more)
        ("progression", {}, 7),
        ("progression", {"kon": "kvinna"}, 3),  # the rows
        ("progression", {"from": "2025-01-01", "to": "2025-08-31"}, 3),  # not a calendar year: the rows
    ],
)
def test_queries_per_report(summarised, django_assert_max_num_queries, name, params, queries):
    filters = parse_filter(user=summarised.world.coordinator_sco, params=query(**(PERIOD | params)), default_year=2025)

    with django_assert_max_num_queries(queries):
        report = build_report(name, filters=replace(filters, external=True))

    assert report.tables[0].rows  # figures, not an empty table


def test_participant_flow_is_one_query_however_many_insatser(summarised, django_assert_max_num_queries):
    user = summarised.world.coordinator_sco
    for insatser in (["jonsbo"], ["jonsbo", "backaberg"]):
        filters = parse_filter(user=user, params=query(**PERIOD, insats=insatser), default_year=2025)
        with django_assert_max_num_queries(1):
            build_report("participant-flow", filters=filters)


def test_progression_without_summaries_reads_the_rows(summarised, django_assert_max_num_queries):
    InsatsSummary.objects.all().delete()
    filters = parse_filter(user=summarised.world.coordinator_sco, params=query(**PERIOD), default_year=2025)

    with django_assert_max_num_queries(8):  # the 5 of the summary path, then the rows, attrition and norms
        report = build_report("progression", filters=filters)

    halsa_self = [d for d in report.data["dimensions"] if (d["dimension"], d["perspective"]) == ("halsa", "self")]
    assert halsa_self[0]["n"] == 6  # e1 e2 e3 e12 e15 in Jonsbo, e7b in Backaberg; not felregistrering e6


# --- The summaries and the rows give the same report -------------------------------------------------


def test_summaries_hold_the_felregistrering_the_report_leaves_out(summarised):
    jonsbo = summarised.world.jonsbo
    summary = InsatsSummary.objects.get(insats=jonsbo, year=2025, dimension_code="halsa", perspective="self")
    assert summary.n == 6  # e1 e2 e3 e12 e15 and felregistrering e6
    ctx = context(summarised.world.coordinator_sco, insats="jonsbo")

    from_summaries = progression_sums_from_summaries(ctx)

    assert from_summaries is not None  # a calendar year without kön or age: the summaries answer
    assert from_summaries[("stegvis-progression", "halsa", "self")]["n"] == 5
    assert ("stegvis-progression", "vardag", "mentor") not in from_summaries  # only e6 had it


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"insats": "jonsbo"},
        {"insats": "backaberg"},
        {"period": "helar", "ar": "2024"},
        {"period": "helar", "ar": "2026"},
        {"period": "helar", "ar": "2023"},  # nothing at all
        {"forbund": "svo"},
    ],
)
@pytest.mark.parametrize("external", [False, True])
def test_summaries_and_rows_give_the_same_progression_report(summarised, params, external):
    user = summarised.world.coordinator_sco if params.get("forbund") != "svo" else _svo_coordinator(summarised)
    ctx = context(user, external=external, **params)
    from_summaries = progression_sums_from_summaries(ctx)
    from_rows = progression_sums_from_rows(ctx)

    if params.get("ar") != "2023":
        assert from_summaries is not None
        assert list(from_summaries) == list(from_rows)  # the same lines in the same order
        for key, summed in from_summaries.items():
            sums = {name: summed[name] for name in PROGRESSION_SUMS}
            assert sums == pytest.approx({name: from_rows[key][name] for name in PROGRESSION_SUMS}, rel=1e-12)
    report = build(user, "progression", external=external, **params)
    assert as_text(report) == as_text(report_from_rows(user, external=external, **params))


def _svo_coordinator(summarised):  # noqa: ANN001, ANN202
    return user_with_role(
        Role.COORDINATOR, forbund=summarised.world.svo, password=Transformer.Force(make_password(None))
    )


def test_summaries_that_miss_a_felregistrering_are_not_used(summarised):
    """A summary behind its rows (here: without the felregistrering's line) is not trusted."""
    InsatsSummary.objects.filter(dimension_code="vardag", perspective="mentor").delete()
    ctx = context(summarised.world.coordinator_sco)

    assert progression_sums_from_summaries(ctx) is None
    assert as_text(build(summarised.world.coordinator_sco, "progression")) == as_text(
        report_from_rows(summarised.world.coordinator_sco)
    )


def test_summaries_written_by_the_incremental_path_give_the_rows_report():
    """Readings submitted and processed as in production (progression.scoring.session_process keeps
    the summaries), one enrolment closed as a felregistrering afterwards: for every year with a
    latest reading, the report from the summaries equals the report from the rows."""
    rng = np.random.default_rng(2025)
    version = shipped_version("stegvis-progression")
    infos = item_infos(version)
    effects = {info.dimension: 0.0 for info in infos}
    world = world_create(insatser=2)
    coordinator = user_with_role(
        Role.COORDINATOR, forbund=world.forbund, password=Transformer.Force(make_password(None))
    )
    enrolments = [enrol_consenting(world, world.insatser[index % 2]) for index in range(7)]
    start = datetime.combine(enrolments[0].start_date, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)

    def reading(enrolment, perspective: str, days: int, level: float) -> None:  # noqa: ANN001
        answers = valid_answers(version, perspective)
        answers.update(rating_answers(rng, infos, perspective, level, effects))
        session = submit(world, enrolment, version, perspective, answers, start + timedelta(days=days))
        scoring.session_process(session_id=session.pk)

    abilities = rng.normal(0, 1, size=len(enrolments))
    for enrolment, ability in zip(enrolments, abilities, strict=True):
        for perspective in ("self", "mentor"):
            reading(enrolment, perspective, 0, ability)
    norms_now()  # the norms, deliberately, once the baselines are in
    growths = rng.normal(0.5, 1.5, size=len(enrolments))
    for index, enrolment in enumerate(enrolments[:-1]):  # the last one keeps its single reading
        for days in (30 + 20 * index, 200 + 25 * index):
            for perspective in ("self", "mentor"):
                reading(enrolment, perspective, days, abilities[index] + growths[index] * days / 100)
    enrolment_close(
        by=operator(),
        enrolment=enrolments[0],
        end_date=timezone.localdate(),
        exit_reason=exit_reason("felregistrering"),
        income_after=None,
        income_after_extent=None,
    )

    years = sorted({d.year for d in Progression.objects.filter(n_readings__gte=2).values_list("latest_on", flat=True)})
    assert years
    felregistrering_year = Progression.objects.filter(enrolment=enrolments[0]).values_list("latest_on", flat=True)[0]
    for year in years:
        params = {"forbund": world.forbund.code, "period": "helar", "ar": str(year)}
        ctx = context(coordinator, **params)
        from_summaries = progression_sums_from_summaries(ctx)
        assert from_summaries is not None
        assert list(from_summaries) == list(progression_sums_from_rows(ctx))
        if year == felregistrering_year.year:
            summarised_n = sum(s.n for s in InsatsSummary.objects.filter(year=year))
            assert sum(line["n"] for line in from_summaries.values()) < summarised_n
        for external in (False, True):
            report = build(coordinator, "progression", external=external, **params)
            assert report.data["dimensions"]
            assert as_text(report) == as_text(report_from_rows(coordinator, external=external, **params))
