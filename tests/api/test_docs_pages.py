"""Swagger UI and Redoc are served from this service: no script, style or font from another host."""

import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse

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
