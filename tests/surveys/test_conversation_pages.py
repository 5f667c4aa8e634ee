"""The målbildssamtal's server side: the pages the tablet keeps, the API it submits to, the session
check and the answers scripts get, the worker; links and surveys. The device side is in tests/e2e."""

import json
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from participants.models import Role
from participants.services import identity_read
from surveys.models import AssessmentSession, SelfAssessmentLink, SurveyResponse
from surveys.sessions import self_link_create
from tests.factories import InsatsFactory, user_with_role
from tests.surveys.factories import measured_enrolment, open_survey, shipped_version, valid_answers

pytestmark = pytest.mark.django_db

PASSWORD = "test-lösenord-1234"


@pytest.fixture
def world():
    version = shipped_version()
    ns = measured_enrolment()
    ns.version = version
    return ns


def _post_json(client, url, body, **headers):
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


def _tablet_reading(world, perspective: str, client_uuid: str | None = None) -> dict:
    """What the tablet's outbox posts: the same body a REST client sends."""
    return {
        "client_uuid": client_uuid or str(uuid.uuid4()),
        "enrolment": world.enrolment.pk,
        "instrument": "stegvis-progression",
        "version": world.version.number,
        "perspective": perspective,
        "language": "sv",
        "answers": valid_answers(world.version, perspective),
    }


def test_the_forms_carry_what_the_tablet_needs_to_submit_offline(client, world):
    client.force_login(world.mentor)
    for name, perspective in [("self_form", "self"), ("mentor_form", "mentor")]:
        page = client.get(reverse(name, args=[world.enrolment.pk])).text
        assert f'data-api-url="{reverse("api_session_list")}"' in page
        assert f'data-enrolment="{world.enrolment.pk}"' in page
        assert f'data-perspective="{perspective}"' in page
        assert f'data-version="{world.version.number}"' in page
        assert 'data-instrument="stegvis-progression"' in page
    hub = client.get(reverse("conversation_hub", args=[world.enrolment.pk])).text
    assert "data-handover" in hub and f'data-self-url="{reverse("self_form", args=[world.enrolment.pk])}"' in hub


def test_a_full_conversation_through_the_api_with_the_sessions_csrf_token(world):
    tablet = Client(enforce_csrf_checks=True)
    tablet.force_login(world.mentor)
    status = tablet.get(reverse("device_status"), HTTP_ACCEPT="application/json")
    assert status.status_code == 200 and status["Cache-Control"].startswith("max-age=0")
    token = status.json()["csrf_token"]
    reading = _tablet_reading(world, "self")
    for expected in (201, 200, 200):  # resending is harmless
        response = _post_json(tablet, reverse("api_session_list"), reading, HTTP_X_CSRFTOKEN=token)
        assert response.status_code == expected
        assert response.json()["client_uuid"] == reading["client_uuid"]
    response = _post_json(tablet, reverse("api_session_list"), _tablet_reading(world, "mentor"), HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201
    compare = tablet.get(reverse("conversation_compare", args=[world.enrolment.pk]))
    assert '<svg class="chart radar"' in compare.text and 'data-item="' in compare.text
    assert set(AssessmentSession.objects.values_list("perspective", flat=True)) == {"self", "mentor"}
    assert AssessmentSession.objects.count() == 2


def test_a_stale_csrf_token_is_a_json_403_the_outbox_recognises(world):
    tablet = Client(enforce_csrf_checks=True)
    tablet.force_login(world.mentor)
    tablet.get(reverse("device_status"), HTTP_ACCEPT="application/json")
    response = _post_json(
        tablet, reverse("api_session_list"), _tablet_reading(world, "self"), HTTP_X_CSRFTOKEN="x" * 64
    )
    assert response.status_code == 403
    assert response.json()["code"] == "csrf"
    assert AssessmentSession.objects.count() == 0


def test_without_a_session_scripts_get_401_in_json_never_the_login_page(client, world):
    response = _post_json(client, reverse("api_session_list"), _tablet_reading(world, "self"))
    assert response.status_code == 401 and "Logga in igen" in response.json()["detail"]
    status = client.get(reverse("device_status"), HTTP_ACCEPT="application/json")
    assert status.status_code == 401 and status.json() == {
        "authenticated": False,
        "detail": "Du är inte inloggad längre. Logga in igen; inget som är sparat på surfplattan går förlorat.",
    }
    page = client.get(reverse("mentor_home"), HTTP_ACCEPT="application/json")
    assert page.status_code == 401 and page["Content-Type"] == "application/json"
    assert client.get(reverse("mentor_home")).status_code == 302  # a person is sent to the login page


def test_the_caseload_pages_are_the_mentors_own_participants_and_hold_no_identity(client, world):
    other = measured_enrolment(forbund=world.forbund)
    client.force_login(world.mentor)
    manifest = client.get(reverse("caseload_pages"), HTTP_ACCEPT="application/json").json()
    assert [enrolment["id"] for enrolment in manifest["enrolments"]] == [world.enrolment.pk]
    pages = manifest["pages"] + manifest["enrolments"][0]["pages"]
    assert reverse("conversation_hub", args=[world.enrolment.pk]) in pages
    assert f"{reverse('self_form', args=[world.enrolment.pk])}?sprak=sv_lattlast" in pages
    assert not [url for url in pages if str(other.enrolment.pk) in url.split("/")]
    name = identity_read(user=world.mentor, participant=world.participant, reason="Testets hemlighet").name
    for url in pages:
        body = client.get(url).content.decode()
        assert name not in body and "1990041" not in body, url


def test_the_service_worker_is_served_from_the_root_with_its_version(client):
    response = client.get(reverse("service_worker"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/" and response["Cache-Control"] == "no-cache"
    body = response.content.decode()
    assert 'importScripts("/static/stegvis/device.js")' in body and '"/static/surveys/capture.js"' in body
    assert client.get(reverse("offline_page")).status_code == 200
    assert "Sidan behöver anslutning" in client.get(reverse("offline_page")).text


def test_participant_mode_is_left_with_the_mentors_password_when_the_code_is_forgotten(client, world):
    client.force_login(world.mentor)
    url = reverse("device_unlock")
    wrong = _post_json(client, url, {"password": "fel"})
    assert wrong.status_code == 400 and wrong.json()["detail"] == "Fel lösenord."
    assert _post_json(client, url, {"password": PASSWORD}).json() == {"ok": True}
    for _ in range(5):
        response = _post_json(client, url, {"password": "fel"})
    assert response.status_code == 401
    assert client.get(reverse("mentor_home")).status_code == 302  # logged out


def test_out_of_range_answer_is_refused_with_the_item_named_and_nothing_stored(client, world):
    client.force_login(world.mentor)
    reading = _tablet_reading(world, "self")
    code = next(iter(reading["answers"]))
    reading["answers"][code] = 11
    response = _post_json(client, reverse("api_session_list"), reading)
    assert response.status_code == 400
    assert "mellan 1 och 10" in response.json()[code][0]
    assert AssessmentSession.objects.count() == 0


def test_mentor_of_another_insats_cannot_open_the_conversation(client, world):
    stranger = user_with_role(Role.MENTOR, insats=InsatsFactory(forbund=world.forbund))
    client.force_login(stranger)
    assert client.get(reverse("conversation_hub", args=[world.enrolment.pk])).status_code == 404
    assert client.get(reverse("self_form", args=[world.enrolment.pk])).status_code == 404
    response = _post_json(client, reverse("api_session_list"), _tablet_reading(world, "self"))
    assert response.status_code == 404
    assert AssessmentSession.objects.count() == 0


def test_self_assessment_link_works_once_then_says_it_is_used(client, world):
    _, token = self_link_create(enrolment=world.enrolment, version=world.version, created_by=world.mentor)
    page = client.get(reverse("public_self_form", args=[token]))
    assert page.status_code == 200 and "Hur går det för dig?" in page.text
    assert "Logga ut" not in page.text
    answers = valid_answers(world.version, "self")
    client_uuid = str(uuid.uuid4())
    response = _post_json(
        client, reverse("public_self_submit", args=[token]), {"client_uuid": client_uuid, "answers": answers}
    )
    assert response.json() == {
        "ok": True,
        "client_uuid": client_uuid,
        "done_url": f"{reverse('public_thanks')}?sprak=sv",
    }
    reopened = client.get(reverse("public_self_form", args=[token]))
    assert reopened.status_code == 410
    assert "redan använts" in reopened.text
    assert "Hälsa" not in reopened.text
    assert SelfAssessmentLink.objects.get().session.perspective == "self"


def test_unknown_link_gives_a_friendly_message(client, world):
    response = client.get(reverse("public_self_form", args=["finns-inte"]))
    assert response.status_code == 410
    assert "Länken finns inte" in response.text


def test_mentor_creates_a_link_with_qr_code(client, world):
    client.force_login(world.mentor)
    response = client.post(reverse("self_link_new", args=[world.enrolment.pk]), {"language": "sv_lattlast", "days": 7})
    assert response.status_code == 200
    assert "data:image/svg+xml" in response.text
    assert "/s/" in response.text
    assert SelfAssessmentLink.objects.get().language == "sv_lattlast"


def test_anonymous_survey_page_and_submission(client, world):
    campaign = open_survey(world)
    page = client.get(reverse("public_survey", args=[campaign.token]))
    assert page.status_code == 200 and "anonyma" in page.text
    response = _post_json(
        client,
        reverse("public_survey_submit", args=[campaign.token]),
        {"client_uuid": str(uuid.uuid4()), "answers": {"nns_1": 6, "nns_4": 1}},
    )
    assert response.status_code == 200
    assert SurveyResponse.objects.filter(campaign=campaign).count() == 1


def test_one_device_sends_a_limited_number_of_new_answers_to_a_link_an_hour(client, world, settings):
    """Per device (IP address) and link: beyond the rate a 429 that stores nothing (the form's outbox
    keeps the answers); a resubmission of stored answers and another device still get through."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "public_answers": "2/hour"},
    }
    campaign = open_survey(world)
    url = reverse("public_survey_submit", args=[campaign.token])
    sent = [str(uuid.uuid4()) for _ in range(3)]

    def send(client_uuid: str, address: str = "203.0.113.7"):  # noqa: ANN202
        body = {"client_uuid": client_uuid, "answers": {"nns_1": 6}}
        return client.post(url, json.dumps(body), content_type="application/json", REMOTE_ADDR=address)

    assert [send(u).status_code for u in sent] == [200, 200, 429]
    assert "Många svar har skickats från den här enheten" in send(sent[2]).json()["detail"]
    assert SurveyResponse.objects.filter(campaign=campaign).count() == 2
    assert send(sent[0]).status_code == 200  # answers it has stored: answered, not counted
    assert send(sent[2], address="198.51.100.4").status_code == 200
    assert SurveyResponse.objects.filter(campaign=campaign).count() == 3
    form_post = client.post(url, {"client_uuid": str(uuid.uuid4()), "nns_1": "6"}, REMOTE_ADDR="203.0.113.7")
    assert form_post.status_code == 429 and "Vänta en stund" in form_post.text


@pytest.mark.parametrize(
    "body",
    [
        '{"client_uuid": "3f0b5b7e-0d4e-4c53-9d5c-6f0b8f7e2a11", "answers": {"nns_1": 1' + "1" * 5000 + "}}",
        "[" * 100_000,
        "inte json",
    ],
)
def test_a_body_python_cannot_read_as_answers_is_a_400_not_a_500(client, world, body):
    campaign = open_survey(world)
    url = reverse("public_survey_submit", args=[campaign.token])
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 400 and response.json()["ok"] is False
    assert not SurveyResponse.objects.exists()


def test_a_survey_everyone_asked_has_answered_says_so_in_the_list_and_on_its_link(client, world):
    campaign = open_survey(world, number_asked=1)
    body = {"client_uuid": str(uuid.uuid4()), "answers": {"nns_1": 6}}
    assert _post_json(client, reverse("public_survey_submit", args=[campaign.token]), body).status_code == 200

    page = client.get(reverse("public_survey", args=[campaign.token]))
    assert page.status_code == 410 and "lika många svar som antalet tillfrågade" in page.text
    client.force_login(world.mentor)
    listing = client.get(reverse("campaign_list", args=[world.insats.code]))
    assert listing.status_code == 200 and "Alla tillfrågade har svarat" in listing.text

    # More were asked after all: the number is corrected on the survey's page, and the link answers again
    detail = reverse("campaign_detail", args=[world.insats.code, campaign.pk])
    refused = client.post(detail, {"number_asked": "0"})
    assert refused.status_code == 200 and "Antal tillfrågade" in refused.text
    assert client.post(detail, {"number_asked": "3"}).status_code == 302
    assert client.get(reverse("public_survey", args=[campaign.token])).status_code == 200
    assert client.post(detail, {"number_asked": "3", "closed": "on"}).status_code == 302
    assert "stängd" in client.get(reverse("public_survey", args=[campaign.token])).text


def test_the_same_reading_with_other_answers_is_a_409_that_keeps_the_changes_on_the_device(client, world):
    client.force_login(world.mentor)
    reading = _tablet_reading(world, "self")
    assert _post_json(client, reverse("api_session_list"), reading).status_code == 201
    assert _post_json(client, reverse("api_session_list"), reading).status_code == 200
    changed = {**reading, "answers": {**reading["answers"], next(iter(reading["answers"])): 1}}
    response = _post_json(client, reverse("api_session_list"), changed)
    assert response.status_code == 409
    assert response.json()["code"] == "conflict" and response.json()["client_uuid"] == reading["client_uuid"]
    assert AssessmentSession.objects.count() == 1


def test_a_participant_without_progression_consent_gets_no_forms_on_the_tablet(client, world):
    unmeasured = measured_enrolment(forbund=world.forbund, progression=False)
    client.force_login(unmeasured.mentor)
    hub = client.get(reverse("conversation_hub", args=[unmeasured.enrolment.pk]))
    assert "inte samtyckt till mätning av stegförflyttning" in hub.text and "data-handover" not in hub.text
    for name in ("self_form", "mentor_form"):
        refused = client.get(reverse(name, args=[unmeasured.enrolment.pk]))
        assert refused.status_code == 403 and "inte samtyckt" in refused.text
    manifest = client.get(reverse("caseload_pages"), HTTP_ACCEPT="application/json").json()
    assert manifest["enrolments"][0]["pages"] == [reverse("conversation_hub", args=[unmeasured.enrolment.pk])]


def test_pages_for_a_logged_in_user_are_never_kept_by_the_browsers_cache(client, world):
    client.force_login(world.mentor)
    for url in (reverse("mentor_home"), reverse("conversation_hub", args=[world.enrolment.pk])):
        assert "no-store" in client.get(url)["Cache-Control"]
    client.logout()
    assert client.get(reverse("public_thanks")).get("Cache-Control") is None  # public pages are left alone


def test_a_reading_dated_ahead_of_the_servers_clock_is_refused_and_a_slightly_fast_clock_is_not(client, world):
    """A tablet says when the reading was made; a clock far ahead is named, not stored."""
    client.force_login(world.mentor)
    ahead = {**_tablet_reading(world, "self"), "occurred_at": (timezone.now() + timedelta(hours=2)).isoformat()}
    response = _post_json(client, reverse("api_session_list"), ahead)
    assert response.status_code == 400 and "Kontrollera enhetens klocka" in response.json()["occurred_at"][0]
    fast = {**_tablet_reading(world, "self"), "occurred_at": (timezone.now() + timedelta(minutes=2)).isoformat()}
    assert _post_json(client, reverse("api_session_list"), fast).status_code == 201
