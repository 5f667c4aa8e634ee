"""Full rebuild of scores, progression and summaries, in chunks.

The scores and the progression rows are written beside the live tables and swapped in when their
phase is complete (progression.derived_tables): readers see the old rows until then, and what the
incremental path processes meanwhile is derived again into the new table before the swap.

Inline (embedded default, tests, small data) or on Celery workers (large data): the chunks of a
phase run as one Celery group; each chunk records itself done (once, in RebuildChunk) and counts on
the RebuildJob row, and the chunk that completes a phase starts the next one. No result backend is
needed. Every chunk is idempotent: a chunk whose pool process was killed is redelivered (acks_late)
and recomputed; a phase whose whole worker was killed is resumed by the periodic
rebuild_resume_stalled, which publishes exactly its missing chunks; a new rebuild supersedes an
unfinished one."""

from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from participants.models import Enrolment, Insats
from progression import derived_tables, norms, scoring
from progression.models import (
    ACTIVE_REBUILD_PHASES,
    InsatsSummary,
    NormSet,
    RebuildChunk,
    RebuildJob,
    RebuildPhase,
)
from surveys.models import AssessmentSession

DEFAULT_CHUNK_SIZE = 2000


def _ranges(low: int | None, high: int | None, size: int) -> list[tuple[int, int]]:
    if low is None or high is None:
        return []
    return [(start, min(start + size - 1, high)) for start in range(low, high + 1, size)]


def session_ranges(chunk_size: int) -> list[tuple[int, int]]:
    return _ranges(*_phase_bounds(RebuildPhase.SCORES), chunk_size)


def enrolment_ranges(chunk_size: int) -> list[tuple[int, int]]:
    return _ranges(*_phase_bounds(RebuildPhase.PROGRESSION), chunk_size)


def score_chunk(first_id: int, last_id: int) -> int:
    """Score the readings whose ids fall in the range."""
    return scoring.sessions_score_range(first_session_id=first_id, last_session_id=last_id)


def progression_chunk(first_id: int, last_id: int) -> int:
    return scoring.progressions_update(first_enrolment_id=first_id, last_enrolment_id=last_id)


def scores_swap() -> None:
    """The scores written beside swapped in (and analysed there), the scoring marks analysed."""
    derived_tables.next_swap(derived_tables.SCORES_TABLE, scoring.scores_catch_up)
    norms.tables_analyze(("progression_sessionscoring",))


def progression_swap() -> None:
    """The progression rows written beside swapped in (and analysed there)."""
    derived_tables.next_swap(derived_tables.PROGRESSION_TABLE, scoring.progressions_catch_up)


def summaries_all() -> int:
    insats_ids = list(Insats.objects.order_by("id").values_list("id", flat=True))
    InsatsSummary.objects.exclude(insats_id__in=insats_ids).delete()
    return scoring.insats_summaries_update(insats_ids=insats_ids)


def norms_phase(*, new_norms_reason: str, new_norms_by: AbstractBaseUser | None) -> str:
    """Between scores and progression: a new norm set when a reason is given (the explicit act),
    else the set in force completed with norms for keys that have none usable. The progression
    phase then classifies every row with it."""
    if new_norms_reason:
        norm_set = norms.norm_set_create(by=new_norms_by, reason=new_norms_reason)
        return f"Nya normer: version {norm_set.version} ({norm_set.norms.count()} normer)"
    completed, keys = norms.norms_complete()
    if completed is None:
        return f"Normer: version {norms.current_norm_set().version} gäller"
    return f"Normer: version {completed.version} ({len(keys)} kompletterade)"


def progression_rebuild_inline(
    *,
    new_norms_reason: str = "",
    new_norms_by: AbstractBaseUser | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    report: Callable[[str], None] = print,
) -> None:
    """The whole rebuild in this process, chunk by chunk, reporting progress."""
    norms.tables_analyze(scoring.SOURCE_TABLES)
    derived_tables.next_create(derived_tables.SCORES_TABLE)
    ranges = session_ranges(chunk_size)
    for number, (low, high) in enumerate(ranges, 1):
        score_chunk(low, high)
        report(f"Poäng: {number}/{len(ranges)}")
    scores_swap()
    report(norms_phase(new_norms_reason=new_norms_reason, new_norms_by=new_norms_by))
    derived_tables.next_create(derived_tables.PROGRESSION_TABLE)
    ranges = enrolment_ranges(chunk_size)
    for number, (low, high) in enumerate(ranges, 1):
        progression_chunk(low, high)
        report(f"Stegförflyttning: {number}/{len(ranges)}")
    progression_swap()
    report(f"Sammanställningar: {summaries_all()}")
    norms.tables_analyze(("progression_insatssummary",))


def rebuild_run(
    *,
    new_norms_reason: str = "",
    new_norms_by: AbstractBaseUser | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    workers: bool = True,
    report: Callable[[str], None] = print,
) -> RebuildJob | None:
    """A rebuild where it can run: on the workers (the job, to follow), or inline when tasks run
    eagerly (the embedded default) or workers=False (then None: it is done)."""
    from config.celery import app as celery_app

    if not workers or celery_app.conf.task_always_eager:
        progression_rebuild_inline(
            new_norms_reason=new_norms_reason, new_norms_by=new_norms_by, chunk_size=chunk_size, report=report
        )
        return None
    return rebuild_start(new_norms_reason=new_norms_reason, new_norms_by=new_norms_by, chunk_size=chunk_size)


# --- On the workers ------------------------------------------------------------------------------

STALLED_AFTER = timedelta(minutes=10)  # a phase with no chunk done for this long is resumed


def rebuild_start(
    *, new_norms_reason: str = "", new_norms_by: AbstractBaseUser | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> RebuildJob:
    """Create a rebuild job and put its first phase on the long-job queue. An unfinished earlier
    job is superseded: its chunks still in the queue, or delivered again later, do nothing."""
    RebuildJob.objects.filter(phase__in=ACTIVE_REBUILD_PHASES).update(
        phase=RebuildPhase.SUPERSEDED, finished_at=timezone.now()
    )
    job = RebuildJob.objects.create(
        new_norms_reason=new_norms_reason,
        new_norms_by=new_norms_by,
        chunk_size=chunk_size,
        progressed_at=timezone.now(),
    )
    transaction.on_commit(lambda: _start_phase(job.pk, RebuildPhase.SCORES))
    return job


def _phase_chunks(phase: str, low: int | None, high: int | None, chunk_size: int) -> list[tuple[int, int]]:
    """A phase's chunks over its id bounds; the reference and summaries phases are one chunk (0, 0)."""
    return _ranges(low, high, 1 if phase in (RebuildPhase.REFERENCE, RebuildPhase.SUMMARIES) else chunk_size)


def _phase_bounds(phase: str) -> tuple[int | None, int | None]:
    """The id range a phase's chunks cover: readings for the scores, enrolments for progression;
    the reference and summaries phases are one chunk."""
    if phase == RebuildPhase.SCORES:
        bounds = AssessmentSession.objects.filter(status__in=scoring.SCORED_STATUSES).aggregate(
            low=Min("id"), high=Max("id")
        )
        return bounds["low"], bounds["high"]
    if phase == RebuildPhase.PROGRESSION:
        bounds = Enrolment.objects.aggregate(low=Min("id"), high=Max("id"))
        return bounds["low"], bounds["high"]
    return 0, 0


def _start_phase(job_id: int, phase: str) -> None:
    """Finish the previous phase (swap in the table it wrote), prepare this one (start the table it
    writes), record its chunks' bounds and publish them. Run again by rebuild_resume_stalled if this
    process dies before publishing, so each step may find itself done already."""
    job = RebuildJob.objects.get(pk=job_id)
    if job.phase != phase:
        return  # superseded meanwhile
    if phase == RebuildPhase.SCORES:
        norms.tables_analyze(scoring.SOURCE_TABLES)
        derived_tables.next_create(derived_tables.SCORES_TABLE)
    elif phase == RebuildPhase.REFERENCE:
        scores_swap()
    elif phase == RebuildPhase.PROGRESSION:
        derived_tables.next_create(derived_tables.PROGRESSION_TABLE)
    elif phase == RebuildPhase.SUMMARIES:
        progression_swap()
    low, high = _phase_bounds(phase)
    chunks = _phase_chunks(phase, low, high, job.chunk_size)
    RebuildJob.objects.filter(pk=job_id, phase=phase).update(
        chunks_total=len(chunks),
        chunks_done=0,
        phase_low=low,
        phase_high=high,
        phase_published=True,
        progressed_at=timezone.now(),
    )
    if not chunks:
        chunk_done(job_id, phase, 0)
        return
    _publish(job_id, phase, chunks)


def _publish(job_id: int, phase: str, chunks: list[tuple[int, int]]) -> None:
    from celery import group

    from progression import tasks

    group(tasks.rebuild_chunk.s(job_id, phase, low, high) for low, high in chunks).apply_async(queue="long")


NEXT_PHASE = {
    RebuildPhase.SCORES: RebuildPhase.REFERENCE,
    RebuildPhase.REFERENCE: RebuildPhase.PROGRESSION,
    RebuildPhase.PROGRESSION: RebuildPhase.SUMMARIES,
    RebuildPhase.SUMMARIES: RebuildPhase.DONE,
}


def chunk_run(job_id: int, phase: str, low: int, high: int) -> None:
    """Run one chunk of a phase, then record it done; idempotent, so a redelivered chunk is harmless.
    The job's phase is read under the rebuild lock, so that no swap or new rebuild comes between
    that look and the chunk's writes."""
    with transaction.atomic():
        derived_tables.rebuild_lock()
        job = RebuildJob.objects.get(pk=job_id)
        if job.phase != phase:
            return  # a redelivered chunk of a phase that is complete, or of a superseded job
        if phase == RebuildPhase.SCORES:
            score_chunk(low, high)
        elif phase == RebuildPhase.REFERENCE:
            made_already = NormSet.objects.filter(reason=job.new_norms_reason, created_at__gte=job.started_at).exists()
            if not (job.new_norms_reason and made_already):  # a redelivered chunk makes no second set
                norms_phase(new_norms_reason=job.new_norms_reason, new_norms_by=job.new_norms_by)
        elif phase == RebuildPhase.PROGRESSION:
            progression_chunk(low, high)
        elif phase == RebuildPhase.SUMMARIES:
            summaries_all()
    chunk_done(job_id, phase, low)


def chunk_done(job_id: int, phase: str, low: int) -> None:
    """Record a chunk done (once, however often it was delivered); the chunk that completes its
    phase moves the job on and starts the next phase."""
    with transaction.atomic():
        job = RebuildJob.objects.select_for_update().get(pk=job_id)
        if job.phase != phase:
            return
        _, created = RebuildChunk.objects.get_or_create(job_id=job_id, phase=phase, first_id=low)
        if not created:
            return
        job.chunks_done += 1
        job.progressed_at = timezone.now()
        if job.chunks_done < job.chunks_total:
            job.save(update_fields=["chunks_done", "progressed_at"])
            return
        following = NEXT_PHASE[phase]
        if following == RebuildPhase.DONE:
            norms.tables_analyze(("progression_insatssummary",))
            job.phase, job.finished_at = RebuildPhase.DONE, timezone.now()
            job.save(update_fields=["chunks_done", "progressed_at", "phase", "finished_at"])
            return
        # Claim the transition so that a duplicate completion cannot start it twice; should this
        # process die before the next phase is published, rebuild_resume_stalled starts it.
        job.phase, job.phase_published = following, False
        job.save(update_fields=["chunks_done", "progressed_at", "phase", "phase_published"])
    _start_phase(job_id, following)


def rebuild_resume_stalled(*, stalled_after: timedelta = STALLED_AFTER) -> int:
    """Periodically: a rebuild phase with no progress for a while (its worker was killed, or the
    process that completed the previous phase died before publishing this one) is continued: an
    unpublished phase is started, a published one gets exactly its missing chunks again. Returns
    how many jobs were resumed."""
    resumed = 0
    stalled = RebuildJob.objects.filter(
        phase__in=ACTIVE_REBUILD_PHASES, progressed_at__lt=timezone.now() - stalled_after
    )
    for job in stalled:
        RebuildJob.objects.filter(pk=job.pk).update(progressed_at=timezone.now())
        resumed += 1
        if not job.phase_published:
            _start_phase(job.pk, job.phase)
            continue
        done = set(RebuildChunk.objects.filter(job=job, phase=job.phase).values_list("first_id", flat=True))
        chunks = _phase_chunks(job.phase, job.phase_low, job.phase_high, job.chunk_size)
        missing = [chunk for chunk in chunks if chunk[0] not in done]
        _publish(job.pk, job.phase, missing)
    return resumed
