"""Anonymous satisfaction surveys (nns-pagaende): campaigns per insats and period, responses with no person."""

import uuid
from datetime import date

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from surveys.models import (
    AssessmentSession,
    Item,
    SelfAssessmentLink,
    SurveyAnswer,
    SurveyCampaign,
    SurveyResponse,
)
from surveys.satisfaction import (
    SurveyClosed,
    survey_campaign_create,
    survey_campaign_open,
    survey_campaign_update,
    survey_response_submit,
)
from tests.factories import InsatsFactory, UserFactory
from tests.surveys.factories import draft_copy, shipped_version

pytestmark = pytest.mark.django_db

PERIOD = {"period_start": date(2026, 1, 1), "period_end": date(2026, 6, 30)}


@pytest.fixture
def survey():
    return shipped_version("nns-pagaende")


@pytest.fixture
def insats():
    return InsatsFactory()


@pytest.fixture
def coordinator():
    return UserFactory()


@pytest.fixture
def campaign(survey, insats, coordinator):
    return survey_campaign_create(insats=insats, version=survey, number_asked=3, created_by=coordinator, **PERIOD)


def _stored() -> tuple[int, int]:
    return SurveyResponse.objects.count(), SurveyAnswer.objects.count()


def _answers(response: SurveyResponse) -> dict[str, int | None]:
    return dict(response.answers.values_list("item__code", "value"))


# --- Anonymity ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "links_to"), [(SurveyResponse, {SurveyCampaign}), (SurveyAnswer, {SurveyResponse, Item})]
)
def test_responses_have_no_link_to_a_person(model, links_to):
    """Only the campaign (insats and period) and the items: no participant, enrolment, session or user."""
    relations = [field for field in model._meta.get_fields() if field.is_relation]
    forward = {field.related_model for field in relations if field.concrete}
    personal = {
        field.name
        for field in relations
        if field.related_model._meta.app_label in {"participants", "auth"}
        or field.related_model._meta.label == settings.AUTH_USER_MODEL
        or field.related_model in {AssessmentSession, SelfAssessmentLink}
    }

    assert forward == links_to
    assert personal == set()


def test_a_response_stores_the_answers_and_only_a_date(campaign):
    response = survey_response_submit(token=campaign.token, client_uuid=uuid.uuid4(), answers={"nns_1": 6, "nns_4": 1})

    response.refresh_from_db()
    assert response.campaign == campaign
    assert response.submitted_on == timezone.localdate()
    assert _answers(response) == {"nns_1": 6, "nns_4": 1}
    assert {field.name for field in SurveyResponse._meta.concrete_fields} == {
        "id",
        "campaign",
        "client_uuid",
        "submitted_on",
        "record_key",  # a random number for the protection of external reports, nothing about the person
    }


# --- Responses ----------------------------------------------------------------------------------


def test_every_question_is_optional_but_each_answer_must_fit(campaign):
    response = survey_response_submit(token=campaign.token, client_uuid=uuid.uuid4(), answers={"nns_7": 3})

    assert _answers(response) == {"nns_7": 3}


def test_resubmitting_the_same_uuid_is_harmless(campaign):
    client_uuid = uuid.uuid4()
    first = survey_response_submit(token=campaign.token, client_uuid=client_uuid, answers={"nns_1": 6})

    again = [
        survey_response_submit(token=campaign.token, client_uuid=str(client_uuid), answers={"nns_1": 2})
        for _ in range(3)
    ]

    assert {response.pk for response in again} == {first.pk}
    assert _stored() == (1, 1)
    assert _answers(first) == {"nns_1": 6}


@pytest.mark.parametrize("answers", [{}, {"nns_1": None, "nns_2": None}])
def test_an_empty_response_is_refused(campaign, answers):
    with pytest.raises(ValidationError) as excinfo:
        survey_response_submit(token=campaign.token, client_uuid=uuid.uuid4(), answers=answers)

    assert "Svara på minst en fråga" in excinfo.value.message_dict["__all__"][0]
    assert _stored() == (0, 0)


@pytest.mark.parametrize(("code", "value"), [("nns_1", 7), ("nns_1", 0), ("nns_4", 3), ("nns_2", "5")])
def test_an_answer_outside_the_options_is_refused_with_a_message(campaign, code, value):
    with pytest.raises(ValidationError) as excinfo:
        survey_response_submit(token=campaign.token, client_uuid=uuid.uuid4(), answers={"nns_3": 4, code: value})

    assert list(excinfo.value.message_dict) == [code]
    message = excinfo.value.message_dict[code][0]
    assert message.startswith("Svaret på frågan ”") and code not in message, "the question in words, not its code"
    assert _stored() == (0, 0)


def test_an_unknown_question_is_refused(campaign):
    with pytest.raises(ValidationError) as excinfo:
        survey_response_submit(token=campaign.token, client_uuid=uuid.uuid4(), answers={"nns_1": 6, "nns_99": 6})

    assert list(excinfo.value.message_dict) == ["nns_99"]
    assert _stored() == (0, 0)


def test_a_closed_campaign_takes_no_responses(campaign):
    survey_campaign_update(campaign=campaign, closed=True)

    with pytest.raises(SurveyClosed, match="stängd"):
        survey_campaign_open(token=campaign.token)
    with pytest.raises(SurveyClosed, match="stängd"):
        survey_response_submit(token=campaign.token, client_uuid=uuid.uuid4(), answers={"nns_1": 6})
    assert _stored() == (0, 0)


def test_a_reopened_campaign_takes_responses_again(campaign):
    survey_campaign_update(campaign=campaign, closed=True)
    survey_campaign_update(campaign=campaign, closed=False)

    survey_response_submit(token=campaign.token, client_uuid=uuid.uuid4(), answers={"nns_1": 6})

    assert _stored() == (1, 1)


def test_an_unknown_link_takes_no_responses(campaign):
    with pytest.raises(SurveyClosed, match="finns inte"):
        survey_response_submit(token=campaign.token + "x", client_uuid=uuid.uuid4(), answers={"nns_1": 6})
    assert _stored() == (0, 0)


def test_a_link_takes_no_more_responses_than_people_asked_but_a_resubmission_still_answers(campaign):
    """A response rate above 100 % was reached by answering one link again and again."""
    first = uuid.uuid4()
    survey_response_submit(token=campaign.token, client_uuid=first, answers={"nns_1": 6})
    for _ in range(2):
        survey_response_submit(token=campaign.token, client_uuid=uuid.uuid4(), answers={"nns_1": 5})

    with pytest.raises(SurveyClosed, match="lika många svar som antalet tillfrågade"):
        survey_response_submit(token=campaign.token, client_uuid=uuid.uuid4(), answers={"nns_1": 4})

    assert _stored() == (3, 3)
    with pytest.raises(SurveyClosed, match="lika många svar"):  # the form says so before anyone answers
        survey_campaign_open(token=campaign.token)
    # the device whose first answer got no reply sends it again: it is answered, not refused
    assert survey_response_submit(token=campaign.token, client_uuid=first, answers={"nns_1": 6}).campaign == campaign
    survey_campaign_update(campaign=campaign, number_asked=4)  # more were asked after all
    survey_response_submit(token=campaign.token, client_uuid=uuid.uuid4(), answers={"nns_1": 4})
    assert _stored() == (4, 4)


@pytest.mark.django_db(transaction=True)
def test_responses_sent_at_the_same_moment_stop_at_the_number_asked(campaign):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    def submit(_: int) -> str:
        try:
            survey_response_submit(token=campaign.token, client_uuid=uuid.uuid4(), answers={"nns_1": 6})
            return "stored"
        except SurveyClosed:
            return "full"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(submit, range(12)))

    assert outcomes.count("stored") == 3 and outcomes.count("full") == 9
    assert SurveyResponse.objects.filter(campaign=campaign).count() == 3


# --- Campaigns ----------------------------------------------------------------------------------


def test_a_campaign_gets_an_unguessable_link_of_its_own(survey, insats, coordinator, campaign):
    other = survey_campaign_create(insats=insats, version=survey, number_asked=5, created_by=coordinator, **PERIOD)

    assert len(campaign.token) >= 40
    assert campaign.token != other.token
    assert survey_campaign_open(token=campaign.token) == campaign


def test_the_number_asked_cannot_fall_below_the_responses(campaign):
    for _ in range(2):
        survey_response_submit(token=campaign.token, client_uuid=uuid.uuid4(), answers={"nns_1": 6})

    with pytest.raises(ValidationError) as excinfo:
        survey_campaign_update(campaign=campaign, number_asked=1)

    assert "number_asked" in excinfo.value.message_dict
    campaign.refresh_from_db()
    assert campaign.number_asked == 3
    assert survey_campaign_update(campaign=campaign, number_asked=2).number_asked == 2


def test_the_number_asked_cannot_be_corrected_to_zero(campaign):
    with pytest.raises(ValidationError):
        survey_campaign_update(campaign=campaign, number_asked=0)
    campaign.refresh_from_db()
    assert campaign.number_asked == 3


def test_a_campaign_needs_at_least_one_asked(survey, insats, coordinator):
    with pytest.raises(ValidationError) as excinfo:
        survey_campaign_create(insats=insats, version=survey, number_asked=0, created_by=coordinator, **PERIOD)

    assert "number_asked" in excinfo.value.message_dict
    assert SurveyCampaign.objects.count() == 0


def test_a_campaign_asks_at_most_100_000(survey, insats, coordinator, campaign):
    with pytest.raises(ValidationError, match="högst 100 000"):
        survey_campaign_create(insats=insats, version=survey, number_asked=10**20, created_by=coordinator, **PERIOD)
    with pytest.raises(ValidationError, match="högst 100 000"):
        survey_campaign_update(campaign=campaign, number_asked=100_001)


def test_a_campaign_refuses_a_progression_instrument(insats, coordinator):
    progression = shipped_version("stegvis-progression")

    with pytest.raises(ValidationError) as excinfo:
        survey_campaign_create(insats=insats, version=progression, number_asked=3, created_by=coordinator, **PERIOD)

    assert excinfo.value.message_dict["version"] == ["Välj en deltagarenkät."]
    assert SurveyCampaign.objects.count() == 0


def test_a_campaign_refuses_an_unpublished_survey(survey, insats, coordinator):
    with pytest.raises(ValidationError) as excinfo:
        survey_campaign_create(
            insats=insats, version=draft_copy(survey), number_asked=3, created_by=coordinator, **PERIOD
        )

    assert "version" in excinfo.value.message_dict
    assert SurveyCampaign.objects.count() == 0


def test_a_campaign_period_ends_after_it_starts(survey, insats, coordinator):
    with pytest.raises(ValidationError) as excinfo:
        survey_campaign_create(
            insats=insats,
            version=survey,
            number_asked=3,
            created_by=coordinator,
            period_start=date(2026, 6, 30),
            period_end=date(2026, 1, 1),
        )

    assert "period_end" in excinfo.value.message_dict
    assert SurveyCampaign.objects.count() == 0


def test_the_exit_survey_can_run_as_a_campaign(insats, coordinator):
    exit_survey = shipped_version("nns-avslut")

    campaign = survey_campaign_create(
        insats=insats, version=exit_survey, number_asked=3, created_by=coordinator, **PERIOD
    )

    assert campaign.version == exit_survey
