"""Who may read reports and exports, what every export logs, export jobs' life cycle, the report
command, and CSV streaming."""

import io
import json
import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.http import StreamingHttpResponse
from django.utils import timezone
from kombu.exceptions import OperationalError

from participants.models import AccessAction, AccessEvent
from progression import tasks
from progression.models import ExportJob
from progression.reports import disclosure
from progression.reports.jobs import WORK_PREFIX, export_dir, export_jobs_expire, export_jobs_republish
from tests.reports.helpers import build, cell_text

pytestmark = pytest.mark.django_db

QUERY = "forbund=sco&from=2025-01-01&to=2025-12-31"
PARAMS = {"forbund": "sco", "from": "2025-01-01", "to": "2025-12-31"}


def export_events(user) -> list[str]:  # noqa: ANN001
    return list(
        AccessEvent.objects.filter(user=user, action=AccessAction.EXPORT)
        .order_by("id")
        .values_list("reason", flat=True)
    )


def start_export(client, capture, name="exits", file_format="xlsx", run=True, **extra) -> ExportJob:  # noqa: ANN001
    data = {**PARAMS, "format": file_format, "extern": "1", **extra}
    if run:
        with capture(execute=True):
            response = client.post(f"/rapporter/{name}/export/", data)
    else:
        response = client.post(f"/rapporter/{name}/export/", data)
    assert response.status_code == 302, response.content[:500]
    return ExportJob.objects.latest("id")


# --- Scope and roles -------------------------------------------------------------------------------------


def test_coordinator_of_another_forbund_cannot_read_sco(figures, client):
    w = figures.world
    client.force_login(w.coordinator_svo)

    api = client.get(f"/api/v1/rapporter/participant-flow/?{QUERY}")
    assert api.status_code == 400
    assert api.json() == {"forbund": ["Okänt förbund eller utanför din behörighet: sco"]}
    api = client.get("/api/v1/rapporter/exits/?insats=jonsbo&from=2025-01-01&to=2025-12-31")
    assert api.status_code == 400
    assert api.json() == {"insats": ["Okänd insats eller utanför din behörighet: jonsbo"]}

    page = client.get(f"/rapporter/participant-flow/?{QUERY}")
    assert page.status_code == 400
    assert "Okänt förbund eller utanför din behörighet: sco" in page.content.decode()
    assert client.get(f"/rapporter/?{QUERY}").status_code == 400
    csv = client.get(f"/rapporter/exits/csv/?{QUERY}")
    assert csv.status_code == 400
    assert "Okänt förbund eller utanför din behörighet: sco" in csv.content.decode()
    assert client.post("/rapporter/exits/export/", {**PARAMS, "format": "xlsx"}).status_code == 400
    assert ExportJob.objects.count() == 0
    assert export_events(w.coordinator_svo) == []

    # Without a förbund the coordinator gets their own scope, with none of sco's people in it.
    own = client.get("/api/v1/rapporter/participant-flow/?from=2025-01-01&to=2025-12-31")
    assert own.status_code == 200
    assert own.json()["filters"]["forbund"] == "svo"
    assert own.json()["filters"]["insats"] == ["natursteget"]
    assert own.json()["registrations"] == {"kvinna": 1, "man": 0, "annat": 0, "total": 1}


def test_coordinator_of_sco_reads_the_same_report(figures, client):
    client.force_login(figures.world.coordinator_sco)

    response = client.get(f"/api/v1/rapporter/participant-flow/?{QUERY}")

    assert response.status_code == 200
    assert response.json()["registrations"] == {"kvinna": 7, "man": 6, "annat": 1, "total": 14}
    assert client.get(f"/rapporter/participant-flow/?{QUERY}").status_code == 200


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/rapporter/"),
        ("get", "/rapporter/participant-flow/"),
        ("get", "/rapporter/exits/csv/"),
        ("post", "/rapporter/exits/export/"),
        ("get", "/rapporter/texter/"),
        ("get", "/api/v1/rapporter/participant-flow/"),
        ("get", "/api/v1/rapporter/exits/"),
    ],
)
def test_mentor_is_refused_every_report_page_and_api(world, client, method, url):
    client.force_login(world.mentor_jonsbo)

    response = getattr(client, method)(f"{url}?{QUERY}", PARAMS if method == "post" else None)

    assert response.status_code == 403
    assert export_events(world.mentor_jonsbo) == []
    assert ExportJob.objects.count() == 0


def test_logged_out_visitor_is_refused(world, client):
    page = client.get(f"/rapporter/participant-flow/?{QUERY}")
    assert page.status_code == 302
    assert page["Location"].startswith("/logga-in/")
    assert client.get(f"/api/v1/rapporter/participant-flow/?{QUERY}").status_code in (401, 403)


def test_unknown_report_is_404(world, client):
    client.force_login(world.coordinator_sco)
    assert client.get(f"/rapporter/finns-inte/?{QUERY}").status_code == 404
    assert client.get(f"/api/v1/rapporter/finns-inte/?{QUERY}").status_code == 404
    assert client.get(f"/rapporter/finns-inte/csv/?{QUERY}").status_code == 404


# --- Export jobs -------------------------------------------------------------------------------------------


def test_export_job_is_only_visible_to_its_owner(figures, client, media, django_capture_on_commit_callbacks):
    w = figures.world
    client.force_login(w.coordinator_sco)
    job = start_export(client, django_capture_on_commit_callbacks)

    for other in (w.admin_sco, w.coordinator_svo):
        client.force_login(other)
        assert client.get(f"/exporter/{job.pk}/").status_code == 404
        assert client.get(f"/exporter/{job.pk}/", HTTP_ACCEPT="application/json").status_code == 404
        assert client.get(f"/exporter/{job.pk}/fil/").status_code == 404
        assert export_events(other) == []

    client.force_login(w.coordinator_sco)
    response = client.get(f"/exporter/{job.pk}/fil/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"PK")  # an xlsx is a zip file


def test_export_status_json_and_download_url(figures, client, media, django_capture_on_commit_callbacks):
    client.force_login(figures.world.coordinator_sco)

    queued = start_export(client, django_capture_on_commit_callbacks, run=False)
    status = client.get(f"/exporter/{queued.pk}/", HTTP_ACCEPT="application/json").json()
    assert status == {
        "status": "queued",
        "progress": 0,
        "error": "",
        "text": "Kön svarar inte just nu. Exporten är sparad och startar av sig själv när kön är tillbaka.",
        "download_url": None,
    }
    assert client.get(f"/exporter/{queued.pk}/fil/").status_code == 404

    done = start_export(client, django_capture_on_commit_callbacks, name="pdf-pack", file_format="pdf")
    status = client.get(f"/exporter/{done.pk}/", HTTP_ACCEPT="application/json").json()
    assert status == {
        "status": "done",
        "progress": 100,
        "error": "",
        "text": "Klar.",
        "download_url": f"/exporter/{done.pk}/fil/",
    }
    # On disk an ASCII name of its own; downloaded as "Rapportbilaga – Centrala Östergötland – helår 2025.pdf".
    assert done.file_name == f"stegvis-{done.pk}-rapportbilaga-centrala-ostergotland-helar-2025.pdf"
    assert (export_dir() / done.file_name).read_bytes().startswith(b"%PDF")
    assert client.get(f"/exporter/{done.pk}/").status_code == 200  # the HTML progress page


def test_an_export_asked_for_while_the_queue_is_down_is_kept_and_made_when_it_is_back(
    figures, client, media, django_capture_on_commit_callbacks, monkeypatch
):
    client.force_login(figures.world.coordinator_sco)

    def refuse(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - what kombu raises when Redis is down
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.run_export, "delay", refuse)
    job = start_export(client, django_capture_on_commit_callbacks)  # the request answers: no 500

    job.refresh_from_db()
    assert (job.status, job.published_at) == ("queued", None)
    page = client.get(f"/exporter/{job.pk}/").content.decode()
    assert "Kön svarar inte just nu. Exporten är sparad och startar av sig själv" in page
    assert export_jobs_republish() == 0  # still down: nothing published, the job stays queued
    monkeypatch.undo()
    assert export_jobs_republish() == 1  # the beat's sweep, with the queue back
    job.refresh_from_db()
    assert job.status == "done" and (export_dir() / job.file_name).exists()
    assert export_jobs_republish() == 0


def test_a_job_the_queue_took_but_no_worker_started_is_published_again_after_half_an_hour(
    figures, client, media, django_capture_on_commit_callbacks, monkeypatch
):
    client.force_login(figures.world.coordinator_sco)
    job = start_export(client, django_capture_on_commit_callbacks, run=False)
    published = []
    monkeypatch.setattr(tasks.run_export, "delay", published.append)
    ExportJob.objects.filter(pk=job.pk).update(published_at=timezone.now() - timedelta(minutes=29))
    assert export_jobs_republish() == 0 and published == []
    ExportJob.objects.filter(pk=job.pk).update(published_at=timezone.now() - timedelta(minutes=31))
    assert export_jobs_republish() == 1 and published == [job.pk]
    ExportJob.objects.filter(pk=job.pk).update(status="running")
    assert export_jobs_republish() == 0  # a job a worker has started is left to it …
    assert ExportJob.objects.get(pk=job.pk).status == "running"
    ExportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=3, minutes=1))
    assert export_jobs_republish() == 0  # … until its worker has been gone for hours
    page = client.get(f"/exporter/{job.pk}/").content.decode()
    assert "Exporten kunde inte göras: arbetaren som gjorde den slutade svara" in page


def test_a_run_writes_in_a_folder_of_its_own_and_moves_the_whole_file_into_place(
    figures, client, media, django_capture_on_commit_callbacks
):
    """Two deliveries of one job running at once must never leave a half-written file to download."""
    client.force_login(figures.world.coordinator_sco)
    job = start_export(client, django_capture_on_commit_callbacks, file_format="csv")
    job.refresh_from_db()
    assert job.status == "done" and (export_dir() / job.file_name).stat().st_size > 0
    assert [p.name for p in export_dir().iterdir() if p.name.startswith(WORK_PREFIX)] == []  # its folder is gone


def test_every_csv_and_job_download_is_an_access_event(figures, client, media, django_capture_on_commit_callbacks):
    user = figures.world.coordinator_sco
    client.force_login(user)

    assert client.get(f"/rapporter/exits/csv/?{QUERY}").status_code == 200
    assert client.get(f"/rapporter/background/csv/?{QUERY}&extern=0").status_code == 200
    assert [reason.split(":")[0] for reason in export_events(user)] == [
        "Rapport exits.csv (extern)",
        "Rapport background.csv (intern)",
    ]

    job = start_export(client, django_capture_on_commit_callbacks, name="participant-flow")
    client.get(f"/exporter/{job.pk}/", HTTP_ACCEPT="application/json")
    assert len(export_events(user)) == 2  # creating and polling a job is not an export

    for _ in range(2):
        assert client.get(f"/exporter/{job.pk}/fil/").status_code == 200
    assert [reason.split(":")[0] for reason in export_events(user)[2:]] == [
        "Rapportexport participant-flow.xlsx (extern)"
    ] * 2
    event = AccessEvent.objects.filter(action=AccessAction.EXPORT).latest("id")
    assert (event.user, event.participant, event.forbund.code) == (user, None, "sco")
    assert event.reason.endswith(
        ": Centrala Östergötland · Backaberg, Jonsbo försteg, SIP-samordning · 2025-01-01–2025-12-31"
    )


def test_expired_jobs_are_deleted_with_their_files(figures, client, media, django_capture_on_commit_callbacks):
    client.force_login(figures.world.coordinator_sco)
    old = start_export(client, django_capture_on_commit_callbacks, name="exits")
    new = start_export(client, django_capture_on_commit_callbacks, name="background", file_format="csv")
    old_file, new_file = export_dir() / old.file_name, export_dir() / new.file_name
    assert old_file.exists() and new_file.exists()
    assert new.expires_at - timezone.now() > timedelta(days=6)
    ExportJob.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    assert export_jobs_expire() == 1

    assert not old_file.exists()
    assert not ExportJob.objects.filter(pk=old.pk).exists()
    assert new_file.exists() and ExportJob.objects.filter(pk=new.pk).exists()
    assert client.get(f"/exporter/{old.pk}/fil/").status_code == 404
    assert client.get(f"/exporter/{new.pk}/fil/").status_code == 200
    assert export_jobs_expire() == 0

    # A file no job owns (its job deleted by hand) goes once it is as old as the keep time.
    orphan, young = export_dir() / "stegvis-analysis-wide-orphan.xlsx", export_dir() / "stegvis-young.csv"
    orphan.write_text("x")
    young.write_text("x")
    week_ago = (timezone.now() - timedelta(days=8)).timestamp()
    os.utime(orphan, (week_ago, week_ago))
    export_jobs_expire()
    assert not orphan.exists() and young.exists() and new_file.exists()


def test_download_of_a_removed_file_is_404(figures, client, media, django_capture_on_commit_callbacks):
    client.force_login(figures.world.coordinator_sco)
    job = start_export(client, django_capture_on_commit_callbacks)
    (export_dir() / job.file_name).unlink()

    assert client.get(f"/exporter/{job.pk}/fil/").status_code == 404


def test_export_files_go_to_media_root(figures, client, media, django_capture_on_commit_callbacks):
    client.force_login(figures.world.coordinator_sco)
    job = start_export(client, django_capture_on_commit_callbacks, file_format="csv")
    path = Path(media) / "exports" / job.file_name
    assert path.read_text(encoding="utf-8").startswith("\ufeffAvslut")
    # Readable by the server's user only, like the import files.
    assert (stat.S_IMODE(path.stat().st_mode), stat.S_IMODE(path.parent.stat().st_mode)) == (0o600, 0o700)


# --- manage.py report -------------------------------------------------------------------------------------------


def command_json(*args: str) -> dict:
    out = io.StringIO()
    call_command("report", *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.parametrize(
    ("command_args", "query"),
    [
        ([], ""),
        (["--extern"], "&extern=1"),
        (["--insats", "jonsbo"], "&insats=jonsbo"),
        (["--kon", "kvinna", "--aldersgrupp", "25-34"], "&kon=kvinna&aldersgrupp=25-34"),
    ],
)
def test_report_command_prints_the_same_json_as_the_api(figures, client, command_args, query):
    client.force_login(figures.world.coordinator_sco)
    args = ["--forbund", "sco", "--from", "2025-01-01", "--to", "2025-12-31", *command_args]

    command = command_json("participant-flow", *args)
    api = client.get(f"/api/v1/rapporter/participant-flow/?{QUERY}{query}").json()

    assert command == api
    assert command["report"] == "participant-flow"


def test_report_command_matches_the_api_for_every_report(figures, survey_data, progression_data, volume_data, client):
    client.force_login(figures.world.coordinator_sco)
    names = ["participant-flow", "exits", "income-sources", "background", "survey", "progression", "volumes"]

    for name in names:
        command = command_json(
            name, "--forbund", "sco", "--insats", "jonsbo", "--from", "2025-01-01", "--to", "2025-12-31", "--per-kon"
        )
        api = client.get(f"/api/v1/rapporter/{name}/?{QUERY}&insats=jonsbo&per_kon=1").json()
        assert command == api, name
    assert command_json("exits", "--forbund", "sco", "--from", "2025-01-01", "--to", "2025-12-31")["n"] == 10


def test_report_command_csv_is_the_downloaded_csv(figures, client):
    client.force_login(figures.world.coordinator_sco)
    out = io.StringIO()
    call_command(
        "report",
        "exits",
        "--forbund",
        "sco",
        "--from",
        "2025-01-01",
        "--to",
        "2025-12-31",
        "--format",
        "csv",
        "--extern",
        stdout=out,
    )

    download = b"".join(client.get(f"/rapporter/exits/csv/?{QUERY}").streaming_content).decode("utf-8")

    assert out.getvalue() == download.removeprefix("\ufeff")
    assert disclosure.SHORT_NOTE in out.getvalue()
    # The protected total row, as the report builds it (its share is empty when every reason's
    # protected count is 0, which the random record keys can make so).
    total_row = next(
        row for row in build(figures.world.coordinator_sco, "exits", external=True).tables[0].rows if row[0] == "Totalt"
    )
    assert ";".join(cell_text(value) for value in total_row) in out.getvalue()


@pytest.mark.parametrize("value", ["2", "true", "ja", "yes"])
def test_an_unknown_extern_value_is_refused_never_read_as_internal(figures, client, value):
    client.force_login(figures.world.coordinator_sco)
    for url in (
        f"/rapporter/exits/csv/?{QUERY}&extern={value}",
        f"/api/v1/rapporter/exits/?{QUERY}&extern={value}",
        f"/rapporter/exits/?{QUERY}&extern={value}",
    ):
        response = client.get(url)
        assert response.status_code == 400, url
        text = json.dumps(response.json(), ensure_ascii=False) if "json" in response["Content-Type"] else response.text
        assert "extern ska vara 1 (skyddade tal för extern spridning) eller 0" in text, url
    # Empty is the default: protected for the CSV, which leaves the building.
    csv = b"".join(client.get(f"/rapporter/exits/csv/?{QUERY}&extern=").streaming_content).decode()
    assert disclosure.SHORT_NOTE in csv


def test_the_report_page_offers_external_figures_only_on_the_publication_grid(figures, client):
    client.force_login(figures.world.coordinator_sco)
    on_grid = client.get(f"/rapporter/exits/?{QUERY}").content.decode()
    assert "Visa som vid extern spridning" in on_grid and "Rapportbilaga (PDF)" in on_grid
    assert "Bara för internt bruk" not in on_grid
    off_grid = client.get("/rapporter/exits/?forbund=sco&from=2025-01-01&to=2025-03-17").content.decode()
    assert "Bara för internt bruk" in off_grid and "helår, delår, tertial eller halvår" in off_grid
    assert "Visa som vid extern spridning" not in off_grid and "Rapportbilaga (PDF)" not in off_grid
    assert "extern=0" in off_grid  # the CSV link asks for the internal figures it can give
    refused = client.get("/rapporter/exits/csv/?forbund=sco&from=2025-01-01&to=2025-03-17")
    assert refused.status_code == 400 and "hela standardperioder" in refused.content.decode()
    internal = client.get("/rapporter/exits/csv/?forbund=sco&from=2025-01-01&to=2025-03-17&extern=0")
    assert internal.status_code == 200


def test_the_export_form_asks_which_figures_and_a_repeated_extern_is_refused(figures, client):
    client.force_login(figures.world.coordinator_sco)
    page = client.get(f"/rapporter/exits/?{QUERY}").content.decode()
    assert 'name="extern" value="1" checked' in page and 'name="extern" value="0"' in page
    for value, external in (("0", False), ("1", True)):
        client.post("/rapporter/exits/export/", {**PARAMS, "format": "xlsx", "extern": value})
        assert ExportJob.objects.latest("id").external is external
    off_grid = {**PARAMS, "to": "2025-03-17", "format": "xlsx"}
    assert client.post("/rapporter/exits/export/", {**off_grid, "extern": "1"}).status_code == 400
    assert client.post("/rapporter/exits/export/", {**off_grid, "extern": "0"}).status_code == 302
    # A link extended with extern=1 after the user's own extern=0: which was meant cannot be told.
    for url in (f"/api/v1/rapporter/exits/?{QUERY}", f"/rapporter/exits/csv/?{QUERY}", f"/rapporter/exits/?{QUERY}"):
        response = client.get(f"{url}&extern=0&extern=1")
        assert response.status_code == 400, url
    assert client.get(f"/rapporter/exits/?{QUERY}&extern=1&extern=1").status_code == 200


def test_report_command_refuses_bad_filters(world):
    with pytest.raises(CommandError, match="Okänt förbund eller utanför din behörighet: nope"):
        call_command("report", "exits", "--forbund", "nope", "--from", "2025-01-01", "--to", "2025-12-31")
    with pytest.raises(CommandError, match="Periodens slut ligger före dess början."):
        call_command("report", "exits", "--forbund", "sco", "--from", "2025-06-01", "--to", "2025-01-01")


# --- Streaming ---------------------------------------------------------------------------------------------------


def test_csv_download_is_streamed(figures, client):
    client.force_login(figures.world.coordinator_sco)

    response = client.get(f"/rapporter/participant-flow/csv/?{QUERY}&extern=0")

    assert isinstance(response, StreamingHttpResponse)
    assert response.streaming is True
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        'attachment; filename="Deltagarflode - Centrala Ostergotland - helar 2025 - internt.csv"; '
    )
    chunks = [chunk.decode("utf-8") for chunk in response.streaming_content]
    assert chunks[0] == "\ufeff"  # one line per chunk, after the byte order mark
    assert len(chunks) > 5
    assert "Inskrivningar under perioden (registreringar);7;6;1;14\r\n" in chunks
