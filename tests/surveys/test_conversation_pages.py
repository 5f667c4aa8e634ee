"""The målbildssamtal on the web: participant mode, submissions, comparison, links and surveys."""

import json
import uuid

import pytest
from django.urls import reverse

from participants.models import Role
from surveys.models import AssessmentSession, SelfAssessmentLink, SurveyResponse
from surveys.satisfaction import survey_campaign_create
from surveys.sessions import self_link_create
from tests.factories import InsatsFactory, user_with_role
from tests.surveys.factories import measured_enrolment, shipped_version, valid_answers

pytestmark = pytest.mark.django_db

PASSWORD = "test-lösenord-1234"


@pytest.fixture
def world():
    version = shipped_version()
    ns = measured_enrolment()
    ns.version = version
    return ns


def _enter_participant_mode(client, world):
    client.force_login(world.mentor)
    response = client.post(reverse("participant_mode_enter", args=[world.enrolment.pk]), {"language": "sv"})
    assert response.url == reverse("self_form", args=[world.enrolment.pk])


def _post_json(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_participant_mode_reaches_nothing_but_the_self_assessment(client, world):
    _enter_participant_mode(client, world)
    self_form = reverse("self_form", args=[world.enrolment.pk])
    assert client.get(self_form).status_code == 200
    elsewhere = [
        reverse("mentor_home"),
        reverse("participant_detail", args=[world.participant.pseudonym]),
        reverse("mentor_form", args=[world.enrolment.pk]),
        reverse("conversation_compare", args=[world.enrolment.pk]),
        reverse("conversation_hub", args=[world.enrolment.pk]),
        reverse("admin:index"),
        reverse("coordinator_home"),
    ]
    for url in elsewhere:
        response = client.get(url)
        assert response.status_code == 302 and response.url == self_form, url
    assert client.post(reverse("logout")).url == self_form
    assert client.get(reverse("api_participant_list")).status_code == 403
    mentor_submit = reverse("session_submit", args=[world.enrolment.pk, "mentor"])
    assert client.post(mentor_submit, {}).url == self_form


def test_leaving_participant_mode_needs_the_mentors_password(client, world):
    _enter_participant_mode(client, world)
    response = client.post(reverse("participant_mode_exit"), {"password": "fel"}, follow=True)
    assert "Fel lösenord" in response.text
    assert client.get(reverse("mentor_home")).status_code == 302
    response = client.post(reverse("participant_mode_exit"), {"password": PASSWORD})
    assert response.url == reverse("mentor_form", args=[world.enrolment.pk])
    assert client.get(reverse("mentor_home")).status_code == 200


def test_five_wrong_passwords_log_the_mentor_out(client, world):
    _enter_participant_mode(client, world)
    for _ in range(5):
        response = client.post(reverse("participant_mode_exit"), {"password": "fel"})
    assert response.url == reverse("login")
    assert client.get(reverse("mentor_home")).status_code == 302
    assert client.get(reverse("mentor_home")).url.startswith(reverse("login"))


def test_full_conversation_self_then_mentor_then_comparison(client, world):
    _enter_participant_mode(client, world)
    self_url = reverse("session_submit", args=[world.enrolment.pk, "self"])
    client_uuid = str(uuid.uuid4())
    body = {"client_uuid": client_uuid, "answers": valid_answers(world.version, "self")}
    first = _post_json(client, self_url, body)
    assert first.status_code == 200 and first.json()["done_url"] == reverse("self_done", args=[world.enrolment.pk])
    for _ in range(4):
        assert _post_json(client, self_url, body).status_code == 200
    assert AssessmentSession.objects.filter(client_uuid=client_uuid).count() == 1
    client.post(reverse("participant_mode_exit"), {"password": PASSWORD})
    mentor_form = client.get(reverse("mentor_form", args=[world.enrolment.pk]))
    assert "Din bedömning av" in mentor_form.text
    mentor_answers = valid_answers(world.version, "mentor")
    response = client.post(
        reverse("session_submit", args=[world.enrolment.pk, "mentor"]),
        {f"item-{code}": str(value) for code, value in mentor_answers.items()},
    )
    assert response.url == reverse("conversation_compare", args=[world.enrolment.pk])
    compare = client.get(response.url)
    assert compare.status_code == 200
    assert '<svg class="chart radar"' in compare.text
    assert "Självskattning" in compare.text and "Handledarens bedömning" in compare.text
    perspectives = set(
        AssessmentSession.objects.filter(enrolment=world.enrolment).values_list("perspective", flat=True)
    )
    assert perspectives == {"self", "mentor"}


def test_out_of_range_answer_is_refused_with_the_item_named_and_nothing_stored(client, world):
    client.force_login(world.mentor)
    answers = valid_answers(world.version, "self")
    code = next(iter(answers))
    answers[code] = 11
    response = _post_json(
        client,
        reverse("session_submit", args=[world.enrolment.pk, "self"]),
        {"client_uuid": str(uuid.uuid4()), "answers": answers},
    )
    assert response.status_code == 400
    assert "mellan 1 och 10" in response.json()["errors"][code]
    assert AssessmentSession.objects.count() == 0


def test_mentor_draft_is_saved_and_resumed(client, world):
    client.force_login(world.mentor)
    response = client.post(
        reverse("session_submit", args=[world.enrolment.pk, "mentor"]), {"item-halsa_hantera": "6", "draft": "1"}
    )
    assert response.url == reverse("conversation_hub", args=[world.enrolment.pk])
    draft = AssessmentSession.objects.get()
    assert draft.status == "draft"
    form = client.get(reverse("mentor_form", args=[world.enrolment.pk]))
    assert f'value="{draft.client_uuid}"' in form.text
    assert 'value="6" checked' in form.text


def test_mentor_of_another_insats_cannot_open_the_conversation(client, world):
    stranger = user_with_role(Role.MENTOR, insats=InsatsFactory(forbund=world.forbund))
    client.force_login(stranger)
    assert client.get(reverse("conversation_hub", args=[world.enrolment.pk])).status_code == 404
    assert client.get(reverse("self_form", args=[world.enrolment.pk])).status_code == 404
    response = _post_json(
        client,
        reverse("session_submit", args=[world.enrolment.pk, "self"]),
        {"client_uuid": str(uuid.uuid4()), "answers": valid_answers(world.version, "self")},
    )
    assert response.status_code == 404
    assert AssessmentSession.objects.count() == 0


def test_self_assessment_link_works_once_then_says_it_is_used(client, world):
    _, token = self_link_create(enrolment=world.enrolment, version=world.version, created_by=world.mentor)
    page = client.get(reverse("public_self_form", args=[token]))
    assert page.status_code == 200 and "Hur går det för dig?" in page.text
    assert "Logga ut" not in page.text
    answers = valid_answers(world.version, "self")
    response = client.post(
        reverse("public_self_submit", args=[token]),
        {"client_uuid": str(uuid.uuid4()), **{f"item-{c}": str(v) for c, v in answers.items()}},
    )
    assert response.url == reverse("public_thanks")
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
    campaign = survey_campaign_create(
        insats=world.insats,
        version=shipped_version("nns-pagaende"),
        period_start=world.enrolment.start_date,
        period_end=world.enrolment.start_date,
        number_asked=10,
        created_by=world.mentor,
    )
    page = client.get(reverse("public_survey", args=[campaign.token]))
    assert page.status_code == 200 and "anonyma" in page.text
    response = _post_json(
        client,
        reverse("public_survey_submit", args=[campaign.token]),
        {"client_uuid": str(uuid.uuid4()), "answers": {"nns_1": 6, "nns_4": 1}},
    )
    assert response.status_code == 200
    assert SurveyResponse.objects.filter(campaign=campaign).count() == 1
