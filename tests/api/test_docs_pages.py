"""Swagger UI and Redoc are served from this service: no script, style or font from another host; they
and the schema are for logged-in users only."""

import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse

from participants.api_keys import api_key_create
from tests.factories import registry_world

pytestmark = pytest.mark.django_db

EXTERNAL = re.compile(r"(?:https?:)?//(?!testserver\b)[\w.-]+\.[a-z]{2,}", re.IGNORECASE)


@pytest.mark.parametrize("url_name", ["api_docs", "api_redoc"])
def test_documentation_page_loads_with_local_assets_only(client, url_name):
    client.force_login(registry_world().mentor_jonsbo)
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, "the page loads its UI from static files"
    assert all(asset.startswith("/") and not asset.startswith("//") for asset in assets), assets
    assert not EXTERNAL.findall(html), EXTERNAL.findall(html)
    for asset in assets:
        if asset.startswith(settings.STATIC_URL):
            assert finders.find(asset.removeprefix(settings.STATIC_URL)), f"{asset} is not a static file we ship"
        else:  # the split view's own initialisation script
            assert asset.startswith(reverse(url_name)), asset
            script = client.get(asset)
            assert script.status_code == 200
            assert not EXTERNAL.findall(script.content.decode())


# --- Only for logged-in users (and holders of an API key), in every configuration -----------------


@pytest.mark.parametrize("url_name", ["api_docs", "api_redoc"])
def test_documentation_pages_send_an_anonymous_visitor_to_the_login(client, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={reverse(url_name)}"
    script = client.get(reverse(url_name) + "?script=")  # the split view's initialisation script
    assert script.status_code == 302


@pytest.mark.parametrize("debug", [True, False])
def test_schema_answers_an_anonymous_client_401_in_json(client, settings, debug):
    settings.DEBUG = debug
    response = client.get(reverse("api_schema"))
    assert response.status_code == 401
    assert set(response.json()) == {"detail"}
    assert "openapi" not in response.text


def test_schema_is_served_to_an_api_key(client):
    _, key = api_key_create(user=registry_world().mentor_jonsbo)
    response = client.get(reverse("api_schema"), {"format": "json"}, HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Stegvis API"
