"""What the background jobs with a page of their own share (exports in progression.reports.jobs,
imports in participants.import_jobs): putting a job on the queue without failing the request when
the broker is down, and the sweep that publishes again what the broker never took and gives up a
job whose worker is gone. The job models have status, error, published_at and a start time."""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from celery import Task
from django.db import models
from django.db.models import Model, Q
from django.utils import timezone
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


class JobStatus(models.TextChoices):
    """Where a background job is: the exports' (progression.models.ExportJob) and the imports'."""

    QUEUED = "queued", "I kö"
    RUNNING = "running", "Pågår"
    DONE = "done", "Klar"
    FAILED = "failed", "Misslyckades"


# A job the broker never took is published again by the sweep; one it took but no worker has started
# after this long (Redis keeps nothing on disk: a restart loses the queue) too.
REPUBLISH_AFTER = timedelta(minutes=30)


def job_publish(model: type[Model], task: Task, job_id: int) -> bool:
    """Put the job on its queue and note when; False when the broker does not answer. The job is
    stored either way, so the request that made it answers normally, and jobs_sweep publishes it when
    the broker is back."""
    try:
        task.delay(job_id)
    except OperationalError:
        logger.warning("Kunde inte köa %s %s; svepet köar det sedan", model.__name__, job_id, exc_info=True)
        return False
    model._default_manager.filter(pk=job_id, status=JobStatus.QUEUED).update(published_at=timezone.now())
    return True


def jobs_sweep(
    model: type[Model],
    publish: Callable[[int], bool],
    *,
    now: datetime,
    started_field: str,
    give_up_after: timedelta,
    gave_up_message: str,
    still_wanted: Q,
) -> int:
    """Mark failed the jobs running longer than give_up_after (their worker is gone), and publish
    again the queued ones (still_wanted) the broker never took or took more than REPUBLISH_AFTER
    ago. Returns how many were published."""
    jobs = model._default_manager
    jobs.filter(status=JobStatus.RUNNING, **{f"{started_field}__lt": now - give_up_after}).update(
        status=JobStatus.FAILED, error=gave_up_message
    )
    stuck = jobs.filter(still_wanted, status=JobStatus.QUEUED).filter(
        Q(published_at__isnull=True) | Q(published_at__lt=now - REPUBLISH_AFTER)
    )
    return sum(publish(pk) for pk in stuck.order_by("pk").values_list("pk", flat=True))
