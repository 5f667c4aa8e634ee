"""A participant's pages speak the participant's language: the link's, or the one they switch to,
down to the messages the server sends back and the lang/dir of the page."""

import json
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from surveys.models import SelfAssessmentLink
from surveys.sessions import self_link_create
from tests.surveys.factories import measured_enrolment, shipped_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def link():
    world = measured_enrolment()
    made, token = self_link_create(
        enrolment=world.enrolment, version=shipped_version(), created_by=world.mentor, language="en"
    )
    return made, token


def test_the_link_opens_in_its_own_language_and_can_be_switched(client, link):
    _, token = link
    page = client.get(reverse("public_self_form", args=[token]))
    assert '<html lang="en" dir="ltr">' in page.text
    assert "How are things going for you?" in page.text and "Hur går det för dig?" not in page.text
    assert page["Content-Language"] == "en"
    arabic = client.get(reverse("public_self_form", args=[token]), {"sprak": "ar"})
    assert '<html lang="ar" dir="rtl">' in arabic.text
    assert "كيف حالك" in arabic.text
    assert "ترجمة مسودة" in arabic.text or "مسودة" in arabic.text  # the draft note
    easy = client.get(reverse("public_self_form", args=[token]), {"sprak": "sv_lattlast"})
    assert '<html lang="sv" dir="ltr">' in easy.text
    assert "Det finns inga fel svar." in easy.text


def test_refusals_from_the_server_are_in_the_participants_language(client, link):
    _, token = link
    response = client.post(
        reverse("public_self_submit", args=[token]) + "?sprak=ar",
        json.dumps({"client_uuid": str(uuid.uuid4()), "answers": {}}),
        content_type="application/json",
    )
    assert response.status_code == 400
    messages = " ".join(response.json()["errors"].values())
    assert "أجب عن السؤال" in messages  # "Answer the question …", naming it in Arabic
    assert "Svara" not in messages and "Jag " not in messages
    assert not SelfAssessmentLink.objects.filter(used_at__isnull=False).exists()


def test_a_used_or_expired_link_says_so_in_its_own_language(client, link):
    made, token = link
    SelfAssessmentLink.objects.filter(pk=made.pk).update(expires_at=timezone.now() - timedelta(days=1))
    page = client.get(reverse("public_self_form", args=[token]))
    assert page.status_code == 410
    assert '<html lang="en"' in page.text and "The link has expired" in page.text
    unknown = client.get(reverse("public_self_form", args=["no-such-token"]), {"sprak": "ar"})
    assert unknown.status_code == 410 and '<html lang="ar" dir="rtl">' in unknown.text


def test_the_javascript_catalogue_is_served_per_language(client):
    arabic = client.get(reverse("javascript_catalog", args=["ar"]))
    assert arabic.status_code == 200 and "\\u0627" in arabic.text or "ا" in arabic.text
    assert "max-age=3600" in arabic["Cache-Control"]
    assert client.get(reverse("javascript_catalog", args=["xx"])).status_code == 404


def test_a_message_page_has_the_language_menu_and_read_aloud_and_is_not_indexed(client):
    page = client.get(reverse("public_self_form", args=["no-such-token"]), {"sprak": "en"})
    assert page.status_code == 410
    assert 'class="language-choice"' in page.text and "data-listen" in page.text
    assert page["X-Robots-Tag"] == "noindex, nofollow" and page["Referrer-Policy"] == "no-referrer"
    thanks = client.get(reverse("public_thanks"), {"sprak": "ar"})
    assert '<html lang="ar" dir="rtl">' in thanks.text and "شكرًا على إجاباتك" in thanks.text


def test_an_unknown_language_in_the_address_keeps_the_links_own(client, link):
    _, token = link
    page = client.get(reverse("public_self_form", args=[token]), {"sprak": "AR"})
    assert '<html lang="en"' in page.text
