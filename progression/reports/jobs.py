"""Export jobs: a report or the PDF pack made in the background with progress, kept for a while;
and freezing the reports of a period being closed (periods.py)."""

import os
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext

from config.jobs import job_publish, jobs_sweep
from config.replica import replica_read
from participants.models import AccessAction
from participants.services import access_event_log
from progression import analysis
from progression.models import ClosureStatus, ExportJob, ExportStatus, FrozenReport, PeriodClosure
from progression.reports import appendix, periods, rendering
from progression.reports.filters import FilterError, ReportFilter, parse_filter
from progression.reports.registry import (
    REPORTS,
    ascii_file_name,
    build_report,
    export_file_name,
    export_heading,
    export_kind_name,
    export_selection,
    report_compute,
)

KEEP_FILES_DAYS = 7
WORK_PREFIX = ".stegvis-run-"  # the folder a run writes its file in before moving it into place
# A job still "running" this long after it was asked for has lost its worker for good (the task's
# time limit is 30 minutes; a redelivery after a crash restarts it well within this).
GIVE_UP_RUNNING_AFTER = timedelta(hours=3)

PACK = "pdf-pack"
ANALYSIS = ("analysis-long", "analysis-wide")


def export_dir() -> Path:
    """Where finished exports wait for their download: readable by the server's user only."""
    path = Path(settings.MEDIA_ROOT) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def export_job_create(*, user: User, kind: str, file_format: str, params: dict[str, Any], external: bool) -> ExportJob:
    """Queue an export; the task starts when the transaction commits (export_job_publish)."""
    if kind != PACK and kind not in REPORTS and kind not in ANALYSIS:
        raise ValueError(f"Okänd rapport: {kind}")
    if file_format not in ("csv", "xlsx", "pdf"):
        raise ValueError(f"Okänt format: {file_format}")
    job = ExportJob.objects.create(
        user=user,
        kind=kind,
        file_format=file_format,
        params=params,
        external=external,
        expires_at=timezone.now() + timedelta(days=KEEP_FILES_DAYS),
    )
    transaction.on_commit(lambda: export_job_publish(job.pk))
    return job


def export_job_publish(job_id: int) -> bool:
    """Put the job on the long queue (config.jobs.job_publish); False when the broker does not answer."""
    from progression.tasks import run_export

    return job_publish(ExportJob, run_export, job_id)


def export_jobs_republish(*, now: Any = None) -> int:
    """Periodically (config.jobs.jobs_sweep): publish again the queued jobs the broker never took, and
    mark failed a job left "running" by a worker that is gone, so that its page stops saying it is
    under way. A job delivered twice makes the same file (export_job_run). Returns how many were
    published."""
    now = now or timezone.now()
    return jobs_sweep(
        ExportJob,
        export_job_publish,
        now=now,
        started_field="created_at",
        give_up_after=GIVE_UP_RUNNING_AFTER,
        gave_up_message=gettext("arbetaren som gjorde den slutade svara innan den blev klar. Gör en ny export."),
        still_wanted=Q(expires_at__gt=now),
    )


def export_job_state_text(job: ExportJob) -> str:
    """What the export page says of the job's state, in the user's language (the page and its polling)."""
    if job.status == ExportStatus.DONE:
        return gettext("Klar.")
    if job.status == ExportStatus.FAILED:
        return gettext("Exporten kunde inte göras: %(error)s") % {"error": job.error}
    if job.status == ExportStatus.QUEUED and job.published_at is None:
        return gettext("Kön svarar inte just nu. Exporten är sparad och startar av sig själv när kön är tillbaka.")
    return f"{job.get_status_display()} … {job.progress} %"


def _query(params: dict[str, Any]) -> QueryDict:
    query = QueryDict(mutable=True)
    for key, value in params.items():
        if isinstance(value, list):
            query.setlist(key, value)
        elif value:
            query[key] = value
    return query


def _progress(job: ExportJob, percent: int) -> None:
    ExportJob.objects.filter(pk=job.pk).update(progress=percent, status=ExportStatus.RUNNING)


def export_job_run(*, job_id: int) -> None:
    """Build the file; idempotent (a redelivered job rebuilds the same file). The file is written in
    a folder of this run's own and moved into place whole, so that two deliveries of one job running
    at once never leave a half-written file to download."""
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    if job.status == ExportStatus.DONE:
        return
    _progress(job, 5)
    work = Path(tempfile.mkdtemp(prefix=f"{WORK_PREFIX}{job.pk}-", dir=export_dir()))
    try:
        filters = parse_filter(
            user=job.user,
            params=_query(job.params),
            default_year=timezone.localdate().year,
            default_external=job.external,
        )
        stem = f"stegvis-{job.pk}-{slugify(ascii_file_name(export_file_name(job.kind, filters, '')))}"
        path = work / f"{stem}.{job.file_format}"
        if job.kind in ANALYSIS:
            path = replica_read(
                lambda: analysis.export_file(
                    filters=filters,
                    key=job.params["pseudonym_key"],
                    shape=job.kind.removeprefix("analysis-"),
                    file_format=job.file_format,
                    stem=work / stem,
                )
            )
        elif job.kind == PACK:
            pack = appendix.build_appendix(filters, progress=lambda percent: _progress(job, 5 + 85 * percent // 100))
            rendering.write_pdf(pack, path)
        else:
            report = build_report(job.kind, filters=filters)
            _progress(job, 50)
            if job.file_format == "xlsx":
                rendering.write_xlsx(report, path)
            elif job.file_format == "pdf":
                rendering.write_pdf(appendix.single_report(report), path)
            else:
                with path.open("w", encoding="utf-8", newline="") as handle:
                    for chunk in rendering.csv_text(report):
                        handle.write(chunk)
        path.chmod(0o600)  # person-level analysis files and unpublished figures: the server's user only
        os.replace(path, export_dir() / path.name)
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.DONE, progress=100, file_name=path.name)
    except analysis.NotAnonymous as exc:  # not a fault: the selection is too small to export safely
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.FAILED, error=str(exc))
    except Exception as exc:  # the job row tells the user what went wrong
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.FAILED, error=str(exc)[:2000])
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def export_job_download(*, job: ExportJob, user: User) -> Path:
    """The finished file; logged as an export access event in the förbund's log, with its filters."""
    filters = parse_filter(
        user=user, params=_query(job.params), default_year=timezone.localdate().year, default_external=job.external
    )
    access_event_log(
        user=user,
        participant=None,
        forbund=filters.forbund,
        action=AccessAction.EXPORT,
        reason=f"Rapportexport {job.kind}.{job.file_format} ({'extern' if job.external else 'intern'}): "
        f"{filters.describe()}",
    )
    return export_dir() / job.file_name


def _job_filters(job: ExportJob, user: User) -> ReportFilter | None:
    """The job's filters as the user may see them; None when they are no longer in the user's scope."""
    try:
        return parse_filter(
            user=user, params=_query(job.params), default_year=timezone.localdate().year, default_external=job.external
        )
    except FilterError:
        return None


def export_job_title(*, job: ExportJob, user: User) -> tuple[str, str]:
    """The export in Swedish for the export page and lists, never its kind's code: what it is
    ("Rapportbilaga (PDF)") and its selection ("Samordningsförbundet …, helår 2026")."""
    heading = export_heading(job.kind, Path(job.file_name).suffix.lstrip(".") or job.file_format)
    filters = _job_filters(job, user)
    return heading, "" if filters is None else export_selection(job.kind, filters)


def export_job_file_name(*, job: ExportJob, user: User) -> str:
    """The name the finished file is downloaded as (registry.export_file_name); on disk it keeps an
    ASCII name of its own."""
    filters = _job_filters(job, user)
    extension = Path(job.file_name).suffix.lstrip(".") or job.file_format
    if filters is None:
        return ascii_file_name(f"{export_kind_name(job.kind)}.{extension}")
    return export_file_name(job.kind, filters, extension)


def export_jobs_expire() -> int:
    """Delete files (and rows) of exports past their keep time, and any file in the export folder
    that no job owns once it is as old as the keep time (a job deleted by hand, a crash mid-write)."""
    expired = list(ExportJob.objects.filter(expires_at__lt=timezone.now()))
    for job in expired:
        if job.file_name:
            (export_dir() / job.file_name).unlink(missing_ok=True)
    ExportJob.objects.filter(pk__in=[j.pk for j in expired]).delete()
    owned = set(ExportJob.objects.exclude(file_name="").values_list("file_name", flat=True))
    oldest_kept = timezone.now().timestamp() - KEEP_FILES_DAYS * 24 * 3600
    for path in export_dir().iterdir():
        if path.is_file() and path.name not in owned and path.stat().st_mtime < oldest_kept:
            path.unlink(missing_ok=True)
        elif path.is_dir() and path.name.startswith(WORK_PREFIX) and path.stat().st_mtime < oldest_kept:
            shutil.rmtree(path, ignore_errors=True)  # a run's folder left by a worker that was killed
    return len(expired)


def period_freeze_run(*, closure_id: int) -> None:
    """Compute and store every frozen report of a period being closed (periods.py), with progress;
    idempotent (a redelivered task starts over). A failure leaves the period open with the error."""
    closure = PeriodClosure.objects.select_related("forbund").get(pk=closure_id)
    if closure.status != ClosureStatus.FREEZING:
        return
    try:
        variants = periods.frozen_variants(closure.forbund, list(REPORTS))
        FrozenReport.objects.filter(closure=closure).delete()
        for number, variant in enumerate(variants, 1):
            report = report_compute(variant.name, periods.variant_filters(closure, variant))
            FrozenReport.objects.create(
                closure=closure,
                name=variant.name,
                insats=variant.insats,
                external=variant.external,
                by_kon=variant.by_kon,
                content=periods.report_content(report),
            )
            PeriodClosure.objects.filter(pk=closure.pk).update(progress=99 * number // len(variants))
        PeriodClosure.objects.filter(pk=closure.pk).update(status=ClosureStatus.CLOSED, progress=100)
    except Exception as exc:  # the page tells the coordinator; the period stays open
        PeriodClosure.objects.filter(pk=closure.pk).update(status=ClosureStatus.FAILED, error=str(exc)[:2000])
        raise
