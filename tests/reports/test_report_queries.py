"""What the reports cost in queries (progression/reports/definitions.py).

A report's number of queries does not grow with the data or with the lines of its tables; the
figures themselves are checked in test_report_figures.py and test_suppression.py."""

from dataclasses import replace
from datetime import date

import pytest
from django.db import connection

from participants.models import Enrolment, Participant
from progression import scoring
from progression.models import Classification, InsatsSummary
from progression.reports.filters import parse_filter
from progression.reports.registry import build_report
from tests.reports.conftest import JUNE
from tests.reports.helpers import PERIOD, progression_row, query
from tests.surveys.factories import shipped_version

pytestmark = pytest.mark.django_db

D = date


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
    # The same protected figures on every run: a small count that noise sometimes turns into 0 makes
    # an empty report, whose sentence names the selection (one query more).
    Participant.objects.update(record_key=1234567)
    Enrolment.objects.update(record_key=7654321)
    return figures


# --- Queries per report ----------------------------------------------------------------------------


def test_the_filters_are_read_in_one_query(figures, django_assert_max_num_queries):
    params = query(forbund="sco", insats=["jonsbo", "backaberg"], period="helar", ar="2025")
    with django_assert_max_num_queries(1):
        filters = parse_filter(user=figures.world.coordinator_sco, params=params, default_year=2025)

    assert [i.code for i in filters.insatser] == ["backaberg", "jonsbo"]


@pytest.mark.parametrize(
    ("name", "params", "queries"),
    [
        # every report first asks whether its period is closed (one query), then:
        ("participant-flow", {}, 2),
        ("participant-flow", {"kon": "kvinna", "aldersgrupp": "25-34"}, 2),
        ("income-sources", {}, 3),  # the income sources, then one grouped count
        ("income-sources", {"per_kon": "1"}, 3),
        # the stages of the ladders, the rows in one grouped query (in a transaction of its own that
        # turns JIT off: here a savepoint, the setting and its release), the attrition line, the norm
        # version, the areas' names
        ("progression", {}, 10),
        ("progression", {"kon": "kvinna"}, 10),
        ("progression", {"from": "2025-01-01", "to": "2025-08-31"}, 10),
    ],
)
def test_queries_per_report(summarised, django_assert_max_num_queries, name, params, queries):
    filters = parse_filter(user=summarised.world.coordinator_sco, params=query(**(PERIOD | params)), default_year=2025)

    with django_assert_max_num_queries(queries):
        report = build_report(name, filters=replace(filters, external=True))

    assert report.tables[0].rows  # figures, not an empty table


def test_participant_flow_is_one_query_whatever_the_insatser(summarised, django_assert_max_num_queries):
    user = summarised.world.coordinator_sco
    for insatser in (["jonsbo"], ["jonsbo", "backaberg"]):
        filters = parse_filter(user=user, params=query(**PERIOD, insats=insatser), default_year=2025)
        with django_assert_max_num_queries(2):
            build_report("participant-flow", filters=filters)


def test_progression_reads_the_rows_not_the_summaries(summarised, django_assert_max_num_queries):
    """The summaries cannot give distinct persons or a median: the report reads the rows."""
    InsatsSummary.objects.all().delete()
    filters = parse_filter(user=summarised.world.coordinator_sco, params=query(**PERIOD), default_year=2025)

    with django_assert_max_num_queries(10):
        report = build_report("progression", filters=filters)

    halsa_self = [d for d in report.data["dimensions"] if (d["dimension"], d["perspective"]) == ("halsa", "self")]
    assert halsa_self[0]["n"] == 6  # e1 e2 e3 e12 e15 in Jonsbo, e7b in Backaberg; not felregistrering e6


def test_the_figures_statement_runs_without_jit(summarised):
    """PostgreSQL's JIT compiled the statement's hundreds of CASE branches for 1–3.5 s at 200 000
    participants (docs/performance.md): the statement turns it off for its own transaction."""
    settings_seen = []

    def watch(execute, sql, params, many, context):
        if "WITH people AS" in sql:
            with context["connection"].connection.cursor() as cursor:
                cursor.execute("SELECT current_setting('jit')")
                settings_seen.append(cursor.fetchone()[0])
        return execute(sql, params, many, context)

    filters = parse_filter(user=summarised.world.coordinator_sco, params=query(**PERIOD), default_year=2025)
    with connection.execute_wrapper(watch):
        build_report("progression", filters=filters)

    assert settings_seen == ["off"]
