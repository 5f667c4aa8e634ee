"""Imports as background jobs: the check and the import run as tasks with their progress on the
job's page, survive a broker outage, are run once, and go with their file after a day."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from config.jobs import JobStatus
from participants import import_jobs, importing, services, tasks
from participants.import_jobs import (
    GIVE_UP_RUNNING_AFTER,
    ImportJobError,
    import_job_cancel,
    import_job_create,
    import_job_run,
    import_jobs_expire,
    import_jobs_republish,
)
from participants.models import Enrolment, IdentityRecord, ImportJob, Role
from participants.services import participant_erase
from participants.uploads import upload_delete, upload_exists, uploads_expire
from tests.factories import confirm_import, register_identified, registry_world, upload_import, user_with_role
from tests.participants.test_import import EXAMPLE, PNR_A, csv_bytes, row

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return registry_world()


def _job(world, content: bytes = b"") -> ImportJob:
    return import_job_create(
        user=world.admin_sco, forbund=world.sco, content=content or EXAMPLE.read_bytes(), file_name="lista.csv"
    )


def test_the_job_page_shows_its_progress_until_the_check_is_done(client, world):
    job = _job(world)  # not yet run: its task starts when the upload's transaction commits
    client.force_login(world.admin_sco)
    page = client.get(reverse("import_job", args=[job.pk]))
    assert "Filen granskas" in page.text and "<progress" in page.text and "stegvis/job.js" in page.text
    polled = client.get(reverse("import_job", args=[job.pk]), headers={"Accept": "application/json"}).json()
    assert polled == {
        "status": "queued",
        "progress": 0,
        "text": "Kön svarar inte just nu. Filen är sparad och jobbet startar av sig självt när kön är tillbaka.",
    }
    assert import_jobs.import_job_publish(job.pk)
    assert client.get(reverse("import_job", args=[job.pk]), headers={"Accept": "application/json"}).json() == {
        "status": "done",  # the task ran (eagerly) when it was published
        "progress": 100,
        "text": "Filen är granskad: 5 rader utan fel.",
    }


def test_progress_climbs_through_reading_checking_the_new_people_and_the_rows(world):
    heard = []
    content = csv_bytes(
        [
            row(
                inskrivningsdatum=f"2025-0{month}-01",
                insats="jonsbo",
                avslutsdatum=f"2025-0{month}-20",
                avslutsanledning="arbete",
            )
            for month in range(1, 10)
        ]
    )
    importing.import_enrolments(content=content, forbund=world.sco, by=world.admin_sco, dry_run=False)
    # The person is registered now, so the rows go one by one (a new person's are stored at once).
    result = importing.import_enrolments(
        content=content, forbund=world.sco, by=world.admin_sco, dry_run=True, progress=heard.append
    )
    assert result.ok and result.enrolments_unchanged == 9, result.errors
    assert heard == sorted(heard) and heard[0] == 1 and max(heard) < 100
    assert {importing.PARSED_PERCENT, importing.NEW_PEOPLE_PERCENT} <= set(heard)
    assert len([p for p in heard if p > importing.NEW_PEOPLE_PERCENT]) >= 5  # the rows move it on


def test_the_running_import_reports_its_progress_from_inside_its_transaction(client, world, monkeypatch):
    job = _job(world)
    seen = []

    def watch(*, progress, **kwargs):  # noqa: ANN001, ANN003, ANN202
        progress(55)
        fresh = ImportJob.objects.get(pk=job.pk)
        seen.append((fresh.status, import_jobs.import_job_progress(fresh), import_jobs.import_job_state_text(fresh)))
        return importing.ImportResult(rows=1)

    monkeypatch.setattr(import_jobs, "import_enrolments", watch)
    import_job_run(job_id=job.pk)
    assert seen == [("running", 55, "Granskar filen … 55 %")]


def test_an_upload_while_the_broker_is_down_is_kept_and_checked_when_it_is_back(
    client, world, monkeypatch, settings, django_capture_on_commit_callbacks
):
    def refuse(job_id: int) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.run_import, "delay", refuse)
    client.force_login(world.admin_sco)
    page = upload_import(client, django_capture_on_commit_callbacks, EXAMPLE.read_bytes())
    assert page.status_code == 200
    assert "Kön svarar inte just nu. Filen är sparad" in page.text
    job = ImportJob.objects.get()
    assert (job.status, job.published_at) == (JobStatus.QUEUED, None)
    assert import_jobs_republish() == 0  # still down
    monkeypatch.undo()
    assert import_jobs_republish() == 1  # the beat's sweep, with the queue back; the check ran eagerly
    assert ImportJob.objects.get().status == JobStatus.DONE
    assert import_jobs_republish() == 0
    assert "participants.tasks.republish_imports" in {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}


def test_a_job_is_run_once_and_one_whose_worker_is_gone_is_given_up(world, monkeypatch):
    job = _job(world)
    import_job_run(job_id=job.pk)
    import_job_run(job_id=job.pk)  # a second delivery (the sweep's, or a redelivery) leaves it
    assert ImportJob.objects.get(pk=job.pk).status == JobStatus.DONE

    stuck = _job(world)
    ImportJob.objects.filter(pk=stuck.pk).update(status=JobStatus.RUNNING, started_at=timezone.now())
    assert import_jobs_republish() == 0
    assert ImportJob.objects.get(pk=stuck.pk).status == JobStatus.RUNNING
    import_jobs_republish(now=timezone.now() + GIVE_UP_RUNNING_AFTER + timedelta(minutes=1))
    gone = ImportJob.objects.get(pk=stuck.pk)
    assert gone.status == JobStatus.FAILED and "slutade svara" in import_jobs.import_job_state_text(gone)


def test_a_running_job_cannot_be_cancelled_and_a_checked_file_with_errors_cannot_be_imported(
    client, world, django_capture_on_commit_callbacks
):
    job = _job(world)
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
    with pytest.raises(ImportJobError, match="kan inte avbrytas"):
        import_job_cancel(job=job)
    assert upload_exists(forbund=world.sco, token=job.upload_token)

    client.force_login(world.admin_sco)
    checked = upload_import(client, django_capture_on_commit_callbacks, csv_bytes([row(kon="okänd")]))
    assert "1 fel i 1 rad – inget har importerats." in checked.text and "Kön ska vara en av" in checked.text
    page = client.post(checked.wsgi_request.path, {"action": "import"}, follow=True)
    assert "Granskningen hittade fel, så filen kan inte importeras. Rätta filen" in page.text
    assert not Enrolment.objects.exists()


def test_a_file_gone_before_the_import_says_so_and_stores_nothing(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.admin_sco)
    checked = upload_import(client, django_capture_on_commit_callbacks, EXAMPLE.read_bytes())
    upload_delete(forbund=world.sco, token=ImportJob.objects.get().upload_token)
    page = client.post(checked.wsgi_request.path, {"action": "import"}, follow=True)
    assert import_jobs.FILE_NOT_THERE in page.text
    assert not Enrolment.objects.exists()


def test_many_row_errors_are_counted_and_the_first_thousand_shown(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.admin_sco)
    anonymous_with_a_bad_kon = row(anonym="ja", personnummer="", samtycke="nej", fodelsear="1990", kon="okänd")
    bad = csv_bytes([anonymous_with_a_bad_kon] * (import_jobs.MAX_SHOWN_ERRORS + 5))
    page = upload_import(client, django_capture_on_commit_callbacks, bad)
    assert "1\xa0005 fel i 1\xa0005 rader – inget har importerats." in page.text
    assert "De första 1\xa0000 felen visas." in page.text
    assert len(ImportJob.objects.get().result["errors"]) == import_jobs.MAX_SHOWN_ERRORS


def test_jobs_and_their_files_go_a_day_after_the_upload(world):
    job = _job(world)
    fresh = _job(world)
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=25))
    assert import_jobs_expire() == 1
    assert list(ImportJob.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not upload_exists(forbund=world.sco, token=job.upload_token)
    assert upload_exists(forbund=world.sco, token=fresh.upload_token)


def test_another_users_job_is_not_found(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.admin_sco)
    checked = upload_import(client, django_capture_on_commit_callbacks, EXAMPLE.read_bytes(), name="min-lista.csv")
    job = ImportJob.objects.get()
    client.force_login(user_with_role(Role.ADMIN, forbund=world.sco, username="admin-tva", can_read_identity=True))
    for method in (client.get, client.post):
        response = method(checked.wsgi_request.path, {"action": "import"} if method == client.post else None)
        assert response.status_code == 404
    assert "min-lista.csv" not in client.get(reverse("import_page")).text
    assert ImportJob.objects.get(pk=job.pk).dry_run  # not imported by them
    client.force_login(world.admin_sco)
    confirm_import(client, django_capture_on_commit_callbacks, checked)
    assert Enrolment.objects.count() == 5  # but by its owner


def test_a_nul_byte_or_a_giant_cell_is_an_error_of_its_row_and_the_job_finishes(
    client, world, django_capture_on_commit_callbacks
):
    """Both once left the check "running" for ever: the row error repeated the cell, and PostgreSQL
    refuses a NUL in JSON (and a quarter of a gigabyte of error text)."""
    client.force_login(world.admin_sco)
    giant = "x" * 32_000
    content = csv_bytes(
        [
            row(insats="jon\x00sbo"),
            row(
                personnummer="", anonym="ja", fodelsear="1990", samtycke="nej", utbildning=giant, forsorjning_fore=giant
            ),
        ]
    )
    page = upload_import(client, django_capture_on_commit_callbacks, content)
    job = ImportJob.objects.get()
    assert job.status == JobStatus.DONE
    assert [(error["row"], error["column"]) for error in job.result["errors"]] == [
        (2, "insats"),
        (3, "forsorjning_fore"),
        (3, "utbildning"),
    ]
    assert (
        "varken UTF-8 eller Windows-1252" in page.text
        and "Värdet har 32\xa0000 tecken; en cell här har högst 100." in page.text
    )
    assert len(page.content) < 50_000


def test_a_result_the_database_refuses_fails_the_job_instead_of_leaving_it_running(world, monkeypatch):
    job = _job(world)
    monkeypatch.setattr(import_jobs, "result_dict", lambda result: {"errors": ["\x00"]})
    with pytest.raises(Exception):  # noqa: B017, PT011 (the worker logs it; the job says what to do)
        import_job_run(job_id=job.pk)
    failed = ImportJob.objects.get(pk=job.pk)
    assert failed.status == JobStatus.FAILED and "Ett oväntat fel stoppade den" in failed.error
    assert not upload_exists(forbund=world.sco, token=job.upload_token)


def test_a_confirmed_import_cannot_be_cancelled_from_a_page_left_open(
    client, world, django_capture_on_commit_callbacks
):
    client.force_login(world.admin_sco)
    checked = upload_import(client, django_capture_on_commit_callbacks, EXAMPLE.read_bytes())
    stale_tab = checked.wsgi_request.path
    job = ImportJob.objects.get()
    with django_capture_on_commit_callbacks(execute=False):  # confirmed; no worker has taken it yet
        client.post(stale_tab, {"action": "import"})
    page = client.post(stale_tab, {"action": "cancel"}, follow=True)
    assert "Importen är bekräftad och kan inte avbrytas." in page.text
    assert upload_exists(forbund=world.sco, token=job.upload_token)
    import_job_run(job_id=job.pk)
    page = client.post(stale_tab, {"action": "cancel"}, follow=True)
    assert "Importen är bekräftad och kan inte avbrytas." in page.text
    assert ImportJob.objects.get().result["enrolments_created"] == 5  # the record of what it did stays


def test_a_confirmed_import_waiting_for_a_worker_outlives_the_day(world):
    job = _job(world)
    import_job_run(job_id=job.pk)
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=23, minutes=59))
    import_jobs.import_job_confirm(job=job)
    later = timezone.now() + timedelta(hours=2)
    assert import_jobs_expire(now=later) == 0
    assert uploads_expire(now=later) == 0  # confirming counts as uploading again
    assert upload_exists(forbund=world.sco, token=job.upload_token)
    assert import_jobs_republish(now=later) == 1  # the broker never took it: the sweep still does
    assert ImportJob.objects.get(pk=job.pk).status == JobStatus.DONE


def test_a_person_erased_while_the_import_waits_is_not_registered_again_from_the_file(
    client, world, django_capture_on_commit_callbacks, monkeypatch
):
    client.force_login(world.admin_sco)
    checked = upload_import(client, django_capture_on_commit_callbacks, csv_bytes([row(personnummer=PNR_A)]))
    token = ImportJob.objects.get().upload_token
    real_lock = importing.imports_lock

    def erased_while_waiting_for_the_lock(forbund):  # noqa: ANN001, ANN202
        # What an erasure committed meanwhile leaves behind (it runs in a transaction of its own, which a
        # test on one connection cannot): the uploads that name the person are gone.
        upload_delete(forbund=forbund, token=token)
        real_lock(forbund)

    monkeypatch.setattr(importing, "imports_lock", erased_while_waiting_for_the_lock)
    page = confirm_import(client, django_capture_on_commit_callbacks, checked)

    assert importing.FILE_GONE in page.text
    assert ImportJob.objects.get().status == JobStatus.FAILED
    assert not IdentityRecord.objects.exists() and not Enrolment.objects.exists()


def test_an_erasure_waits_for_an_import_under_way_in_the_forbund(world, monkeypatch):
    person = register_identified(forbund=world.sco, by=world.admin_sco, personnummer=PNR_A)
    locked = []
    monkeypatch.setattr(services, "imports_lock", locked.append)
    participant_erase(participant=person, by=world.admin_sco, reason="Personen begärde radering")
    assert locked == [world.sco]
