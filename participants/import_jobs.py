"""Imports as background jobs, with their progress on a page of their own, like the exports. The
uploaded file is kept encrypted (uploads.py) and checked by a task (a dry run); once the user has
seen the check and confirms, the same job runs again and imports, all rows or none (importing.py).
The job's page shows what the check or the import found; the job and its file go a day after the
upload, or when the user cancels."""

import logging
from dataclasses import asdict
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, ngettext

from config.jobs import JobStatus, job_publish, jobs_sweep
from config.numbers import swedish_number
from participants import access
from participants.importing import ImportFileError, ImportResult, import_enrolments
from participants.models import Forbund, ImportJob
from participants.uploads import (
    UPLOAD_LIFETIME,
    upload_delete,
    upload_exists,
    upload_read,
    upload_store,
    upload_touch,
)

logger = logging.getLogger(__name__)
# A job still "running" this long after it started has lost its worker: the task's hard time limit
# is 30 minutes, and a job a killed worker held is not started again (it might have committed).
GIVE_UP_RUNNING_AFTER = timedelta(minutes=40)
MAX_SHOWN_ERRORS = 1000  # row errors kept on the job; the page says how many there were in all
FILE_NOT_THERE = gettext_noop(
    "Filen finns inte längre på servern: den raderas efter ett dygn, och när en person i den får sina uppgifter "
    "raderade. Ladda upp den igen."
)
PROGRESS_KEY = "import-job-progress:{}"  # the import runs in one transaction: its progress goes by the cache


class ImportJobError(ValueError):
    """The job cannot do what was asked (confirm, cancel) in the state it is in; the message says why."""


def import_job_create(*, user: User, forbund: Forbund, content: bytes, file_name: str) -> ImportJob:
    """Keep the file and queue its check; the task starts when the transaction commits."""
    access.require(
        access.forbund_for_import(user).filter(pk=forbund.pk).exists(), f"Du kan inte importera till {forbund.name}."
    )
    token = upload_store(forbund=forbund, content=content)
    job = ImportJob.objects.create(user=user, forbund=forbund, file_name=file_name[:200], upload_token=token)
    transaction.on_commit(lambda: import_job_publish(job.pk))
    return job


def import_job_publish(job_id: int) -> bool:
    """Put the job on the long queue (config.jobs.job_publish); False when the broker does not answer."""
    from participants.tasks import run_import

    return job_publish(ImportJob, run_import, job_id)


def import_job_confirm(*, job: ImportJob) -> None:
    """Import the file the job checked without errors: the job is queued again, now for real."""
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if not locked.dry_run:
            raise ImportJobError(gettext("Filen är redan importerad eller importeras just nu."))
        if locked.status != JobStatus.DONE:
            raise ImportJobError(gettext("Filen är inte granskad än. Vänta tills granskningen är klar."))
        if (locked.result or {}).get("error_count"):
            raise ImportJobError(
                gettext("Granskningen hittade fel, så filen kan inte importeras. Rätta filen och ladda upp den igen.")
            )
        if not upload_exists(forbund=locked.forbund, token=locked.upload_token):
            raise ImportJobError(gettext(FILE_NOT_THERE))
        upload_touch(forbund=locked.forbund, token=locked.upload_token)  # kept a day from now, until imported
        ImportJob.objects.filter(pk=job.pk).update(
            dry_run=False, status=JobStatus.QUEUED, progress=0, error="", published_at=None, started_at=None
        )
        transaction.on_commit(lambda: import_job_publish(job.pk))


def import_job_cancel(*, job: ImportJob) -> None:
    """Delete a job that has imported nothing, and its file. Refused while its check runs (it cannot be
    stopped half way), and once the import is confirmed: from then on it is done, or will be, and a
    page left open in another tab must not undo it."""
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if not locked.dry_run:
            raise ImportJobError(gettext("Importen är bekräftad och kan inte avbrytas."))
        if locked.status == JobStatus.RUNNING:
            raise ImportJobError(
                gettext("Filen granskas just nu och kan inte avbrytas. Vänta tills granskningen är klar.")
            )
        upload_delete(forbund=locked.forbund, token=locked.upload_token)
        locked.delete()


def result_dict(result: ImportResult) -> dict:
    """What the job keeps of a check or an import: its counts, and its first MAX_SHOWN_ERRORS row errors."""
    kept = asdict(result)
    kept["error_count"] = len(result.errors)
    kept["errors"] = kept["errors"][:MAX_SHOWN_ERRORS]
    return kept


def _fail(job: ImportJob, message: str) -> None:
    upload_delete(forbund=job.forbund, token=job.upload_token)
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, error=message[:2000])


def import_job_run(*, job_id: int) -> None:
    """Check or import the job's file. A job is run once: a second delivery of it (the sweep's, or
    after a worker was lost mid-import) finds it no longer queued and leaves it."""
    claimed = ImportJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, progress=1, started_at=timezone.now()
    )
    if not claimed:
        return
    job = ImportJob.objects.select_related("user", "forbund").get(pk=job_id)
    logger.info("Import %s (%s): %s startar", job.pk, job.forbund.code, "granskningen" if job.dry_run else "importen")
    content = upload_read(forbund=job.forbund, token=job.upload_token)
    if content is None:
        _fail(job, gettext(FILE_NOT_THERE))
        return
    key = PROGRESS_KEY.format(job.pk)
    try:
        result = import_enrolments(
            content=content,
            forbund=job.forbund,
            by=job.user,
            dry_run=job.dry_run,
            progress=lambda percent: cache.set(key, percent, timeout=3600),
            file_still_waiting=lambda: upload_exists(forbund=job.forbund, token=job.upload_token),
        )
        if result.errors or not job.dry_run:  # nothing more to import from it
            upload_delete(forbund=job.forbund, token=job.upload_token)
        with transaction.atomic():  # a result the database refuses fails the job, below
            ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.DONE, progress=100, result=result_dict(result))
    except (ImportFileError, PermissionDenied) as exc:  # the file, or the user's access: the page says which
        _fail(job, str(exc))
        return
    except Exception:  # whatever it was, the job does not stay "running": its page says what to do
        _fail(job, gettext("Ett oväntat fel stoppade den, och ingenting sparades. Ladda upp filen igen."))
        raise
    finally:
        cache.delete(key)
    logger.info("Import %s: klar, %d rader, %d fel", job.pk, result.rows, len(result.errors))


def import_job_progress(job: ImportJob) -> int:
    """How far the job has come, in percent."""
    if job.status == JobStatus.RUNNING:
        return max(job.progress, cache.get(PROGRESS_KEY.format(job.pk)) or 0)
    return job.progress


def import_job_state_text(job: ImportJob) -> str:
    """What the job's page says of its state, in the user's language (the page and its polling)."""
    if job.status == JobStatus.FAILED:
        if job.dry_run:
            return gettext("Granskningen kunde inte göras: %(error)s") % {"error": job.error}
        return gettext("Importen kunde inte göras: %(error)s") % {"error": job.error}
    if job.status == JobStatus.DONE:
        result = job.result or {}
        rows = result.get("rows", 0)
        if result.get("error_count"):
            return ngettext(
                "%(errors)s fel i %(rows)s rad – inget har importerats.",
                "%(errors)s fel i %(rows)s rader – inget har importerats.",
                rows,
            ) % {"errors": swedish_number(result["error_count"]), "rows": swedish_number(rows)}
        if job.dry_run:
            return ngettext(
                "Filen är granskad: %(rows)s rad utan fel.", "Filen är granskad: %(rows)s rader utan fel.", rows
            ) % {"rows": swedish_number(rows)}
        return gettext("Importen är klar.")
    if job.status == JobStatus.QUEUED and job.published_at is None:
        return gettext("Kön svarar inte just nu. Filen är sparad och jobbet startar av sig självt när kön är tillbaka.")
    if job.status == JobStatus.QUEUED:
        return gettext("I kö …")
    doing = gettext("Granskar filen") if job.dry_run else gettext("Importerar")
    return f"{doing} … {import_job_progress(job)} %"


def import_job_summary(job: ImportJob) -> str:
    """The job in a few words, for the list of the user's imports: what it found or what it waits for."""
    if job.status == JobStatus.FAILED:
        return gettext("Granskningen misslyckades") if job.dry_run else gettext("Importen misslyckades")
    if job.status == JobStatus.DONE:
        errors = (job.result or {}).get("error_count", 0)
        if errors:
            return ngettext("%(errors)s fel", "%(errors)s fel", errors) % {"errors": swedish_number(errors)}
        return gettext("Granskad utan fel – väntar på Importera") if job.dry_run else gettext("Importerad")
    return import_job_state_text(job)


def import_jobs_republish(*, now: datetime | None = None) -> int:
    """Periodically (config.jobs.jobs_sweep): publish again the queued jobs the broker never took, and
    mark failed a job left running by a worker that is gone. Returns how many were published."""
    now = now or timezone.now()
    return jobs_sweep(
        ImportJob,
        import_job_publish,
        now=now,
        started_field="started_at",
        give_up_after=GIVE_UP_RUNNING_AFTER,
        gave_up_message=gettext(
            "arbetaren som gjorde den slutade svara. Se efter i insatsernas listor om raderna finns och ladda "
            "annars upp filen igen (en ny import av samma fil ändrar inget som redan finns)."
        ),
        # a check while its upload is kept; a confirmed import until it is done (import_jobs_expire)
        still_wanted=Q(created_at__gt=now - UPLOAD_LIFETIME) | Q(dry_run=False),
    )


def import_jobs_expire(*, now: datetime | None = None) -> int:
    """Delete the jobs (and their files) uploaded more than UPLOAD_LIFETIME ago, but for those running
    or confirmed and waiting for a worker; returns how many."""
    expired = (
        ImportJob.objects.select_related("forbund")
        .filter(created_at__lt=(now or timezone.now()) - UPLOAD_LIFETIME)
        .exclude(status=JobStatus.RUNNING)
        .exclude(dry_run=False, status=JobStatus.QUEUED)  # confirmed: the sweep sees it through
    )
    jobs = list(expired)
    for job in jobs:
        upload_delete(forbund=job.forbund, token=job.upload_token)
    ImportJob.objects.filter(pk__in=[job.pk for job in jobs]).delete()
    return len(jobs)
