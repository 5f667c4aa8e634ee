"""Every list pages by cursor in a fixed, unique order, and takes the documented filters."""

import uuid
from datetime import date
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from participants.models import Kon
from surveys.sessions import session_submit
from tests.factories import EnrolmentFactory, ParticipantFactory, exit_reason
from tests.surveys.factories import valid_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(api_world):
    """api_world with more rows: participants of each kind, closed and open enrolments, a self-rating."""
    w = api_world
    for kon, anonymous in [("man", False), ("man", True), ("kvinna", True), ("annat", False)]:
        ParticipantFactory(forbund=w.sco, kon=kon, is_anonymous=anonymous)
    for closed in (True, False, True):
        enrolment = EnrolmentFactory(insats=w.insats, participant=ParticipantFactory(forbund=w.sco))
        if closed:
            enrolment.end_date, enrolment.exit_reason = date(2026, 6, 1), exit_reason("arbete")
            enrolment.save()
    session_submit(
        client_uuid=uuid.uuid4(),
        enrolment=w.enrolment,
        version=w.version,
        perspective="self",
        answers=valid_answers(w.version, "self"),
        recorded_by=w.mentor,
    )
    return w


LISTS = {
    # url name, args, user attribute in the world, the field each row is identified by, the cursor order
    "insatser": ("api_insats_list", lambda w: [], "coordinator_sco", "code", "code"),
    "deltagare": ("api_participant_list", lambda w: [], "coordinator_sco", "pseudonym", "pseudonym"),
    "inskrivningar": ("api_insats_enrolments", lambda w: [w.insats.code], "mentor", "id", "id"),
    "bedomningar": ("api_session_list", lambda w: [], "mentor", "client_uuid", "-id"),
    "instrument": ("api_instrument_list", lambda w: [], "mentor", "code", "code"),
}


def _walk(client, url: str) -> list[dict]:  # noqa: ANN001
    rows: list[dict] = []
    while url:
        body = client.get(url).json()
        assert len(body["results"]) <= 1
        rows += body["results"]
        url = body["next"]
    return rows


@pytest.mark.parametrize("name", LISTS)
def test_page_size_one_walks_every_row_once_in_order(client, world, name):
    url_name, args, user, key, _order = LISTS[name]
    client.force_login(getattr(world, user))
    url = reverse(url_name, args=args(world))
    everything = client.get(url, {"page_size": 500}).json()
    assert everything["next"] is None and len(everything["results"]) >= 3
    walked = _walk(client, f"{url}?{urlencode({'page_size': 1})}")
    ids = [row[key] for row in walked]
    assert len(ids) == len(set(ids)), "a row came twice"
    assert ids == [row[key] for row in everything["results"]]


@pytest.mark.parametrize("name", ["insatser", "deltagare", "instrument"])
def test_lists_are_in_their_documented_order(client, world, name):
    url_name, args, user, key, _order = LISTS[name]
    client.force_login(getattr(world, user))
    ids = [row[key] for row in client.get(reverse(url_name, args=args(world))).json()["results"]]
    assert ids == sorted(ids)


def test_sessions_newest_first_and_enrolments_oldest_first(client, world):
    client.force_login(world.mentor)
    sessions = client.get(reverse("api_session_list")).json()["results"]
    assert sessions[0]["perspective"] == "self"  # submitted last
    enrolments = client.get(reverse("api_insats_enrolments", args=[world.insats.code])).json()["results"]
    assert [row["id"] for row in enrolments] == sorted(row["id"] for row in enrolments)


def test_participants_filter_by_kon_and_anonymity(client, world):
    client.force_login(world.coordinator_sco)
    url = reverse("api_participant_list")

    def rows(**params):  # noqa: ANN202
        return [(row["kon"], row["is_anonymous"]) for row in client.get(url, params).json()["results"]]

    assert sorted(rows(kon="man")) == [("man", False), ("man", True)]
    assert all(anonymous for _kon, anonymous in rows(anonym=1)) and len(rows(anonym=1)) == 2
    assert not any(anonymous for _kon, anonymous in rows(anonym=0)) and len(rows(anonym=0)) == len(rows()) - 2
    assert rows(kon="man", anonym="true") == [("man", True)]
    response = client.get(url, {"kon": "kvinnor"})
    assert response.status_code == 400
    assert list(response.json()) == ["kon"] and isinstance(response.json()["kon"], list)
    assert {k for k, _label in Kon.choices} >= {kon for kon, _a in rows()}


def test_insats_enrolments_filter_open_or_closed(client, world):
    client.force_login(world.mentor)
    url = reverse("api_insats_enrolments", args=[world.insats.code])
    assert [row["end_date"] for row in client.get(url, {"open": 1}).json()["results"]] == [None, None]
    assert [row["end_date"] for row in client.get(url, {"open": 0}).json()["results"]] == ["2026-06-01"] * 2
    assert len(client.get(url).json()["results"]) == 4
    assert "open" in client.get(url, {"open": "kanske"}).json()


def test_sessions_filter_by_enrolment_and_perspective(client, world):
    client.force_login(world.mentor)
    url = reverse("api_session_list")
    assert [row["perspective"] for row in client.get(url, {"perspective": "self"}).json()["results"]] == ["self"]
    assert len(client.get(url, {"perspective": "mentor", "enrolment": world.enrolment.pk}).json()["results"]) == 2
    assert client.get(url, {"enrolment": world.enrolment.pk + 1000}).json()["results"] == []
    response = client.get(url, {"enrolment": "tre"})
    assert response.status_code == 400
    assert response.json() == {"enrolment": ["Ange inskrivningens id som ett heltal."]}
    assert list(client.get(url, {"perspective": "alla"}).json()) == ["perspective"]
