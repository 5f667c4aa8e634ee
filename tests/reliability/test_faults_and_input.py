"""Faults and bad input: a clear answer, and nothing half-stored."""

import json
import threading
import uuid
from datetime import date

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse

from participants.importing import import_enrolments
from participants.models import Enrolment, IdentityRecord, Participant
from participants.services import ParticipantAlreadyRegistered
from surveys.models import AssessmentSession
from tests.factories import register_identified, registry_world, synthetic_personnummer
from tests.participants.test_import import EXAMPLE
from tests.surveys.factories import measured_enrolment, shipped_version, valid_answers


def _in_threads(count: int, work) -> list:  # noqa: ANN001
    results: list = []
    barrier = threading.Barrier(count)

    def run() -> None:
        barrier.wait()
        try:
            results.append(work())
        except Exception as exc:  # collected and asserted on by the test
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_same_personnummer_registered_concurrently_gives_one_participant():
    world = registry_world()
    personnummer = synthetic_personnummer(date(1991, 3, 3), "431")
    results = _in_threads(
        5, lambda: register_identified(forbund=world.sco, by=world.mentor_jonsbo, personnummer=personnummer)
    )
    assert IdentityRecord.objects.count() == 1 and Participant.objects.count() == 1
    winners = [r for r in results if isinstance(r, Participant)]
    assert len(winners) == 1
    assert all(isinstance(r, ParticipantAlreadyRegistered) for r in results if r not in winners)


@pytest.mark.django_db(transaction=True)
def test_concurrent_imports_of_the_same_file_do_not_duplicate():
    world = registry_world()
    content = EXAMPLE.read_bytes()
    results = _in_threads(
        3, lambda: import_enrolments(content=content, forbund=world.sco, by=world.admin_sco, dry_run=False)
    )
    assert all(r.ok for r in results), results
    assert sum(r.enrolments_created for r in results) == 5
    assert Enrolment.objects.count() == 5 and Participant.objects.count() == 4


@pytest.mark.django_db
def test_database_outage_gives_a_clear_503(client, monkeypatch):
    world = registry_world()
    client.force_login(world.mentor_jonsbo)
    client.raise_request_exception = False

    def down(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("progression.views.insats_overview", down)
    page = client.get(reverse("mentor_home"))
    assert page.status_code == 503 and "kan inte nå databasen" in page.text and page["Retry-After"] == "30"
    monkeypatch.setattr("participants.access.insatser_readable_by", down)
    api = client.get(reverse("api_insats_list"))
    assert api.status_code == 503 and "kan inte nå databasen" in api.json()["detail"]


@pytest.mark.django_db
def test_bad_json_and_oversized_bodies_are_refused_and_store_nothing(client):
    version = shipped_version()
    ns = measured_enrolment()
    client.force_login(ns.mentor)
    url = reverse("api_session_list")
    broken = client.post(url, "{not json", content_type="application/json")
    assert broken.status_code == 400 and "JSON" in json.dumps(broken.json())
    huge = {
        "client_uuid": str(uuid.uuid4()),
        "enrolment": ns.enrolment.pk,
        "perspective": "mentor",
        "answers": valid_answers(version, "mentor"),
        "padding": "x" * 10 * 1024 * 1024,
    }
    too_big = client.post(url, json.dumps(huge), content_type="application/json")
    assert too_big.status_code in (400, 413)
    assert AssessmentSession.objects.count() == 0


@pytest.mark.django_db
def test_script_and_sql_in_free_text_are_stored_as_text_and_shown_escaped(client):
    ns = measured_enrolment()
    client.force_login(ns.mentor)
    text = "<script>alert(1)</script>'; DROP TABLE participants_participant; --"
    client.post(reverse("goal_save", args=[ns.enrolment.pk]), {"text": text})
    page = client.get(reverse("journey", args=[ns.enrolment.pk]))
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert Participant.objects.filter(pk=ns.participant.pk).exists()


@pytest.mark.django_db
def test_every_form_needs_a_csrf_token(world_for_csrf):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world_for_csrf.mentor)
    for name, kwargs in [
        ("participant_register", {}),
        ("goal_save", {"enrolment_id": world_for_csrf.enrolment.pk}),
        ("consent_record", {"pseudonym": world_for_csrf.participant.pseudonym}),
        ("logout", {}),
        ("self_link_new", {"enrolment_id": world_for_csrf.enrolment.pk}),
    ]:
        response = client.post(reverse(name, kwargs=kwargs), {})
        assert response.status_code == 403, name
        assert "Formuläret kunde inte skickas: sidan har varit öppen för länge" in response.text, name


@pytest.fixture
def world_for_csrf():
    return measured_enrolment()


@pytest.mark.django_db
def test_sessions_expire(client, settings):
    ns = measured_enrolment()
    client.force_login(ns.mentor)
    assert settings.SESSION_COOKIE_AGE <= 8 * 3600
    assert client.get(reverse("mentor_home")).status_code == 200
    client.session.set_expiry(-1)
    session = client.session
    session.set_expiry(-1)
    session.save()
    assert client.get(reverse("mentor_home")).status_code == 302


@pytest.mark.django_db
def test_an_upload_django_cannot_read_gets_a_swedish_400_not_djangos_english_page(client):
    """A file name too long for the part's headers (Django reads at most 1 024 bytes of them), as a
    browser sends it."""
    from tests.factories import registry_world

    client.force_login(registry_world().admin_sco)
    boundary = "grans"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="forbund"\r\n\r\nsco\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{"a" * 1000}.csv"\r\n'
        f"Content-Type: text/csv\r\n\r\npersonnummer\r\n--{boundary}--\r\n"
    )
    response = client.generic(
        "POST", reverse("import_page"), body.encode(), content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 400
    assert "Det som skickades kunde inte läsas. Om du laddade upp en fil: ge den ett kortare namn" in response.text
    assert "<h1>Kunde inte läsas</h1>" in response.text
