"""One error format: {"field": ["message"]} for bad input (400), {"detail": "..."} otherwise."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIRequestFactory

from config.api import api_exception_handler
from progression.models import Goal
from tests.factories import register_identified, synthetic_personnummer

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(api_world):
    return api_world


def _field_errors(response) -> dict[str, list[str]]:  # noqa: ANN001
    assert response.status_code == 400, response.content
    body = response.json()
    assert body and all(isinstance(messages, list) and messages for messages in body.values()), body
    return body


def _detail(response, status: int) -> str:  # noqa: ANN001
    assert response.status_code == status, response.content
    assert list(response.json()) == ["detail"]
    return response.json()["detail"]


def test_validation_errors_name_each_field(client, world):
    client.force_login(world.mentor)
    response = client.post(
        reverse("api_enrolment_close", args=[world.enrolment.pk]), {"end_date": "i morgon"}, "application/json"
    )
    assert set(_field_errors(response)) == {"end_date", "exit_reason"}


def test_report_filter_errors_are_lists_too(client, world):
    client.force_login(world.coordinator_sco)
    response = client.get(reverse("api_report", args=["participant-flow"]), {"kon": "alla", "from": "2026-13-01"})
    assert _field_errors(response) == {
        "from": ["Datumet måste skrivas ÅÅÅÅ-MM-DD, inte '2026-13-01'."],
        "kon": ["Okänt kön: alla"],
    }


def test_service_errors_use_the_request_field_names_and_store_nothing(client, world):
    client.force_login(world.mentor)
    response = client.post(
        reverse("api_enrolment_goals", args=[world.enrolment.pk]),
        {"text": "Arbeta deltid", "step_what": "Ringa arbetsgivare"},
        "application/json",
    )
    assert set(_field_errors(response)) == {"step_who"}
    assert not Goal.objects.filter(enrolment=world.enrolment).exists()


def test_forbidden_and_not_found_carry_a_detail(client, world):
    client.force_login(world.mentor_jonsbo)
    assert "samordnare" in _detail(client.get(reverse("api_report", args=["participant-flow"])), 403)
    _detail(client.get(reverse("api_participant_detail", args=["SCÖ-FINNS-INTE"])), 404)
    _detail(client.get(reverse("api_session_scores", args=[world.sessions[0].client_uuid])), 404)
    client.force_login(world.coordinator_sco)
    _detail(client.get(reverse("api_report", args=["finns-inte"])), 404)
    client.force_login(world.mentor)
    _detail(client.get(reverse("api_export", args=[world.participant.pseudonym])), 403)


def test_a_duplicate_registration_is_409_with_the_existing_pseudonym(client, world):
    personnummer = synthetic_personnummer(date(1960, 1, 5), serial="512")
    existing = register_identified(forbund=world.sco, by=world.mentor_jonsbo, personnummer=personnummer)
    client.force_login(world.mentor_jonsbo)
    response = client.post(
        reverse("api_participant_list"),
        {"forbund": "sco", "kon": "kvinna", "personnummer": personnummer, "name": "Test", "consent_channel": "written"},
        "application/json",
    )
    assert response.status_code == 409
    assert response.json() == {"detail": "Personen finns redan i förbundet.", "pseudonym": existing.pseudonym}


def test_a_service_error_without_a_field_is_a_non_field_error():
    request = APIRequestFactory().get("/")
    response = api_exception_handler(ValidationError("Något gick fel."), {"request": request, "view": None})
    assert (response.status_code, response.data) == (400, {"non_field_errors": ["Något gick fel."]})
