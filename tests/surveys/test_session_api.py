"""The sessions API: idempotent creation by client UUID, validation, scope."""

import uuid

import pytest
from django.urls import reverse

from participants.models import Role
from surveys.models import Answer, AssessmentSession
from tests.factories import InsatsFactory, user_with_role
from tests.surveys.factories import measured_enrolment, shipped_version, valid_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(client):
    ns = measured_enrolment()
    ns.version = shipped_version()
    client.force_login(ns.mentor)
    return ns


def _body(world, **changes):
    body = {
        "client_uuid": str(uuid.uuid4()),
        "enrolment": world.enrolment.pk,
        "perspective": "mentor",
        "answers": valid_answers(world.version, "mentor"),
    }
    body.update(changes)
    return body


def test_same_uuid_five_times_stores_one_session(client, world):
    body = _body(world)
    statuses = [
        client.post(reverse("api_session_list"), body, content_type="application/json").status_code for _ in range(5)
    ]
    assert statuses == [201, 200, 200, 200, 200]
    assert AssessmentSession.objects.count() == 1
    session = client.get(reverse("api_session_detail", args=[body["client_uuid"]])).json()
    assert session["answers"] == body["answers"]
    assert session["participant"] == world.participant.pseudonym


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"answers": {"halsa_hantera": 11}}, "halsa_hantera", "mellan 1 och 10"),
        ({"answers": {"finns_inte": 3}}, "finns_inte", "Okänd fråga"),
        ({"answers": {"halsa_hantera": "sju"}}, "halsa_hantera", "heltal"),
    ],
)
def test_bad_answers_are_refused_with_the_item_named(client, world, change, field, message):
    body = _body(world)
    body["answers"] = {**body["answers"], **change["answers"]}
    response = client.post(reverse("api_session_list"), body, content_type="application/json")
    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert AssessmentSession.objects.count() == 0 and Answer.objects.count() == 0


def test_unknown_version_is_refused(client, world):
    response = client.post(reverse("api_session_list"), _body(world, version=99), content_type="application/json")
    assert response.status_code == 400
    assert "version" in response.json()


def test_list_is_scoped_and_filterable(client, world):
    client.post(reverse("api_session_list"), _body(world), content_type="application/json")
    rows = client.get(reverse("api_session_list"), {"enrolment": world.enrolment.pk}).json()["results"]
    assert len(rows) == 1
    stranger = user_with_role(Role.MENTOR, insats=InsatsFactory(forbund=world.forbund))
    client.force_login(stranger)
    assert client.get(reverse("api_session_list")).json()["results"] == []
    other = client.post(reverse("api_session_list"), _body(world), content_type="application/json")
    assert other.status_code == 404
    assert AssessmentSession.objects.count() == 1


def test_instrument_api_lists_and_shows_forms(client, world):
    codes = [row["code"] for row in client.get(reverse("api_instrument_list")).json()["results"]]
    assert codes == ["nns-avslut", "nns-pagaende", "stegvis-progression"]
    form = client.get(
        reverse("api_instrument_form", args=["stegvis-progression"]), {"perspective": "self", "language": "en"}
    ).json()
    assert form["dimensions"][0]["label"] == "Health"
    assert all(not item["code"].startswith("prognos") for d in form["dimensions"] for item in d["items"])
