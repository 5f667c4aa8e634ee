"""A staff user's own language: Svenska unless they choose English in the top bar, kept across logins.

The English catalogue is merged separately, so these tests look at what the choice does (the page's
lang attribute, the saved preference, the session), not at English words."""

import pytest
from django.urls import reverse

from config.languages import STAFF_LANGUAGE_SESSION_KEY
from participants.models import Role, StaffPreference
from tests.factories import TEST_PASSWORD, EnrolmentFactory, InsatsFactory, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def insats():
    return InsatsFactory(code="jonsbo", name="Jonsbo försteg")


@pytest.fixture
def anna(insats):
    return user_with_role(Role.MENTOR, insats=insats, username="anna")


@pytest.fixture
def bertil(insats):
    return user_with_role(Role.MENTOR, insats=insats, username="bertil")


def choose(client, language, came_from=None):
    """Choose a language on a page (its address is the Referer, as a browser sends it)."""
    came_from = came_from or reverse("mentor_home")
    referer = (
        f"http://testserver{came_from}" if came_from.startswith("/") and not came_from.startswith("//") else came_from
    )
    return client.post(reverse("staff_language"), {"language": language}, HTTP_REFERER=referer)


def test_the_top_bar_offers_each_language_in_itself(client, anna):
    client.force_login(anna)
    page = client.get(reverse("mentor_home")).text
    assert '<html lang="sv"' in page
    assert f'action="{reverse("staff_language")}"' in page
    assert 'value="sv" lang="sv" class="staff-language-option" aria-pressed="true">Svenska</button>' in page
    assert 'value="en" lang="en" class="staff-language-option" aria-pressed="false">English</button>' in page
    assert 'name="next"' not in page  # the page's address is not written into it


def test_the_way_back_never_repeats_the_address_query(client, anna):
    """A query may hold a personnummer (Mina deltagare's search); the page never writes it back."""
    client.force_login(anna)
    page = client.get(reverse("mentor_home"), {"q": "19880309-2025", "sortera": "namn"}).text
    assert "19880309" not in page


def test_choosing_english_saves_it_and_the_next_page_is_in_english(client, anna, insats):
    client.force_login(anna)
    back = reverse("insats_detail", args=[insats.code])

    response = choose(client, "en", back)

    assert response.status_code == 302
    assert response["Location"] == back
    assert StaffPreference.objects.get(user=anna).language == "en"
    assert client.session[STAFF_LANGUAGE_SESSION_KEY] == "en"
    page = client.get(back).text
    assert '<html lang="en"' in page
    assert 'value="en" lang="en" class="staff-language-option" aria-pressed="true">' in page


def test_back_to_swedish(client, anna):
    client.force_login(anna)
    choose(client, "en")
    choose(client, "sv")
    assert StaffPreference.objects.get(user=anna).language == "sv"
    assert '<html lang="sv"' in client.get(reverse("mentor_home")).text


@pytest.mark.parametrize("language", ["de", "", "sv_lattlast", "ar"])
def test_an_unknown_language_is_refused_in_swedish_and_changes_nothing(client, anna, language):
    client.force_login(anna)

    response = choose(client, language)

    assert response.status_code == 400
    assert "Okänt språk" in response.content.decode()
    assert not StaffPreference.objects.filter(user=anna).exists()
    assert client.session[STAFF_LANGUAGE_SESSION_KEY] == "sv"
    assert '<html lang="sv"' in client.get(reverse("mentor_home")).text


def test_the_choice_survives_logout_and_login(client, anna):
    client.post(reverse("login"), {"username": "anna", "password": TEST_PASSWORD})
    choose(client, "en")
    client.post(reverse("logout"))
    assert '<html lang="sv"' in client.get(reverse("login")).text  # logged out: the default

    client.post(reverse("login"), {"username": "anna", "password": TEST_PASSWORD})

    assert client.session[STAFF_LANGUAGE_SESSION_KEY] == "en"
    assert '<html lang="en"' in client.get(reverse("mentor_home")).text


def test_another_user_stays_in_swedish(client, anna, bertil):
    client.force_login(anna)
    choose(client, "en")
    client.post(reverse("logout"))

    client.post(reverse("login"), {"username": "bertil", "password": TEST_PASSWORD})

    assert client.session[STAFF_LANGUAGE_SESSION_KEY] == "sv"
    assert '<html lang="sv"' in client.get(reverse("mentor_home")).text
    assert not StaffPreference.objects.filter(user=bertil).exists()


@pytest.mark.parametrize(
    "unsafe",
    [
        "https://evil.example/",
        "//evil.example/deltagare/",
        "javascript:alert(1)",
        "http:///evil.example",
        "participant_detail",
        "logout",
    ],
)
def test_an_address_elsewhere_is_not_followed(client, anna, unsafe):
    client.force_login(anna)

    response = choose(client, "en", unsafe)

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert StaffPreference.objects.get(user=anna).language == "en"  # the choice itself still counts


def test_only_a_logged_in_user_chooses_and_only_by_post(client, anna):
    response = choose(client, "en")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not StaffPreference.objects.exists()

    client.force_login(anna)
    assert client.get(reverse("staff_language"), {"language": "en"}).status_code == 405
    assert not StaffPreference.objects.exists()


def test_the_staff_pages_open_in_english(client, anna, insats):
    """Every marked page still renders when the user's language is English (a msgid and its
    placeholders, whichever catalogue is merged)."""
    enrolment = EnrolmentFactory(insats=insats, mentor=anna)
    coordinator = user_with_role(Role.COORDINATOR, insats=insats, username="cecilia")
    pseudonym = enrolment.participant.pseudonym
    pages = [
        reverse("mentor_home"),
        reverse("insats_detail", args=[insats.code]),
        reverse("participant_detail", args=[pseudonym]),
        reverse("participant_register"),
        reverse("enrolment_close", args=[pseudonym, enrolment.pk]),
        reverse("mentor_change", args=[pseudonym, enrolment.pk]),
        reverse("journey", args=[enrolment.pk]),
        reverse("conversation_hub", args=[enrolment.pk]),
        reverse("self_link_new", args=[enrolment.pk]),
        reverse("campaign_list", args=[insats.code]),
        reverse("api_token"),
    ]
    client.force_login(anna)
    choose(client, "en")
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert '<html lang="en"' in response.text, page

    client.force_login(coordinator)
    choose(client, "en")
    for page in [reverse("report_dashboard"), reverse("norms"), reverse("report_periods"), reverse("analysis_export")]:
        response = client.get(page)
        assert response.status_code == 200, page
        assert '<html lang="en"' in response.text, page
