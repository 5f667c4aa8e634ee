"""The incremental path (a task per submitted reading, run eagerly here) and a full rebuild store the
same rows: scores, progression and insats summaries (progression/scoring.py, progression/rebuild.py).

The readings are submitted one at a time, each committed callback run, the way a mentor's
submissions arrive. Before each rebuild the derived rows are deleted (the reference statistics are
kept, as a rebuild without --recompute-reference keeps them), so a rebuild that did nothing fails.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from django.db import transaction
from django.test import TestCase

from config.celery import app as celery_app
from participants.models import Enrolment
from progression import scoring
from progression.models import (
    Classification,
    DimensionScore,
    InsatsSummary,
    NormSet,
    Progression,
    RebuildJob,
    RebuildPhase,
    SessionScoring,
)
from progression.rebuild import progression_rebuild_inline, rebuild_start
from surveys.models import AssessmentSession, InstrumentVersion, SessionStatus
from surveys.sessions import session_correct
from tests.progression.helpers import (
    World,
    enrol,
    item_infos,
    norms_now,
    prov_version,
    rating_answers,
    snapshot,
    snapshot_differences,
    submit,
    world_create,
)
from tests.surveys.factories import progression_consent, shipped_version, valid_answers

pytestmark = pytest.mark.django_db

SEED = 4711


@dataclass
class Incremental:
    keep: World  # förbund whose policy keeps withdrawn readings for anonymous statistics
    delete: World  # förbund whose policy deletes them
    shipped: InstrumentVersion
    prov: InstrumentVersion
    enrolments: list[Enrolment]
    snapshot: dict[str, list[tuple]]


def submit_processed(world: World, *args: Any, **kwargs: Any) -> AssessmentSession:
    """Submit a reading and run what its commit enqueues (the eager process_session task)."""
    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        session = submit(world, *args, **kwargs)
    assert len(callbacks) == 1
    return session


def _build() -> Incremental:
    rng = np.random.default_rng(SEED)
    shipped, prov = shipped_version(), prov_version()
    infos = {shipped.pk: item_infos(shipped), prov.pk: item_infos(prov)}
    keep, delete = world_create(insatser=2), world_create(insatser=1, policy="delete")
    places = [(keep, keep.insatser[0])] * 3 + [(keep, keep.insatser[1])] * 2 + [(delete, delete.insatser[0])] * 2
    enrolments = [(world, enrol(world, insats)) for world, insats in places]
    keys = [(shipped, "self"), (shipped, "mentor"), (prov, "self")]
    start = datetime(2025, 10, 1, 9, tzinfo=UTC)

    def reading(world, enrolment, version, perspective, occurred_at, level) -> None:  # noqa: ANN001
        effects = {info.dimension: 0.0 for info in infos[version.pk]}
        answers = valid_answers(version, perspective)
        answers.update(rating_answers(rng, infos[version.pk], perspective, level, effects))
        submit_processed(world, enrolment, version, perspective, answers, occurred_at)

    # Baseline readings first; then the norms are computed, deliberately, as an operator would.
    abilities = rng.normal(0, 1, size=len(enrolments))
    for (world, enrolment), ability in zip(enrolments, abilities, strict=True):
        for version, perspective in keys:
            reading(world, enrolment, version, perspective, start, ability)
    norms_now()
    # Later readings, one at a time, interleaved across enrolments; some occurred before the
    # baseline and so become the first reading when they arrive.
    growths = rng.normal(0, 1.5, size=len(enrolments))
    planned = [
        (index, version, perspective, days)
        for index in range(len(enrolments))
        for version, perspective in keys
        for days in rng.choice([-20, 40, 90, 150, 300], size=2, replace=False)
    ]
    for position in rng.permutation(len(planned)):
        index, version, perspective, days = planned[position]
        world, enrolment = enrolments[index]
        level = abilities[index] + growths[index] * max(days, 0) / 100
        reading(world, enrolment, version, perspective, start + timedelta(days=int(days)), level)
    # The nightly completion gives keys that had no usable norm one (a rebuild completes them too).
    scoring.norms_complete_and_reclassify()
    return Incremental(
        keep=keep,
        delete=delete,
        shipped=shipped,
        prov=prov,
        enrolments=[enrolment for _, enrolment in enrolments],
        snapshot=snapshot(),
    )


@pytest.fixture(scope="module")
def incremental(django_db_setup, django_db_blocker):
    """Readings submitted one at a time through the incremental path, once for this module; each
    test's changes are rolled back to this state."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True  # as tests/conftest.py does per test, for the set-up too
    try:
        with django_db_blocker.unblock(), transaction.atomic():
            built = _build()
            celery_app.conf.task_always_eager = eager
            yield built
            transaction.set_rollback(True)
    finally:
        celery_app.conf.task_always_eager = eager


def clear_derived() -> None:
    """Delete every derived row but the norms."""
    for model in (InsatsSummary, Progression, DimensionScore, SessionScoring):
        model.objects.all().delete()


def rebuild(**kwargs: Any) -> dict[str, list[tuple]]:
    clear_derived()
    progression_rebuild_inline(report=lambda message: None, **kwargs)
    return snapshot()


def test_the_incremental_path_processed_every_reading_into_a_meaningful_state(incremental):
    rows = incremental.snapshot
    assert not scoring.unprocessed_sessions().exists()
    assert len(rows["DimensionScore"]) == DimensionScore.objects.count() > 0
    assert {row[14] for row in rows["Progression"]} >= {
        Classification.IMPROVED,
        Classification.UNCHANGED,
        Classification.WORSE,
    }
    assert any(row[13] is not None for row in rows["Progression"])  # an RCI, from the norms
    assert len({row[1] for row in rows["InsatsSummary"]}) == 2  # two reporting years
    # The first, at the first reading; the deliberate one; perhaps a completion.
    assert NormSet.objects.count() >= 2


def test_a_rebuild_stores_exactly_what_the_incremental_path_stored(incremental):
    assert snapshot_differences(incremental.snapshot, rebuild()) == []


@pytest.mark.parametrize("chunk_size", [1, 3])
def test_a_rebuild_in_small_chunks_stores_the_same_rows(incremental, chunk_size):
    assert snapshot_differences(incremental.snapshot, rebuild(chunk_size=chunk_size)) == []


def test_a_rebuild_on_the_workers_runs_every_phase_and_stores_the_same_rows(incremental):
    clear_derived()
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = rebuild_start(chunk_size=4)

    job.refresh_from_db()
    assert job.phase == RebuildPhase.DONE
    assert job.finished_at is not None
    assert job.chunks_done == job.chunks_total == 1  # the summaries phase: one chunk
    assert snapshot_differences(incremental.snapshot, snapshot()) == []
    assert RebuildJob.objects.count() == 1


def test_a_correction_moves_the_progression_and_a_rebuild_agrees(incremental):
    enrolment = incremental.enrolments[0]
    latest = (
        AssessmentSession.objects.filter(
            enrolment=enrolment, version=incremental.shipped, perspective="self", status=SessionStatus.SUBMITTED
        )
        .order_by("occurred_at", "id")
        .last()
    )
    answers = valid_answers(incremental.shipped, "self")
    answers.update({code: 10 for code in answers if code != "aktivitet_timmar"})
    with TestCase.captureOnCommitCallbacks(execute=True):
        correction = session_correct(session=latest, answers=answers, corrected_by=incremental.keep.mentor)

    progression = Progression.objects.get(
        enrolment=enrolment, instrument=incremental.shipped.instrument, dimension_code="halsa", perspective="self"
    )
    assert (progression.latest_session_id, progression.latest_score) == (correction.pk, 100.0)
    assert AssessmentSession.objects.get(pk=latest.pk).status == SessionStatus.SUPERSEDED
    after_correction = snapshot()
    assert after_correction != incremental.snapshot
    assert snapshot_differences(after_correction, rebuild()) == []


def test_withdrawn_consent_kept_for_statistics_and_a_rebuild_agree(incremental):
    enrolment = incremental.enrolments[1]
    with TestCase.captureOnCommitCallbacks(execute=True):
        progression_consent(enrolment.participant, by=incremental.keep.mentor, granted=False)
    scoring.norms_complete_and_reclassify()  # the nightly job: a key's baselines changed

    assert AssessmentSession.objects.filter(enrolment=enrolment, consent_withdrawn=True).exists()
    assert snapshot_differences(snapshot(), rebuild()) == []


def test_withdrawn_consent_with_deletion_and_a_rebuild_agree(incremental):
    enrolment = incremental.enrolments[-1]
    with TestCase.captureOnCommitCallbacks(execute=True):
        progression_consent(enrolment.participant, by=incremental.delete.mentor, granted=False)
    scoring.norms_complete_and_reclassify()  # the nightly job: a key's baselines changed

    assert not AssessmentSession.objects.filter(enrolment=enrolment).exists()
    assert snapshot_differences(snapshot(), rebuild()) == []
