"""Full rebuild of scores, progression and summaries, in chunks.

Inline (embedded default, tests, small data) or on Celery workers (large data): the chunks of a
phase run as one Celery group; each chunk counts itself done on the RebuildJob row, and the chunk
that completes a phase starts the next one. No result backend is needed, and a killed worker's
chunk is redelivered (acks_late) and simply recomputed: every chunk is idempotent."""

from collections.abc import Callable

from django.db import transaction
from django.db.models import F, Max, Min
from django.utils import timezone

from participants.models import Enrolment, Insats
from progression import scoring
from progression.models import InsatsSummary, Progression, RebuildJob, RebuildPhase
from surveys.models import AssessmentSession

DEFAULT_CHUNK_SIZE = 2000


def _ranges(low: int | None, high: int | None, size: int) -> list[tuple[int, int]]:
    if low is None or high is None:
        return []
    return [(start, min(start + size - 1, high)) for start in range(low, high + 1, size)]


def session_ranges(chunk_size: int) -> list[tuple[int, int]]:
    bounds = AssessmentSession.objects.filter(status__in=scoring.SCORED_STATUSES).aggregate(
        low=Min("id"), high=Max("id")
    )
    return _ranges(bounds["low"], bounds["high"], chunk_size)


def enrolment_ranges(chunk_size: int) -> list[tuple[int, int]]:
    bounds = Enrolment.objects.aggregate(low=Min("id"), high=Max("id"))
    return _ranges(bounds["low"], bounds["high"], chunk_size)


def score_chunk(first_id: int, last_id: int) -> int:
    """Score the readings whose ids fall in the range."""
    return scoring.sessions_score_range(first_session_id=first_id, last_session_id=last_id)


def progression_chunk(first_id: int, last_id: int) -> int:
    return scoring.progressions_update(first_enrolment_id=first_id, last_enrolment_id=last_id)


def summaries_all() -> int:
    insats_ids = list(Insats.objects.order_by("id").values_list("id", flat=True))
    InsatsSummary.objects.exclude(insats_id__in=insats_ids).delete()
    return scoring.insats_summaries_update(insats_ids=insats_ids)


def progression_rebuild_inline(
    *, recompute_reference: bool = False, chunk_size: int = DEFAULT_CHUNK_SIZE, report: Callable[[str], None] = print
) -> None:
    """The whole rebuild in this process, chunk by chunk, reporting progress."""
    scoring.tables_analyze(scoring.SOURCE_TABLES)
    ranges = session_ranges(chunk_size)
    for number, (low, high) in enumerate(ranges, 1):
        score_chunk(low, high)
        report(f"Poäng: {number}/{len(ranges)}")
    scoring.derived_tables_analyze()
    if recompute_reference or not scoring.ReferenceStatistic.objects.exists():
        count = scoring.reference_statistics_compute()
        report(f"Referensvärden: {count}")
    Progression.objects.all().delete()
    ranges = enrolment_ranges(chunk_size)
    for number, (low, high) in enumerate(ranges, 1):
        progression_chunk(low, high)
        report(f"Stegförflyttning: {number}/{len(ranges)}")
    scoring.derived_tables_analyze()
    report(f"Sammanställningar: {summaries_all()}")
    scoring.derived_tables_analyze()


# --- On the workers ------------------------------------------------------------------------------


def rebuild_start(*, recompute_reference: bool = False, chunk_size: int = DEFAULT_CHUNK_SIZE) -> RebuildJob:
    """Create a rebuild job and put its first phase on the long-job queue."""
    job = RebuildJob.objects.create(recompute_reference=recompute_reference, chunk_size=chunk_size)
    transaction.on_commit(lambda: _start_phase(job.pk, RebuildPhase.SCORES))
    return job


def _start_phase(job_id: int, phase: str) -> None:
    from progression import tasks

    job = RebuildJob.objects.get(pk=job_id)
    if phase == RebuildPhase.SCORES:
        scoring.tables_analyze(scoring.SOURCE_TABLES)
    else:
        scoring.derived_tables_analyze()  # the previous phase rewrote a table the next one reads
    if phase == RebuildPhase.SCORES:
        chunks = session_ranges(job.chunk_size)
    elif phase == RebuildPhase.PROGRESSION:
        Progression.objects.all().delete()
        chunks = enrolment_ranges(job.chunk_size)
    else:
        chunks = [(0, 0)]
    RebuildJob.objects.filter(pk=job_id).update(phase=phase, chunks_total=len(chunks), chunks_done=0)
    if not chunks:
        chunk_done(job_id, phase)
        return
    from celery import group

    group(tasks.rebuild_chunk.s(job_id, phase, low, high) for low, high in chunks).apply_async(queue="long")


NEXT_PHASE = {
    RebuildPhase.SCORES: RebuildPhase.REFERENCE,
    RebuildPhase.REFERENCE: RebuildPhase.PROGRESSION,
    RebuildPhase.PROGRESSION: RebuildPhase.SUMMARIES,
    RebuildPhase.SUMMARIES: RebuildPhase.DONE,
}


def chunk_run(job_id: int, phase: str, low: int, high: int) -> None:
    """Run one chunk of a phase, then count it; idempotent, so a redelivered chunk is harmless."""
    job = RebuildJob.objects.get(pk=job_id)
    if job.phase != phase:
        return  # a redelivered chunk of a phase that is already complete
    if phase == RebuildPhase.SCORES:
        score_chunk(low, high)
    elif phase == RebuildPhase.REFERENCE:
        if job.recompute_reference or not scoring.ReferenceStatistic.objects.exists():
            scoring.reference_statistics_compute()
    elif phase == RebuildPhase.PROGRESSION:
        progression_chunk(low, high)
    elif phase == RebuildPhase.SUMMARIES:
        summaries_all()
    chunk_done(job_id, phase)


def chunk_done(job_id: int, phase: str) -> None:
    with transaction.atomic():
        RebuildJob.objects.filter(pk=job_id, phase=phase).update(chunks_done=F("chunks_done") + 1)
        job = RebuildJob.objects.select_for_update().get(pk=job_id)
        complete = job.phase == phase and job.chunks_done >= job.chunks_total
        if not complete:
            return
        following = NEXT_PHASE[phase]
        if following == RebuildPhase.DONE:
            scoring.derived_tables_analyze()
            job.phase, job.finished_at = RebuildPhase.DONE, timezone.now()
            job.save(update_fields=["phase", "finished_at"])
            return
        job.phase = following  # claim the transition so a duplicate completion cannot start it twice
        job.save(update_fields=["phase"])
    _start_phase(job_id, following)
