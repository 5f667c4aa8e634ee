"""The pseudonymised analysis export: who is in it, what is left out, and that exports do not join."""

import csv

import pytest
from django.http import QueryDict
from django.urls import reverse

from participants.models import AccessEvent, ConsentPurpose
from participants.services import consent_record
from progression import analysis, scoring
from progression.models import ExportJob
from progression.reports.filters import parse_filter
from surveys.sessions import session_submit
from tests.factories import registry_world
from tests.surveys.factories import measured_enrolment, shipped_version, valid_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    version = shipped_version()
    ns = measured_enrolment()
    sessions = [
        session_submit(
            client_uuid=f"00000000-0000-0000-0000-00000000000{number}",
            enrolment=ns.enrolment,
            version=version,
            perspective=perspective,
            answers=valid_answers(version, perspective),
            recorded_by=ns.mentor,
        )[0]
        for number, perspective in ((1, "self"), (2, "mentor"))
    ]
    scoring.sessions_score(session_ids=[s.pk for s in sessions])  # on-commit hooks do not run inside a test
    ns.filters = parse_filter(
        user=type(ns.mentor)(is_superuser=True, is_active=True),
        params=QueryDict(f"forbund={ns.forbund.code}&from=2020-01-01&to=2030-12-31"),
        default_year=2026,
    )
    return ns


def _research(ns, granted: bool) -> None:
    consent_record(
        participant=ns.participant,
        purpose=ConsentPurpose.RESEARCH,
        granted=granted,
        recorded_by=ns.mentor,
        channel="written",
        text_version="test-1",
    )


def test_only_people_with_research_consent_take_part(world):
    key = analysis.new_key()
    assert len(list(analysis.long_rows(world.filters, key))) == 1  # the header only
    _research(world, True)
    rows = list(analysis.long_rows(world.filters, key))
    assert len(rows) > 1 and {row[16] for row in rows[1:]} == {"self", "mentor"}
    _research(world, False)
    assert len(list(analysis.long_rows(world.filters, key))) == 1


def test_two_exports_cannot_be_joined_unless_they_share_a_key(world):
    _research(world, True)
    first, second = analysis.new_key(), analysis.new_key()
    person = {list(analysis.wide_rows(world.filters, k))[1][0] for k in (first, second)}
    assert len(person) == 2
    assert list(analysis.wide_rows(world.filters, first))[1][0] == list(analysis.wide_rows(world.filters, first))[1][0]
    assert world.participant.pseudonym not in {row[0] for row in analysis.long_rows(world.filters, first)}


def test_no_identity_or_free_text_in_the_file(world, tmp_path):
    _research(world, True)
    path = tmp_path / "long.csv"
    count = analysis.write(analysis.long_rows(world.filters, analysis.new_key()), path, "csv")
    text = path.read_text(encoding="utf-8")
    assert count == len(text.strip().splitlines()) - 1
    assert world.participant.pseudonym not in text
    assert "Testa Testsson" not in text
    header = next(csv.reader(text.splitlines(), delimiter=";"))
    assert header == analysis.LONG_COLUMNS


def test_web_export_is_a_logged_job_and_key_reuse_is_for_admins(client, world, django_capture_on_commit_callbacks):
    _research(world, True)
    people = registry_world()
    client.force_login(people.coordinator_sco)
    url = reverse("analysis_export") + "?forbund=sco&from=2020-01-01&to=2030-12-31"
    response = client.post(url, {"shape": "wide", "format": "csv", "reuse": "1"})
    assert "Bara en administratör" in response.text
    response = client.post(url, {"shape": "wide", "format": "csv", "reuse": "²"})  # a digit to str.isdigit
    assert response.status_code == 200 and "Bara en administratör" in response.text
    assert not ExportJob.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"shape": "wide", "format": "xlsx"})
    job = ExportJob.objects.get()
    assert response.url == reverse("export_status", args=[job.pk])
    assert (job.kind, job.status, job.external) == ("analysis-wide", "done", False)
    assert AccessEvent.objects.filter(action="export", reason__startswith="Analysexport").count() == 1
