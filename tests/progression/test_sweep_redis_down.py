"""A reading submitted while the broker is unreachable is stored and acknowledged; the sweep
(progression.tasks.progression_sweep, every few minutes) scores it later (progression/hooks.py).

Real commits (transaction=True) so the after-commit hook runs as in production, and a real Celery
publish (real_celery) against a Redis address where nothing listens."""

import logging
from datetime import UTC, datetime

import pytest

from config.celery import app as celery_app
from progression import scoring
from progression.models import DimensionScore, InsatsSummary, Progression, SessionScoring
from surveys.models import AssessmentSession, SessionStatus
from surveys.sessions import session_correct
from tests.progression.helpers import enrol, submit, world_create
from tests.surveys.factories import shipped_version, valid_answers

UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"  # port 1: connection refused at once


@pytest.fixture
def broker_down(monkeypatch):
    """Point the Celery app at a closed port, with fresh connection pools so nothing cached is reused."""
    monkeypatch.setitem(celery_app.conf, "broker_url", UNREACHABLE_BROKER)
    monkeypatch.setitem(celery_app.conf, "broker_write_url", UNREACHABLE_BROKER)
    monkeypatch.setattr(celery_app, "_pool", None)
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)
    connection = celery_app.connection_for_write()
    assert (connection.hostname, connection.port) == ("127.0.0.1", 1)


@pytest.mark.real_celery
@pytest.mark.django_db(transaction=True)
def test_a_reading_submitted_while_redis_is_down_is_kept_and_the_sweep_scores_it(broker_down, caplog):
    version = shipped_version()
    world = world_create(insatser=1)
    enrolment = enrol(world, world.insatser[0])
    values = [(3, datetime(2026, 2, 2, 9, tzinfo=UTC)), (8, datetime(2026, 5, 4, 9, tzinfo=UTC))]

    sessions = []
    with caplog.at_level(logging.WARNING, logger="progression.hooks"):
        for value, occurred_at in values:
            answers = valid_answers(version, "self")
            answers.update({code: value for code in answers if code != "aktivitet_timmar"})
            sessions.append(submit(world, enrolment, version, "self", answers, occurred_at))

    # Stored and acknowledged, the failure logged, nothing scored yet.
    assert [s.status for s in AssessmentSession.objects.filter(pk__in=[s.pk for s in sessions])] == [
        SessionStatus.SUBMITTED
    ] * 2
    assert sum("svepet tar den senare" in record.getMessage() for record in caplog.records) == 2
    assert not DimensionScore.objects.exists()
    assert not Progression.objects.exists()
    assert set(scoring.unprocessed_sessions().values_list("pk", flat=True)) == {s.pk for s in sessions}

    assert scoring.progression_sweep() == 2

    assert not scoring.unprocessed_sessions().exists()
    assert set(SessionScoring.objects.values_list("session_id", "algorithm_version")) == {
        (s.pk, scoring.ALGORITHM_VERSION) for s in sessions
    }
    assert DimensionScore.objects.filter(session__in=sessions).count() == 2 * 6  # six rating dimensions
    progression = Progression.objects.get(enrolment=enrolment, dimension_code="halsa", perspective="self")
    assert (progression.n_readings, progression.first_score, progression.latest_score) == (2, 200 / 9, 700 / 9)
    assert progression.first_session_id == sessions[0].pk and progression.latest_session_id == sessions[1].pk
    summary = InsatsSummary.objects.get(insats=enrolment.insats, dimension_code="halsa", perspective="self")
    assert (summary.year, summary.n, summary.sum_change) == (2026, 1, pytest.approx(500 / 9, abs=1e-9))
    assert scoring.progression_sweep() == 0  # nothing left to do


@pytest.mark.real_celery
@pytest.mark.django_db(transaction=True)
def test_the_sweep_leaves_drafts_alone_and_scores_a_corrected_reading_and_its_correction(broker_down):
    """A draft is not a reading yet; a superseded one is scored too (as a rebuild scores it) but only
    its correction counts in the progression."""
    version = shipped_version()
    world = world_create(insatser=1)
    enrolment = enrol(world, world.insatser[0])
    occurred_at = datetime(2026, 3, 3, 9, tzinfo=UTC)
    draft = submit(world, enrolment, version, "self", {}, occurred_at, draft=True)
    original = submit(world, enrolment, version, "self", valid_answers(version, "self"), occurred_at)
    answers = valid_answers(version, "self")
    answers.update({code: 10 for code in answers if code != "aktivitet_timmar"})
    correction = session_correct(session=original, answers=answers, corrected_by=world.mentor)

    assert set(scoring.unprocessed_sessions().values_list("pk", flat=True)) == {original.pk, correction.pk}
    assert scoring.progression_sweep() == 2
    assert not DimensionScore.objects.filter(session=draft).exists()
    assert DimensionScore.objects.filter(session=original).count() == 6
    progression = Progression.objects.get(enrolment=enrolment, dimension_code="halsa", perspective="self")
    assert (progression.n_readings, progression.latest_session_id, progression.latest_score) == (
        1,
        correction.pk,
        100.0,
    )
    assert not InsatsSummary.objects.exists()  # one reading is no change yet
