"""Celery tasks: thin wrappers over progression.scoring, progression.rebuild and progression.flow_counts."""

from celery import shared_task

from progression import flow_counts, rebuild, scoring


@shared_task(acks_late=True, max_retries=5, default_retry_delay=30, time_limit=300, soft_time_limit=240)
def process_session(session_id: int) -> None:
    """A reading was submitted: update its scores, progression and insats summaries."""
    scoring.session_process(session_id=session_id)


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700)
def progression_sweep() -> int:
    """Every few minutes: process readings the incremental path missed (e.g. Redis was down)."""
    return scoring.progression_sweep()


@shared_task(acks_late=True, time_limit=3600, soft_time_limit=3500)
def rebuild_chunk(job_id: int, phase: str, low: int, high: int) -> None:
    """One chunk of a full rebuild."""
    rebuild.chunk_run(job_id, phase, low, high)


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700)
def run_export(job_id: int) -> None:
    """Build a report export or PDF pack file."""
    from progression.reports.jobs import export_job_run

    export_job_run(job_id=job_id)


@shared_task(time_limit=120)
def republish_exports() -> int:
    """Every two minutes: put on the queue the exports the broker did not take (it was down)."""
    from progression.reports.jobs import export_jobs_republish

    return export_jobs_republish()


@shared_task(time_limit=600)
def expire_exports() -> int:
    """Nightly: remove export files past their keep time."""
    from progression.reports.jobs import export_jobs_expire

    return export_jobs_expire()


@shared_task(time_limit=300)
def flow_counts_compact() -> int:
    """Every ten minutes: the enrolment counts' appended rows summed into one row per key."""
    return flow_counts.flow_counts_compact()


@shared_task(acks_late=True, time_limit=300)
def rebuild_resume_stalled() -> int:
    """Every few minutes: continue a rebuild phase that has made no progress for a while."""
    return rebuild.rebuild_resume_stalled()


@shared_task(acks_late=True, time_limit=3600, soft_time_limit=3500)
def norms_complete() -> int:
    """Nightly: norms for keys that have none usable yet, and their rows reclassified."""
    return scoring.norms_complete_and_reclassify()


@shared_task(acks_late=True, time_limit=3600, soft_time_limit=3500)
def freeze_period(closure_id: int) -> None:
    from progression.reports.jobs import period_freeze_run

    period_freeze_run(closure_id=closure_id)
