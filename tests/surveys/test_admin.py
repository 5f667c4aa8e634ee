"""The admin shows instruments but offers no way to change them."""

import pytest
from django.urls import reverse

from surveys.models import InstrumentVersion, Item
from tests.factories import UserFactory
from tests.surveys.factories import load

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_published_version_is_shown_read_only(admin_client):
    version, _ = load()
    response = admin_client.get(reverse("admin:surveys_instrumentversion_change", args=[version.pk]))
    assert response.status_code == 200
    assert "halsa" in response.text
    assert 'name="_save"' not in response.text
    response = admin_client.post(
        reverse("admin:surveys_instrumentversion_change", args=[version.pk]), {"number": 7, "status": "draft"}
    )
    assert response.status_code == 403
    assert InstrumentVersion.objects.get(pk=version.pk).number == 1


@pytest.mark.parametrize("model", ["instrument", "instrumentversion", "item"])
def test_lists_show_and_nothing_can_be_added_or_deleted(admin_client, model):
    version, _ = load()
    assert admin_client.get(reverse(f"admin:surveys_{model}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"admin:surveys_{model}_add")).status_code == 403
    item = Item.objects.filter(version=version).first()
    obj = {"instrument": version.instrument, "instrumentversion": version, "item": item}[model]
    assert (
        admin_client.post(reverse(f"admin:surveys_{model}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
    )
