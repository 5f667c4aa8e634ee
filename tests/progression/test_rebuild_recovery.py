"""A rebuild on the workers survives what a killed worker leaves behind (progression/rebuild.py):
a chunk delivered twice counts once, a phase whose chunks were lost or never published is resumed
by rebuild_resume_stalled, and a new rebuild supersedes an unfinished one, whose late chunks then
do nothing. Celery runs eagerly here; tests/reliability/test_real_faults.py kills real workers."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import TestCase
from django.utils import timezone

from progression import derived_tables, rebuild
from progression.models import Progression, RebuildChunk, RebuildJob, RebuildPhase
from tests.progression.helpers import enrol, snapshot, snapshot_differences, submit, world_create
from tests.surveys.factories import shipped_version, valid_answers

pytestmark = pytest.mark.django_db

LONG_AGO = timezone.now() - timedelta(hours=1)
PHASE_TABLES = {
    RebuildPhase.SCORES: derived_tables.SCORES_TABLE,
    RebuildPhase.PROGRESSION: derived_tables.PROGRESSION_TABLE,
}


@pytest.fixture
def readings():
    """Nine enrolments with two readings each, processed by an inline rebuild: the expected tables."""
    world = world_create(insatser=2)
    version = shipped_version()
    for index in range(9):
        enrolment = enrol(world, world.insatser[index % 2])
        for days in (0, 90):
            answers = valid_answers(version, "self")
            submit(world, enrolment, version, "self", answers, datetime(2025, 3, 1, tzinfo=UTC) + timedelta(days=days))
    rebuild.progression_rebuild_inline(new_norms_reason="Test", report=lambda message: None)
    return snapshot()


def _job_in(phase: str, *, published: bool, chunk_size: int = 2) -> RebuildJob:
    """A job left in a phase as a killed worker leaves it: no progress for an hour."""
    job = RebuildJob.objects.create(chunk_size=chunk_size, phase=phase, progressed_at=LONG_AGO)
    if published:
        derived_tables.next_create(PHASE_TABLES[phase])
        low, high = rebuild._phase_bounds(phase)
        job.phase_low, job.phase_high, job.phase_published = low, high, True
        job.chunks_total = len(rebuild._ranges(low, high, chunk_size))
        job.save()
    return job


def test_a_chunk_delivered_twice_is_counted_once():
    job = RebuildJob.objects.create(chunk_size=10, chunks_total=2, phase=RebuildPhase.SCORES, phase_published=True)

    rebuild.chunk_done(job.pk, RebuildPhase.SCORES, 1)
    rebuild.chunk_done(job.pk, RebuildPhase.SCORES, 1)

    job.refresh_from_db()
    assert (job.phase, job.chunks_done) == (RebuildPhase.SCORES, 1)
    assert RebuildChunk.objects.filter(job=job).count() == 1


def test_a_progression_phase_that_lost_chunks_is_resumed_with_the_missing_ones(readings):
    Progression.objects.all().delete()
    job = _job_in(RebuildPhase.PROGRESSION, published=True)
    ranges = rebuild._ranges(job.phase_low, job.phase_high, job.chunk_size)
    first_low, first_high = ranges[0]
    rebuild.chunk_run(job.pk, RebuildPhase.PROGRESSION, first_low, first_high)  # one chunk made it
    RebuildJob.objects.filter(pk=job.pk).update(progressed_at=LONG_AGO)

    assert rebuild.rebuild_resume_stalled() == 1

    job.refresh_from_db()
    assert job.phase == RebuildPhase.DONE
    assert RebuildChunk.objects.filter(job=job, phase=RebuildPhase.PROGRESSION).count() == len(ranges) > 1
    assert snapshot_differences(readings, snapshot()) == []


def test_a_phase_that_was_never_published_is_started(readings):
    Progression.objects.all().delete()  # the reference phase completed; its process died before publishing
    job = _job_in(RebuildPhase.PROGRESSION, published=False)

    assert rebuild.rebuild_resume_stalled() == 1

    assert RebuildJob.objects.get(pk=job.pk).phase == RebuildPhase.DONE
    assert snapshot_differences(readings, snapshot()) == []


def test_a_job_that_makes_progress_is_left_alone(readings):
    job = _job_in(RebuildPhase.PROGRESSION, published=True)
    RebuildJob.objects.filter(pk=job.pk).update(progressed_at=timezone.now())

    assert rebuild.rebuild_resume_stalled() == 0
    assert RebuildJob.objects.get(pk=job.pk).phase == RebuildPhase.PROGRESSION


def test_a_new_rebuild_supersedes_an_unfinished_one_whose_late_chunks_do_nothing(readings):
    old = _job_in(RebuildPhase.PROGRESSION, published=True)

    with TestCase.captureOnCommitCallbacks(execute=True):
        new = rebuild.rebuild_start(chunk_size=3)

    assert RebuildJob.objects.get(pk=new.pk).phase == RebuildPhase.DONE
    old.refresh_from_db()
    assert old.phase == RebuildPhase.SUPERSEDED
    rows = Progression.objects.count()
    low, high = rebuild._ranges(old.phase_low, old.phase_high, old.chunk_size)[0]
    Progression.objects.filter(enrolment_id__gte=low, enrolment_id__lte=high).delete()
    rebuild.chunk_run(old.pk, RebuildPhase.PROGRESSION, low, high)  # delivered again an hour later
    assert Progression.objects.count() < rows, "the superseded job's chunk did not run"
    assert rebuild.rebuild_resume_stalled() == 0


def test_an_inline_rebuild_whose_process_is_gone_is_marked_failed_not_resumed_on_the_workers(readings):
    gone = _job_in(RebuildPhase.PROGRESSION, published=True)
    RebuildJob.objects.filter(pk=gone.pk).update(inline=True)

    assert rebuild.rebuild_resume_stalled() == 0

    gone.refresh_from_db()
    assert gone.phase == RebuildPhase.FAILED and "slutade svara" in gone.error
    assert not RebuildChunk.objects.filter(job=gone).exists()
    rebuild.progression_rebuild_inline(report=lambda message: None)  # the next rebuild starts afresh
    assert snapshot_differences(readings, snapshot()) == []
