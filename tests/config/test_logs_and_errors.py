"""Logs are JSON lines with the request's id, which follows the request into the tasks it queues;
personnummer and link tokens never reach a log line, the access log included, nor an error report."""

import io
import json
import logging
import subprocess
import sys

import pytest
import sentry_sdk
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import path, reverse
from sentry_sdk.transport import Transport

from config import errors, logs
from participants import import_jobs
from tests.factories import registry_world, synthetic_personnummer
from tests.participants.test_import import EXAMPLE

PNR = synthetic_personnummer(__import__("datetime").date(1990, 1, 1), "998")
TOKEN = "twekEesEYKelgIA5i37UBuKzOWYTLOaz1hwPwlNpqeU"


@pytest.fixture
def lines():
    """What the project's JSON formatter writes, from every logger, while the test runs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


@pytest.mark.parametrize(
    ("text", "logged"),
    [
        (f"hittade {PNR} i filen", "hittade [personnummer] i filen"),
        ("199001019984 och 9001019984 och 900101+9984", "[personnummer] och [personnummer] och [personnummer]"),
        (f"GET /s/{TOKEN}/skicka/ 200", "GET /s/[token]/skicka/ 200"),
        ("GET /enkat/kort-nyckel/ 404", "GET /enkat/[token]/ 404"),
        (f"GET /min-plan/{TOKEN}/?lang=ar", "GET /min-plan/[token]/?lang=ar"),
        (f"Authorization: Token {TOKEN}", "Authorization: Token [token]"),
        # As a browser or an API client sends them in an address: decoded, then redacted.
        ("GET /?q=19900101%2B9984", "GET /?q=[personnummer]"),
        ("GET /api/v1/deltagare/pnr%2019900101-9984/", "GET /api/v1/deltagare/pnr [personnummer]/"),
        ("pnr_199001019984 Anna199001019984", "pnr_[personnummer] Anna[personnummer]"),
        # What stays: dates, amounts, row numbers, pseudonyms, short ids, UUIDs, long function names.
        (
            "Task run_import[0c6f5a86-2e5a-4f0b-9a55-0d7c2c3a1b2e] received",
            "Task run_import[0c6f5a86-2e5a-4f0b-9a55-0d7c2c3a1b2e] received",
        ),
        ("in convert_exception_to_response, 100% klart", "in convert_exception_to_response, 100% klart"),
        (
            "2025-02-03 rad 12 belopp 1903500 SCÖ-N0FY-HJSD jobb 42",
            "2025-02-03 rad 12 belopp 1903500 SCÖ-N0FY-HJSD jobb 42",
        ),
    ],
)
def test_what_is_redacted_and_what_stays(text, logged):
    assert logs.redact(text) == logged


@pytest.mark.django_db
def test_every_request_has_an_id_in_its_header_and_its_access_log_line_without_the_token(client, lines):
    response = client.get(f"/s/{TOKEN}/")
    own = client.get(reverse("import_page"), headers={"X-Request-ID": "9f1c2e6b7a5d4c3b8e0f1a2b3c4d5e6f"})
    odd = client.get(reverse("import_page"), headers={"X-Request-ID": PNR})
    written = lines()
    access = [line for line in written if line["logger"] == "stegvis.access"]
    assert [(line["path"], line["status"]) for line in access] == [
        ("/s/[token]/", response.status_code),
        ("/import/", 302),
        ("/import/", 302),
    ]
    assert access[0]["request_id"] == response["X-Request-ID"] and len(response["X-Request-ID"]) == 16
    assert access[1]["request_id"] == own["X-Request-ID"] == "9f1c2e6b7a5d4c3b8e0f1a2b3c4d5e6f"  # nginx's, kept
    assert access[2]["request_id"] == "[personnummer]" and odd["X-Request-ID"] == PNR  # never logged as sent
    assert all(line.get("request_id") for line in written)  # Django's own lines after the middleware too
    assert TOKEN not in json.dumps(written)


@pytest.mark.django_db(transaction=True)  # the upload's on_commit runs inside its request, as in production
def test_a_task_queued_by_a_request_logs_with_the_requests_id(client, lines):
    world = registry_world()
    client.force_login(world.admin_sco)
    upload = SimpleUploadedFile("exempel.csv", EXAMPLE.read_bytes(), "text/csv")
    response = client.post(
        reverse("import_page"), {"forbund": "sco", "file": upload}, headers={"X-Request-ID": "upload-0001"}
    )
    assert response.status_code == 302
    task_lines = [line for line in lines() if line["logger"] == "participants.import_jobs"]
    assert [line["message"] for line in task_lines] == [
        f"Import {import_jobs.ImportJob.objects.get().pk} (sco): granskningen startar",
        f"Import {import_jobs.ImportJob.objects.get().pk}: klar, 5 rader, 0 fel",
    ]
    assert {line["request_id"] for line in task_lines} == {"upload-0001"}


def test_the_id_travels_in_the_task_message_and_is_set_again_in_the_worker():
    """What Celery does between the web process and the worker: the publish signal writes the id into
    the message's headers; the worker makes the headers the task's request (Context) and prerun sets it."""
    from celery.app.task import Context

    headers: dict = {}
    token = logs.request_id.set("from-the-web-01")
    logs._request_id_into_the_message(headers=headers)
    logs.request_id.reset(token)
    assert headers == {logs.TASK_HEADER: "from-the-web-01"}

    class Task:
        request = Context(headers)

    logs._request_id_in_the_task(task_id="t1", task=Task())
    assert logs.request_id.get() == "from-the-web-01"
    logs._request_id_after_the_task(task_id="t1")
    assert logs.request_id.get() == ""


def _fail(request):  # noqa: ANN001, ANN202
    personnummer = request.GET.get("pnr", "")  # a local variable of the frame: never sent
    raise ValueError(f"Raden med {personnummer} från /s/{TOKEN}/ kunde inte sparas")


urlpatterns = [path("fel/", _fail)]


@pytest.fixture
def reported():
    """Error reporting switched on as SENTRY_DSN does, with the events kept here instead of sent."""
    events = []

    class Keep(Transport):
        def capture_envelope(self, envelope) -> None:  # noqa: ANN001
            events.extend(item.payload.json for item in envelope.items if item.type == "event")

    errors.error_reporting_init(
        "https://key@errors.example.invalid/1", environment="test", release="", traces_sample_rate=0, transport=Keep
    )
    yield events
    sentry_sdk.init()  # off again for the rest of the run


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_an_error_report_carries_no_personal_data(client, reported):
    client.raise_request_exception = False
    client.cookies["sessionid"] = "hemlig-session"
    response = client.post(f"/fel/?pnr={PNR}", {"personnummer": PNR, "namn": "Anna Andersson"})
    sentry_sdk.flush()
    assert response.status_code == 500
    (event,) = reported
    text = json.dumps(event)
    assert "[personnummer]" in text and "/s/[token]/" in text  # the message stays, redacted
    for secret in (PNR, TOKEN, "hemlig-session", "Anna Andersson"):
        assert secret not in text
    assert '"vars"' not in text and set(event["request"]) <= {"method", "url"}


def test_scrub_keeps_of_the_request_only_its_method_and_address():
    event = {
        "request": {
            "method": "POST",
            "url": f"https://stegvis.example/s/{TOKEN}/skicka/",
            "data": {"personnummer": PNR},
            "cookies": {"sessionid": "abc"},
            "headers": {"Cookie": "sessionid=abc"},
            "query_string": f"pnr={PNR}",
        },
        "user": {"id": 7, "username": "anna.andersson", "email": "anna@example.se"},
        "exception": {"values": [{"stacktrace": {"frames": [{"function": "f", "vars": {"pnr": PNR}}]}}]},
    }
    assert errors.scrub(event) == {
        "request": {"method": "POST", "url": "https://stegvis.example/s/[token]/skicka/"},
        "user": {"id": 7},
        "exception": {"values": [{"stacktrace": {"frames": [{"function": "f"}]}}]},
    }


def test_python_warnings_and_gunicorns_own_lines_are_json_and_redacted(capsys):
    import logging.config

    from config import gunicorn

    logging.config.dictConfig(gunicorn.logconfig_dict)
    logging.getLogger("gunicorn.error").warning(
        "Invalid request from ip=127.0.0.1: Invalid HTTP request line: 'GET /enkat/%s/\\x01 HTTP/1.1'", TOKEN
    )
    (line,) = capsys.readouterr().err.splitlines()
    assert json.loads(line)["message"].endswith("'GET /enkat/[token]/\\x01 HTTP/1.1'")
    assert gunicorn.accesslog is None

    # Python's warnings, in a process of their own (pytest catches them in this one).
    script = f"import django, warnings; django.setup(); warnings.warn('kunde inte läsa {PNR}')"
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    (warned,) = [json.loads(line) for line in ran.stderr.splitlines() if "kunde inte" in line]
    assert warned["logger"] == "py.warnings" and "kunde inte läsa [personnummer]" in warned["message"]
