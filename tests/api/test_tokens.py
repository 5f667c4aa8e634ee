"""Personal API keys: created on the "API-nyckel" page, shown once, replaced, revoked."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from tests.factories import UserFactory, registry_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return registry_world()


def _create_key(client) -> str:  # noqa: ANN001
    response = client.post(reverse("api_token"), {"action": "create"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = re.search(r'value="([0-9a-f]{40})"', response.text).group(1)
    return key


def _api(key: str):  # noqa: ANN202
    """A client with no session: only the key can authenticate it."""
    return Client().get(reverse("api_insats_list"), HTTP_AUTHORIZATION=f"Token {key}")


def test_key_is_created_on_the_page_used_replaced_and_revoked(client, world):
    client.force_login(world.mentor_jonsbo)
    page = client.get(reverse("api_token"))
    assert page.status_code == 200
    assert "Du har ingen API-nyckel" in page.text

    key = _create_key(client)
    response = _api(key)
    assert response.status_code == 200
    assert [row["code"] for row in response.json()["results"]] == ["jonsbo"]  # the mentor's own scope

    page = client.get(reverse("api_token"))
    assert "Du har en API-nyckel" in page.text
    assert key not in page.text  # shown once, when created

    new_key = _create_key(client)
    assert new_key != key
    assert _api(key).status_code == 401
    assert _api(new_key).status_code == 200

    response = client.post(reverse("api_token"), {"action": "revoke"}, follow=True)
    assert "återkallad" in response.text
    assert not Token.objects.filter(user=world.mentor_jonsbo).exists()
    revoked = _api(new_key)
    assert revoked.status_code == 401
    assert revoked["WWW-Authenticate"] == "Token"
    assert set(revoked.json()) == {"detail"}


def test_a_key_carries_its_users_scope_and_roles(client, world):
    client.force_login(world.coordinator_sco)
    key = _create_key(client)
    codes = [row["code"] for row in _api(key).json()["results"]]
    assert codes == ["backaberg", "jonsbo"]
    client.force_login(UserFactory(username="utan-roll"))
    assert _api(_create_key(client)).status_code == 403  # any logged-in user may hold a key; roles still apply


def test_page_needs_a_login_and_the_nav_links_to_it(client, world):
    response = client.get(reverse("api_token"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    client.force_login(world.mentor_jonsbo)
    assert f'href="{reverse("api_token")}"' in client.get(reverse("mentor_home")).text


def test_no_credentials_keep_the_403_session_clients_know(world):
    response = Client().get(reverse("api_insats_list"))
    assert response.status_code == 403
    assert set(response.json()) == {"detail"}
    assert Client().get(reverse("api_insats_list"), HTTP_AUTHORIZATION="Token " + "0" * 40).status_code == 401


@pytest.mark.two_factor
def test_a_coordinator_gets_a_key_only_after_the_two_factor_step_and_the_key_then_works(client, world):
    client.force_login(world.coordinator_sco)  # password only, no TOTP code yet
    response = client.post(reverse("api_token"), {"action": "create"})
    assert response.status_code == 302
    assert response.url.startswith(reverse("two_factor"))
    assert not Token.objects.exists()
    key = Token.objects.create(user=world.coordinator_sco).key  # as if made after a verified login
    assert _api(key).status_code == 200
