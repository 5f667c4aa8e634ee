"""What POST /api/v1/bedomningar/ costs in queries, and the per-process cache of published
instrument versions it relies on: a new version is used as soon as it is published, a draft is
never kept."""

import uuid

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from participants.api_keys import api_key_create
from participants.models import Role
from surveys.models import AssessmentSession, InstrumentVersion
from surveys.selectors import instrument_version_get, instrument_version_items
from surveys.services import instrument_version_publish, instrument_version_update
from tests.factories import user_with_role
from tests.surveys.factories import (
    definition,
    definition_data,
    item_data,
    load,
    measured_enrolment,
    progression_consent,
    shipped_version,
    valid_answers,
)

pytestmark = pytest.mark.django_db

# The API key with its user, the user's memberships (read once per request: the key's roles
# fingerprint, HasAnyRole and the write check of the enrolment share them), the enrolment with its
# place, consent and version id. The fingerprint is one query more than DRF's plaintext Token cost: a
# key must stop working when its user's roles change, so every request compares them
# (participants/api_keys.py). The test runs inside a transaction, so the atomic block around the
# INSERTs adds SAVEPOINT and RELEASE. A new UUID is inserted without a look-up first (ON CONFLICT DO
# NOTHING); a known one is read after that INSERT stored nothing.
NEW_SUBMISSION_QUERIES = 3 + 2 + 2  # … + session INSERT + answers INSERT
RESUBMISSION_QUERIES = 3 + 2 + 1 + 2  # … + the INSERT that stores nothing + the stored session and its answers


@pytest.fixture
def world():
    ns = measured_enrolment()
    ns.version = shipped_version()
    ns.api = APIClient()
    ns.api.credentials(HTTP_AUTHORIZATION=f"Token {api_key_create(user=ns.mentor)[1]}")
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


def _post(world, body):
    return world.api.post(reverse("api_session_list"), body, format="json")


def test_a_new_submission_costs_a_fixed_number_of_queries(world, django_assert_num_queries):
    assert _post(world, _body(world)).status_code == 201  # this process has now read the version
    body = _body(world)

    with django_assert_num_queries(NEW_SUBMISSION_QUERIES):
        response = _post(world, body)

    assert response.status_code == 201
    assert response.json()["answers"] == body["answers"]
    stored = AssessmentSession.objects.get(client_uuid=body["client_uuid"])
    assert dict(stored.answers.values_list("item__code", "value")) == body["answers"]


def test_a_resubmission_costs_a_fixed_number_of_queries(world, django_assert_num_queries):
    body = _body(world)
    first = _post(world, body)

    with django_assert_num_queries(RESUBMISSION_QUERIES):
        again = _post(world, body)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()


def test_the_response_to_a_resubmission_by_another_user_names_the_first_recorder(world):
    body = _body(world)
    _post(world, body)
    colleague = user_with_role(Role.MENTOR, insats=world.insats)
    world.api.credentials(HTTP_AUTHORIZATION=f"Token {api_key_create(user=colleague)[1]}")

    again = _post(world, body)

    assert again.status_code == 200
    assert again.json()["recorded_by"] == world.mentor.username


def test_a_resubmission_after_consent_was_withdrawn_does_not_show_the_set_aside_reading(world):
    body = _body(world)
    _post(world, body)
    progression_consent(world.participant, by=world.mentor, granted=False)  # policy: anonymise
    assert AssessmentSession.objects.get(client_uuid=body["client_uuid"]).consent_withdrawn

    again = _post(world, body)

    assert again.status_code == 404
    assert "answers" not in again.json()


# --- The cache of published versions -------------------------------------------------------------


def _version_2_data():
    """The test instrument with a third required Hälsa item."""
    data = definition_data()
    halsa = data["dimensions"][0]["items"]
    halsa.append({**item_data(data, "halsa_1"), "code": "halsa_3"})
    return data


def _test_instrument_body(world, *, version=None, **answers):
    """A mentor reading on the test instrument; the current version unless one is named."""
    body = _body(world, instrument="test-instrument", answers={"halsa_1": 5, "halsa_2": 5, "prognos": 3, **answers})
    if version is not None:
        body["version"] = version
    return body


def test_a_newly_published_version_is_used_by_the_next_submission(world):
    load()
    first = _post(world, _test_instrument_body(world))
    refused = _post(world, _test_instrument_body(world, halsa_3=5))
    assert first.status_code == 201 and first.json()["version"] == 1
    assert refused.json() == {"halsa_3": ["Okänd fråga: halsa_3"]}

    version_2, _ = load(_version_2_data())

    missing = _post(world, _test_instrument_body(world))
    stored = _post(world, _test_instrument_body(world, halsa_3=5))
    assert missing.json() == {"halsa_3": ["Svara på frågan ”Deltagaren mår bra.”"]}
    assert stored.status_code == 201 and stored.json()["version"] == 2
    assert AssessmentSession.objects.get(client_uuid=stored.json()["client_uuid"]).version == version_2


def test_a_draft_version_is_read_afresh_until_it_is_published(world):
    version_1, _ = load()
    draft = InstrumentVersion.objects.create(instrument=version_1.instrument, number=2, content_hash="")
    instrument_version_update(version=draft, definition=definition())
    assert set(instrument_version_items(version=draft)) == {"halsa_1", "halsa_2", "timmar", "kontakt", "prognos"}
    refused = _post(world, _test_instrument_body(world, version=draft.number))
    assert refused.json() == {"version": [f"Instrumentversionen {draft} är inte publicerad."]}

    instrument_version_update(version=draft, definition=definition(_version_2_data()))

    assert "halsa_3" in instrument_version_items(version=draft)
    assert instrument_version_get(pk=draft.pk).is_published is False
    instrument_version_publish(version=draft)
    stored = _post(world, _test_instrument_body(world, version=draft.number, halsa_3=5))
    assert stored.status_code == 201 and stored.json()["version"] == draft.number
    assert instrument_version_get(pk=draft.pk).is_published is True
