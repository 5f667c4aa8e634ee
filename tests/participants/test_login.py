import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from participants.models import Role
from tests.factories import TEST_PASSWORD, InsatsFactory, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def mentor():
    return user_with_role(Role.MENTOR, insats=InsatsFactory(code="jonsbo", name="Jonsbo försteg"), username="anna")


def test_login_page_is_swedish(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "Logga in" in response.text
    assert "Lösenord" in response.text


def test_mentor_logs_in_and_sees_their_insats(client, mentor):
    response = client.post(reverse("login"), {"username": "anna", "password": TEST_PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("mentor_home")
    assert "Jonsbo försteg" in response.text


def test_wrong_password_is_refused_in_swedish(client, mentor):
    response = client.post(reverse("login"), {"username": "anna", "password": "fel"})
    assert response.status_code == 200
    assert "korrekt användarnamn och lösenord" in response.text


def test_login_is_locked_after_five_failures(client, mentor):
    for _ in range(5):
        client.post(reverse("login"), {"username": "anna", "password": "fel"})
    response = client.post(reverse("login"), {"username": "anna", "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert "tillfälligt spärrad" in response.text
    assert "_auth_user_id" not in client.session


def test_passwords_are_hashed_with_argon2(mentor):
    assert get_user_model().objects.get(username="anna").password.startswith("argon2")


def test_security_headers_on_every_page(client):
    response = client.get(reverse("login"))
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_logout_needs_post_and_ends_session(client, mentor):
    client.force_login(mentor)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("mentor_home")).status_code == 302
