"""The förbund admin's review of the access log, rectification of identity data, and identity
responses that no cache keeps."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from participants.importing import IMPORTED_NAME
from participants.models import AccessAction, AccessEvent, AccessLogReview, IdentityRecord
from participants.services import identity_read
from progression.reports.jobs import export_job_create, export_job_download, export_job_run
from tests.factories import (
    EnrolmentFactory,
    register_identified,
    registry_world,
    synthetic_personnummer,
)

pytestmark = pytest.mark.django_db

PNR = synthetic_personnummer(date(1979, 8, 30), serial="562")


@pytest.fixture
def world():
    ns = registry_world()
    ns.person = register_identified(forbund=ns.sco, by=ns.mentor_jonsbo, personnummer=PNR, name=IMPORTED_NAME)
    EnrolmentFactory(participant=ns.person, insats=ns.jonsbo, mentor=ns.mentor_jonsbo)
    return ns


# --- The log review -----------------------------------------------------------------------------


def test_the_log_shows_exports_of_whole_reports_with_their_filters(client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(world.coordinator_sco)
    response = client.get(reverse("report_csv", args=["participant-flow"]), {"forbund": "sco", "insats": "jonsbo"})
    assert response.status_code == 200
    job = export_job_create(
        user=world.coordinator_sco,
        kind="exits",
        file_format="csv",
        params={"forbund": "sco", "insats": ["backaberg"], "from": "2026-01-01", "to": "2026-06-30"},
        external=True,
    )
    export_job_run(job_id=job.pk)
    job.refresh_from_db()
    export_job_download(job=job, user=world.coordinator_sco)

    client.force_login(world.admin_sco)
    page = client.get(reverse("access_log"), {"action": AccessAction.EXPORT})
    assert page.status_code == 200
    assert "Rapport participant-flow.csv (intern)" not in page.text  # the CSV link exports externally by default
    assert "Rapport participant-flow.csv (extern): Centrala Östergötland · Jonsbo försteg" in page.text
    assert "Rapportexport exits.csv (extern): Centrala Östergötland · Backaberg · 2026-01-01–2026-06-30" in page.text
    assert all(event.forbund == world.sco for event in AccessEvent.objects.filter(action=AccessAction.EXPORT))


def test_the_log_filters_by_user_event_and_period_and_shows_nothing_of_another_forbund(client, world):
    identity_read(user=world.mentor_jonsbo, participant=world.person, reason="Boka samtal")
    other = register_identified(forbund=world.svo, by=world.mentor_natursteget, personnummer=PNR)
    EnrolmentFactory(participant=other, insats=world.natursteget, mentor=world.mentor_natursteget)
    identity_read(user=world.mentor_natursteget, participant=other, reason="Natursteget läser")
    AccessEvent.objects.filter(reason="Boka samtal").update(created_at=timezone.now() - timedelta(days=40))

    client.force_login(world.admin_sco)
    everything = client.get(reverse("access_log"))
    assert "Boka samtal" in everything.text and "Natursteget läser" not in everything.text
    assert "mentor-natursteget" not in everything.text  # not even as a choice in the user filter
    recent = client.get(reverse("access_log"), {"date_from": (timezone.localdate() - timedelta(days=7)).isoformat()})
    assert "Boka samtal" not in recent.text
    by_user = client.get(reverse("access_log"), {"user": world.mentor_jonsbo.pk})
    assert "Boka samtal" in by_user.text
    bad = client.get(reverse("access_log"), {"date_from": "2026-05-01", "date_to": "2026-04-01"})
    assert bad.status_code == 200 and "Slutdatumet ligger före startdatumet" in bad.text


def test_an_admin_records_a_review_of_a_period(client, world):
    client.force_login(world.admin_sco)
    today = timezone.localdate()
    response = client.post(
        reverse("access_log"),
        {"period_start": (today - timedelta(days=30)).isoformat(), "period_end": today.isoformat(), "note": "Ok"},
        follow=True,
    )
    assert "är sparad" in response.text
    review = AccessLogReview.objects.get()
    assert (review.forbund, review.reviewed_by, review.note) == (world.sco, world.admin_sco, "Ok")
    assert "granskad" in response.text and "admin-sco" in response.text
    refused = client.post(
        reverse("access_log"),
        {"period_start": today.isoformat(), "period_end": (today + timedelta(days=3)).isoformat()},
    )
    assert "kan inte sluta i framtiden" in refused.text
    assert AccessLogReview.objects.count() == 1


def test_only_forbund_wide_admins_review_the_log(client, world):
    for user in (world.mentor_jonsbo, world.coordinator_sco):
        client.force_login(user)
        assert client.get(reverse("access_log")).status_code == 403


# --- Rectification ------------------------------------------------------------------------------


def test_a_mentor_names_an_imported_person_on_the_rectification_page(client, world):
    client.force_login(world.mentor_jonsbo)
    url = reverse("identity_rectify", args=[world.person.pseudonym])
    form = client.get(url)
    assert form.status_code == 200
    assert IMPORTED_NAME in form.text  # filled in with the current data, a logged read
    assert "no-store" in form["Cache-Control"]
    response = client.post(
        url, {"name": "Vera Provsdotter", "contact": "070-000 00 00", "personnummer": PNR, "reason": "Namn saknades"}
    )
    assert response.status_code == 302
    record = IdentityRecord.objects.get(participant=world.person)
    assert identity_read(user=world.mentor_jonsbo, participant=world.person, reason="Kontroll").name == (
        "Vera Provsdotter"
    )
    assert record.pnr_index  # unchanged personnummer keeps the index
    actions = list(AccessEvent.objects.filter(participant=world.person).values_list("action", flat=True))
    assert AccessAction.RECTIFY in actions and AccessAction.VIEW in actions


def test_rectification_without_a_reason_changes_nothing(client, world):
    client.force_login(world.mentor_jonsbo)
    url = reverse("identity_rectify", args=[world.person.pseudonym])
    response = client.post(url, {"name": "Ny", "personnummer": PNR, "reason": ""})
    assert response.status_code == 200
    assert "Ange varför uppgifterna rättas" in response.text
    assert not AccessEvent.objects.filter(action=AccessAction.RECTIFY).exists()


def test_rectification_is_refused_without_identity_access(client, world):
    client.force_login(world.coordinator_sco)
    response = client.get(reverse("identity_rectify", args=[world.person.pseudonym]))
    assert response.status_code == 403
    assert IMPORTED_NAME not in response.text
    api = client.post(
        reverse("api_identity_rectify", args=[world.person.pseudonym]),
        {"name": "Hackad", "reason": "Nyfiken"},
        content_type="application/json",
    )
    assert api.status_code == 403


def test_the_rectification_api_changes_only_the_fields_sent(client, world):
    client.force_login(world.mentor_jonsbo)
    response = client.post(
        reverse("api_identity_rectify", args=[world.person.pseudonym]),
        {"name": "Vera Provsdotter", "reason": "Namn saknades efter importen"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Vera Provsdotter"
    assert response.json()["personnummer"].endswith(PNR[-4:])
    assert "no-store" in response["Cache-Control"]
    refused = client.post(
        reverse("api_identity_rectify", args=[world.person.pseudonym]),
        {"personnummer": "19790830-0000", "reason": "Fel siffra"},
        content_type="application/json",
    )
    assert refused.status_code == 400 and "personnummer" in refused.json()


# --- No cache keeps identity --------------------------------------------------------------------


def test_identity_and_registerutdrag_responses_are_never_cached(client, world):
    client.force_login(world.mentor_jonsbo)
    pseudonym = world.person.pseudonym
    responses = [
        client.post(reverse("identity_reveal", args=[pseudonym]), {"reason": "Ringa"}),
        client.post(reverse("api_identity", args=[pseudonym]), {"reason": "Ringa"}, content_type="application/json"),
    ]
    client.force_login(world.admin_sco)
    responses += [
        client.get(reverse("participant_export", args=[pseudonym, "json"])),
        client.get(reverse("participant_export", args=[pseudonym, "html"])),
        client.get(reverse("api_export", args=[pseudonym])),
    ]
    for response in responses:
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"], response.request["PATH_INFO"]
