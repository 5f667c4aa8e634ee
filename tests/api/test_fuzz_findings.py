"""What the API fuzzer (tests/reliability/test_api_fuzz.py) found, one test per bug, each with the
documented status and body: pinned here so that it stays fixed whatever the fuzzer happens to try."""

import pytest
from django.urls import reverse

from tests.api.openapi import assert_matches_schema, operation_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(api_world):
    return api_world


def _documented(schema: dict, method: str, url: str, response) -> dict:  # noqa: ANN001
    body = response.json()
    assert_matches_schema(schema, *operation_key(method, url), response.status_code, body)
    return body


@pytest.mark.parametrize("url_name", ["api_insats_list", "api_instrument_list", "api_participant_list"])
def test_an_unreadable_cursor_is_a_400_naming_the_parameter(client, schema, world, url_name):
    """DRF answered 404 {"detail": "Ogiltig cursor."}, a status the lists did not document."""
    client.force_login(world.coordinator_sco)
    url = reverse(url_name)
    response = client.get(url, {"cursor": "ÅÒl|inte-en-cursor"})
    assert response.status_code == 400
    assert _documented(schema, "GET", url, response) == {"cursor": ["Ogiltig cursor."]}


def test_a_body_that_is_not_json_is_a_400_in_the_field_error_format(client, schema, world):
    """DRF's parse error came as {"detail": …}, where the schema documents {"field": ["message"]}."""
    client.force_login(world.mentor)
    url = reverse("api_participant_list")
    response = client.post(url, b"Y\xf9\xf9", content_type="application/json")
    assert response.status_code == 400
    body = _documented(schema, "POST", url, response)
    assert list(body) == ["non_field_errors"]
    assert "JSON" in body["non_field_errors"][0]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/inskrivningar/inte-ett-id/avslut/",
        "/api/v1/bedomningar/inte-ett-uuid/",
        "/api/v1/insatser/%C3%A5%C3%A4%C3%B6/",
        "/api/v1/finns-inte/",
    ],
)
def test_an_api_url_that_matches_no_route_answers_json(client, world, url):
    """Django's HTML 404 page answered an API client whose id did not fit the route."""
    client.force_login(world.mentor)
    response = client.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Hittades inte."}


def test_a_page_that_does_not_exist_is_still_the_404_page(client, world):
    client.force_login(world.mentor)
    response = client.get("/finns-inte/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("year", "message"),
    [
        ("1840656", "Året måste skrivas med fyra siffror, t.ex. 2026."),
        ("0000", "Året måste skrivas med fyra siffror, t.ex. 2026."),
        ("²", "Året måste vara ett tal, t.ex. 2026."),
    ],
)
def test_a_report_year_a_date_cannot_hold_is_a_400(client, schema, world, year, message):
    """?period=helar&ar=1840656 was a 500 (ValueError: year is out of range), "²" too (int("²"))."""
    client.force_login(world.coordinator_sco)
    url = reverse("api_report", args=["socioeconomic"])
    response = client.get(url, {"period": "helar", "ar": year})
    assert response.status_code == 400
    assert _documented(schema, "GET", url, response) == {"ar": [message]}


def test_request_bodies_are_json_only(client, schema, world):
    """The schema offered form and multipart bodies too, which cannot carry a reading's nested answers
    or a null: a reading sent that way was refused with "answers: required" although it had answers."""
    media_types = {
        media_type
        for item in schema["paths"].values()
        for operation in item.values()
        for media_type in operation.get("requestBody", {}).get("content", {})
    }
    assert media_types == {"application/json"}
    client.force_login(world.mentor)
    response = client.post(reverse("api_consent", args=[world.participant.pseudonym]), {"purpose": "research"})
    assert response.status_code == 415
    assert list(response.json()) == ["detail"]
