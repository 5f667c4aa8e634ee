"""Coordinators and admins need a TOTP code; mentors do not."""

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from participants.models import Role
from tests.factories import TEST_PASSWORD, ForbundFactory, InsatsFactory, user_with_role

pytestmark = [pytest.mark.django_db, pytest.mark.two_factor]


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def _login(client, username: str):
    return client.post(reverse("login"), {"username": username, "password": TEST_PASSWORD})


def test_coordinator_sets_up_the_app_then_enters_codes(client):
    forbund = ForbundFactory(code="sco")
    InsatsFactory(code="jonsbo", forbund=forbund)
    user_with_role(Role.COORDINATOR, forbund=forbund, username="samordnare")
    _login(client, "samordnare")
    response = client.get(reverse("mentor_home"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("two_factor"))
    assert "Skanna QR-koden" in response.text and "data:image/svg+xml" in response.text
    assert client.get(reverse("api_insats_list")).status_code == 403
    device = TOTPDevice.objects.get(user__username="samordnare")
    wrong = client.post(reverse("two_factor"), {"code": "000000" if _code(device) != "000000" else "111111"})
    assert "Koden stämmer inte" in wrong.text
    assert "För många" in client.post(reverse("two_factor"), {"code": _code(device)}).text  # throttled
    device.refresh_from_db()
    device.throttle_reset()
    response = client.post(reverse("two_factor") + "?next=/rapporter/", {"code": _code(device)})
    assert response.url == "/rapporter/"
    assert client.get(reverse("api_insats_list")).status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    client.post(reverse("logout"))
    _login(client, "samordnare")
    page = client.get(reverse("two_factor"))
    assert "Skanna QR-koden" not in page.text  # set up once, then only the code


def test_admin_needs_a_code_but_mentor_does_not(client):
    forbund = ForbundFactory(code="sco")
    insats = InsatsFactory(code="jonsbo", forbund=forbund)
    user_with_role(Role.ADMIN, forbund=forbund, username="admin")
    user_with_role(Role.MENTOR, insats=insats, username="mentor")
    _login(client, "admin")
    assert client.get(reverse("admin_home")).url.startswith(reverse("two_factor"))
    client.post(reverse("logout"))
    _login(client, "mentor")
    assert client.get(reverse("mentor_home")).status_code == 200
