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

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from participants.models import Enrolment, Insats
from progression import derived_tables, flow_counts, norms, scoring
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


def scores_swap(current: Callable[[], bool] = derived_tables.always) -> bool:
    """The scores written beside swapped in (and analysed there), the scoring marks analysed;
    False if the rebuild is no longer the current one."""
    if not derived_tables.next_swap(derived_tables.SCORES_TABLE, scoring.scores_catch_up, current=current):
        return False
    norms.tables_analyze(("progression_sessionscoring",))
    return True


def progression_swap(current: Callable[[], bool] = derived_tables.always) -> bool:
    """The progression rows written beside swapped in (and analysed there); False if the rebuild
    is no longer the current one."""
    return derived_tables.next_swap(derived_tables.PROGRESSION_TABLE, scoring.progressions_catch_up, current=current)


def summaries_all() -> int:
    insats_ids = list(Insats.objects.order_by("id").values_list("id", flat=True))
    InsatsSummary.objects.exclude(insats_id__in=insats_ids).delete()
    return scoring.insats_summaries_update(insats_ids=insats_ids)


def norms_phase(*, new_norms_reason: str, new_norms_by: User | None) -> str:
    """Between scores and progression: a new norm set when a reason is given (the explicit act),
    else the set in force completed with norms for keys that have none usable. The progression
    phase then classifies every row with it."""
    if new_norms_reason:
        norm_set = norms.norm_set_create(by=new_norms_by, reason=new_norms_reason)
        return f"Nya normer: version {norm_set.version} ({norm_set.norms.count()} normer)"
    completed, keys = norms.norms_complete()
    if completed is None:
        # norms_complete changed nothing, so a set is in force: this returns it.
        return f"Normer: version {norms.norm_set_for_progression().version} gäller"
    return f"Normer: version {completed.version} ({len(keys)} kompletterade)"


class PhaseOver(Exception):
    """The job has left this phase: the phase is complete, or a newer rebuild superseded the job
    (then the newer one owns the tables written beside the live ones)."""


PHASE_WORDS = {
    RebuildPhase.SCORES: "Poäng",
    RebuildPhase.REFERENCE: "Normer",
    RebuildPhase.PROGRESSION: "Stegförflyttning",
    RebuildPhase.SUMMARIES: "Sammanställningar",
}
SUPERSEDED_MESSAGE = "Omräkningen avbröts: en nyare omräkning har startat och gör klart arbetet."


def progression_rebuild_inline(
    *,
    new_norms_reason: str = "",
    new_norms_by: User | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    report: Callable[[str], None] = print,
) -> None:
    """The whole rebuild in this process, chunk by chunk, reporting progress. It is a RebuildJob
    like one on the workers (marked inline): starting it supersedes an unfinished rebuild, and a
    rebuild started meanwhile supersedes it, which then stops (PhaseOver) and leaves the tables to
    the newer one."""
    job = _job_create(new_norms_reason=new_norms_reason, new_norms_by=new_norms_by, chunk_size=chunk_size, inline=True)
    previous = None
    for phase in (RebuildPhase.SCORES, RebuildPhase.REFERENCE, RebuildPhase.PROGRESSION, RebuildPhase.SUMMARIES):
        if previous is not None and not RebuildJob.objects.filter(pk=job.pk, phase=previous).update(phase=phase):
            raise PhaseOver(SUPERSEDED_MESSAGE)
        chunks = _phase_prepare(job.pk, phase)
        if chunks is None:
            failed = RebuildJob.objects.filter(pk=job.pk, phase=RebuildPhase.FAILED).values_list("error", flat=True)
            raise PhaseOver(failed.first() or SUPERSEDED_MESSAGE)
        for number, (low, high) in enumerate(chunks, 1):
            outcome = _chunk_write(job.pk, phase, low, high)
            RebuildJob.objects.filter(pk=job.pk, phase=phase).update(chunks_done=number, progressed_at=timezone.now())
            if phase in (RebuildPhase.REFERENCE, RebuildPhase.SUMMARIES):
                report(outcome if isinstance(outcome, str) else f"{PHASE_WORDS[phase]}: {outcome}")
            else:
                report(f"{PHASE_WORDS[phase]}: {number}/{len(chunks)}")
        previous = phase
    norms.tables_analyze(("progression_insatssummary",))
    flow_counts.flow_counts_rebuild()
    RebuildJob.objects.filter(pk=job.pk, phase=RebuildPhase.SUMMARIES).update(
        phase=RebuildPhase.DONE, finished_at=timezone.now()
    )


def rebuild_run(
    *,
    new_norms_reason: str = "",
    new_norms_by: User | None = None,
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


def _job_create(*, new_norms_reason: str, new_norms_by: User | None, chunk_size: int, inline: bool) -> RebuildJob:
    """A new rebuild job; an unfinished earlier one (on the workers or inline) is superseded: its
    chunks, swaps and table creations still to come do nothing (each asks whether its job is still
    in its phase, under the rebuild lock)."""
    with transaction.atomic():
        derived_tables.rebuild_lock(exclusive=True)  # no chunk of the old job is between look and write
        RebuildJob.objects.filter(phase__in=ACTIVE_REBUILD_PHASES).update(
            phase=RebuildPhase.SUPERSEDED, finished_at=timezone.now()
        )
        return RebuildJob.objects.create(
            new_norms_reason=new_norms_reason,
            new_norms_by=new_norms_by,
            chunk_size=chunk_size,
            inline=inline,
            progressed_at=timezone.now(),
        )


def rebuild_start(
    *, new_norms_reason: str = "", new_norms_by: User | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> RebuildJob:
    """Create a rebuild job (superseding an unfinished one) and put its first phase on the
    long-job queue."""
    job = _job_create(new_norms_reason=new_norms_reason, new_norms_by=new_norms_by, chunk_size=chunk_size, inline=False)
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


def _in_phase(job_id: int, phase: str) -> Callable[[], bool]:
    """Whether the job is (still) in this phase: asked under the rebuild lock before every write to
    the tables a rebuild owns."""
    return lambda: RebuildJob.objects.filter(pk=job_id, phase=phase).exists()


def _phase_prepare(job_id: int, phase: str) -> list[tuple[int, int]] | None:
    """Finish the previous phase (swap in the table it wrote), prepare this one (start the table it
    writes) and record its chunks' bounds; its chunks, or None if the job has left the phase. Run
    again by rebuild_resume_stalled if the process dies before publishing, so each step may find
    itself done already."""
    job = RebuildJob.objects.get(pk=job_id)
    current = _in_phase(job_id, phase)
    if job.phase != phase:
        return None
    if phase == RebuildPhase.SCORES:
        norms.tables_analyze(scoring.SOURCE_TABLES)
        ready = derived_tables.next_create(derived_tables.SCORES_TABLE, current=current)
    elif phase == RebuildPhase.REFERENCE:
        ready = _swapped(job_id, scores_swap, current)
    elif phase == RebuildPhase.PROGRESSION:
        ready = derived_tables.next_create(derived_tables.PROGRESSION_TABLE, current=current)
    else:
        ready = _swapped(job_id, progression_swap, current)
    if not ready:
        return None
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
    return chunks


SCHEMA_CHANGED_MESSAGE = (
    "Omräkningen avbröts: databasens tabeller ändrades medan den pågick (en uppgradering). "
    "Det som redan var omräknat gäller; starta en ny omräkning."
)


def _swapped(job_id: int, swap: Callable[[Callable[[], bool]], bool], current: Callable[[], bool]) -> bool:
    """swap(current); if the table's columns changed during the rebuild (an upgrade's migration),
    what was written beside is dropped and the job fails with a message saying so."""
    try:
        return swap(current)
    except derived_tables.SchemaChangedDuringRebuild:
        RebuildJob.objects.filter(pk=job_id).update(
            phase=RebuildPhase.FAILED, finished_at=timezone.now(), error=SCHEMA_CHANGED_MESSAGE
        )
        return False


def _start_phase(job_id: int, phase: str) -> None:
    """Prepare the phase (_phase_prepare) and publish its chunks to the workers."""
    chunks = _phase_prepare(job_id, phase)
    if chunks is None:
        return  # superseded meanwhile
    if not chunks:
        chunk_done(job_id, phase, 0)
        return
    _publish(job_id, phase, chunks)


def _publish(job_id: int, phase: str, chunks: list[tuple[int, int]]) -> None:
    from celery import group

    from progression import tasks

    group(tasks.rebuild_chunk.s(job_id, phase, low, high) for low, high in chunks).apply_async(queue="long")


NEXT_PHASE: dict[str, RebuildPhase] = {
    RebuildPhase.SCORES: RebuildPhase.REFERENCE,
    RebuildPhase.REFERENCE: RebuildPhase.PROGRESSION,
    RebuildPhase.PROGRESSION: RebuildPhase.SUMMARIES,
    RebuildPhase.SUMMARIES: RebuildPhase.DONE,
}


def _chunk_write(job_id: int, phase: str, low: int, high: int) -> int | str:
    """One chunk's writes, in one transaction, and what they gave (rows written, or the norms
    phase's message). The job's phase is read under the rebuild lock, so that no swap or new
    rebuild comes between that look and the chunk's writes: PhaseOver if the job has left it."""
    with transaction.atomic():
        derived_tables.rebuild_lock()
        job = RebuildJob.objects.get(pk=job_id)
        if job.phase != phase:
            why: dict[str, str] = {RebuildPhase.SUPERSEDED: SUPERSEDED_MESSAGE, RebuildPhase.FAILED: job.error}
            raise PhaseOver(why.get(job.phase) or f"Delen hör till en fas som redan är klar ({phase}).")
        if phase == RebuildPhase.SCORES:
            return score_chunk(low, high)
        if phase == RebuildPhase.PROGRESSION:
            return progression_chunk(low, high)
        if phase == RebuildPhase.SUMMARIES:
            return summaries_all()
        made_already = NormSet.objects.filter(reason=job.new_norms_reason, created_at__gte=job.started_at).exists()
        if job.new_norms_reason and made_already:  # a redelivered chunk makes no second set
            return "Normer: redan gjorda"
        return norms_phase(new_norms_reason=job.new_norms_reason, new_norms_by=job.new_norms_by)


def chunk_run(job_id: int, phase: str, low: int, high: int) -> None:
    """Run one chunk of a phase on a worker, then record it done; idempotent, so a redelivered
    chunk is harmless, and a chunk of a phase that is complete or of a superseded job does nothing."""
    try:
        _chunk_write(job_id, phase, low, high)
    except PhaseOver:
        return
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
        else:
            # Claim the transition so that a duplicate completion cannot start it twice; should this
            # process die before the next phase is published, rebuild_resume_stalled starts it.
            job.phase, job.phase_published = following, False
            job.save(update_fields=["chunks_done", "progressed_at", "phase", "phase_published"])
    if following == RebuildPhase.DONE:
        # The enrolment counts last, in a short transaction of their own: their lock holds back
        # enrolment writes (progression/flow_counts.py), not for the whole summaries phase.
        flow_counts.flow_counts_rebuild()
    else:
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
    # An inline rebuild belongs to its process, which reports after every chunk: silent this long,
    # the process is gone (stopped with Ctrl+C, say). Nothing to resume; the page stops saying
    # "pågår", and the next rebuild starts afresh.
    stalled.filter(inline=True).update(
        phase=RebuildPhase.FAILED,
        finished_at=timezone.now(),
        error="Omräkningen i en egen process slutade svara; starta en ny omräkning.",
    )
    for job in stalled.filter(inline=False):
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
