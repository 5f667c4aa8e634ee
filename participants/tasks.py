import logging

from celery import shared_task
from django.core.management import call_command

from participants.import_jobs import import_job_run, import_jobs_expire, import_jobs_republish
from participants.services import identity_retention_erase
from participants.uploads import uploads_expire

logger = logging.getLogger(__name__)


@shared_task(time_limit=600, soft_time_limit=540)
def clear_expired_sessions() -> None:
    """Nightly: remove expired login sessions from the database."""
    call_command("clearsessions")


@shared_task(time_limit=1800, soft_time_limit=1700, acks_late=True)
def erase_expired_identities() -> int:
    """Nightly: erase identity data past its retention period; the list is logged before erasing."""
    due = identity_retention_erase(dry_run=True)
    logger.info("Gallring av identitetsuppgifter: %d deltagare: %s", len(due), ", ".join(due))
    return len(identity_retention_erase())


@shared_task(time_limit=600, soft_time_limit=540)
def expire_uploads() -> int:
    """Hourly: delete import jobs and files whose check was never imported (older than 24 hours)."""
    return import_jobs_expire() + uploads_expire()


@shared_task(time_limit=1800, soft_time_limit=1700)
def run_import(job_id: int) -> None:
    """Check or import an uploaded file (participants.import_jobs), with its progress."""
    import_job_run(job_id=job_id)


@shared_task(time_limit=120, soft_time_limit=100)
def republish_imports() -> int:
    """Every two minutes: queue again the imports the broker never took (it was down)."""
    return import_jobs_republish()
