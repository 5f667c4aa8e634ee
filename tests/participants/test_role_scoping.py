"""A mentor at Jonsbo sees nothing of Backaberg; a coordinator sees only their förbund."""

import pytest
from django.urls import reverse

from participants.models import Role
from tests.factories import EnrolmentFactory, ForbundFactory, InsatsFactory, UserFactory, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    sco = ForbundFactory(code="sco", name="Centrala Östergötland", pseudonym_prefix="SCÖ")
    svo = ForbundFactory(code="svo", name="Västra Östergötland", pseudonym_prefix="SVÖ")
    jonsbo = InsatsFactory(code="jonsbo", name="Jonsbo försteg", forbund=sco)
    backaberg = InsatsFactory(code="backaberg", name="Backaberg", forbund=sco)
    natursteget = InsatsFactory(code="natursteget", name="Natursteget", forbund=svo)
    mentor = user_with_role(Role.MENTOR, insats=jonsbo, username="mentor-jonsbo")
    return {
        "mentor": mentor,
        "coordinator": user_with_role(Role.COORDINATOR, forbund=sco, username="samordnare-sco"),
        "jonsbo_enrolment": EnrolmentFactory(insats=jonsbo, mentor=mentor),
        "backaberg_enrolment": EnrolmentFactory(insats=backaberg),
        "natursteget_enrolment": EnrolmentFactory(insats=natursteget),
    }


def test_mentor_sees_own_insats_page_with_its_participants(client, world):
    client.force_login(world["mentor"])
    response = client.get(reverse("insats_detail", args=["jonsbo"]))
    assert response.status_code == 200
    assert world["jonsbo_enrolment"].participant.pseudonym in response.text


@pytest.mark.parametrize("code", ["backaberg", "natursteget"])
def test_mentor_is_denied_other_insats_page(client, world, code):
    client.force_login(world["mentor"])
    response = client.get(reverse("insats_detail", args=[code]))
    assert response.status_code == 404
    assert world["backaberg_enrolment"].participant.pseudonym not in response.text


def test_mentor_home_lists_only_own_insats_participants(client, world):
    client.force_login(world["mentor"])
    response = client.get(reverse("mentor_home"))
    assert response.status_code == 200
    assert world["jonsbo_enrolment"].participant.pseudonym in response.text
    assert world["backaberg_enrolment"].participant.pseudonym not in response.text
    assert "Backaberg" not in response.text


def test_mentor_api_lists_only_own_insats(client, world):
    client.force_login(world["mentor"])
    response = client.get(reverse("api_insats_list"))
    assert response.status_code == 200
    assert [row["code"] for row in response.json()["results"]] == ["jonsbo"]


@pytest.mark.parametrize("url_name", ["api_insats_detail", "api_insats_enrolments"])
def test_mentor_api_denied_other_insats(client, world, url_name):
    client.force_login(world["mentor"])
    response = client.get(reverse(url_name, args=["backaberg"]))
    assert response.status_code == 404
    assert world["backaberg_enrolment"].participant.pseudonym not in response.text


def test_mentor_api_lists_own_insats_enrolments(client, world):
    client.force_login(world["mentor"])
    response = client.get(reverse("api_insats_enrolments", args=["jonsbo"]))
    assert response.status_code == 200
    assert [row["participant"] for row in response.json()["results"]] == [
        world["jonsbo_enrolment"].participant.pseudonym
    ]


def test_mentor_cannot_open_coordinator_or_admin_landing(client, world):
    client.force_login(world["mentor"])
    assert client.get(reverse("coordinator_home")).status_code == 403
    assert client.get(reverse("admin_home")).status_code == 403


def test_coordinator_sees_whole_forbund_but_not_other_forbund(client, world):
    client.force_login(world["coordinator"])
    codes = [row["code"] for row in client.get(reverse("api_insats_list")).json()["results"]]
    assert codes == ["backaberg", "jonsbo"]
    assert client.get(reverse("insats_detail", args=["backaberg"])).status_code == 200
    assert client.get(reverse("insats_detail", args=["natursteget"])).status_code == 404
    assert client.get(reverse("api_insats_detail", args=["natursteget"])).status_code == 404


def test_landing_page_follows_role(client, world):
    client.force_login(world["mentor"])
    assert client.get(reverse("home")).url == reverse("mentor_home")
    client.force_login(world["coordinator"])
    assert client.get(reverse("home")).url == reverse("coordinator_home")


def test_user_without_role_gets_no_data(client, world):
    client.force_login(UserFactory(username="ingen-roll"))
    assert client.get(reverse("home")).status_code == 403
    assert client.get(reverse("api_insats_list")).status_code == 403
    assert client.get(reverse("insats_detail", args=["jonsbo"])).status_code == 404


def test_anonymous_visitor_is_sent_to_login(client, world):
    response = client.get(reverse("mentor_home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert client.get(reverse("api_insats_list")).status_code == 401  # a script learns it is not logged in
