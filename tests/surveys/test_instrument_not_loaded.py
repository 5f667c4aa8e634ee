"""A new self-assessment link or survey before its instrument has a published version (the definition
file not yet loaded with manage.py load_instrument): the form says so, nothing is created."""

import pytest
from django.urls import reverse

from surveys.models import InstrumentVersion, SelfAssessmentLink, SurveyCampaign
from tests.surveys.factories import measured_enrolment

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    assert not InstrumentVersion.objects.exists()
    return measured_enrolment()


def test_a_self_assessment_link_without_a_progression_instrument_is_refused_with_a_message(client, world):
    client.force_login(world.mentor)
    response = client.post(reverse("self_link_new", args=[world.enrolment.pk]), {"language": "sv", "days": 7})
    assert response.status_code == 200
    assert "Inget stegförflyttningsinstrument är laddat. Be en administratör köra manage.py load_instrument." in (
        response.text
    )
    assert not SelfAssessmentLink.objects.exists()


def test_a_survey_without_its_instrument_is_refused_with_a_message(client, world):
    client.force_login(world.mentor)
    start = world.enrolment.start_date
    response = client.post(
        reverse("campaign_list", args=[world.insats.code]),
        {"instrument": "nns-avslut", "period_start": start, "period_end": start, "number_asked": 5},
    )
    assert response.status_code == 200
    assert "Enkäten är inte laddad. Be en administratör köra manage.py load_instrument." in response.text
    assert not SurveyCampaign.objects.exists()
