"""Anonymous participant satisfaction surveys (NNS-style): campaigns per insats and period."""

import secrets
import uuid
from collections.abc import Mapping
from datetime import date

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from participants.models import Insats
from surveys.models import (
    InstrumentPurpose,
    InstrumentVersion,
    Item,
    Perspective,
    SurveyAnswer,
    SurveyCampaign,
    SurveyResponse,
)
from surveys.validation import validate_answers, validated_values

MAX_ASKED = 100_000  # more than any insats asks; the column is a 32-bit integer


def _asked_error(number_asked: int) -> str:
    if number_asked < 1:
        return "Ange hur många som tillfrågas (minst 1)."
    if number_asked > MAX_ASKED:
        return "Antal tillfrågade kan vara högst 100 000."
    return ""


class SurveyClosed(Exception):
    """The survey link is unknown, closed or full; the message is for the respondent."""


def _full() -> SurveyClosed:
    return SurveyClosed(
        _(
            "Enkäten har redan fått lika många svar som antalet tillfrågade, så fler svar kan inte tas emot. "
            "Tack för att du ville svara!"
        )
    )


def survey_campaign_create(
    *,
    insats: Insats,
    version: InstrumentVersion,
    period_start: date,
    period_end: date,
    number_asked: int,
    created_by: User,
) -> SurveyCampaign:
    """Open an anonymous survey for an insats and period; the number asked gives the response rate."""
    errors: dict[str, str] = {}
    if version.instrument.purpose not in (InstrumentPurpose.SATISFACTION, InstrumentPurpose.EXIT_SURVEY):
        errors["version"] = "Välj en deltagarenkät."
    if not version.is_published:
        errors["version"] = "Enkätversionen är inte publicerad."
    if period_end < period_start:
        errors["period_end"] = "Periodens slut ligger före dess början."
    if problem := _asked_error(number_asked):
        errors["number_asked"] = problem
    if errors:
        raise ValidationError(errors)
    return SurveyCampaign.objects.create(
        insats=insats,
        version=version,
        period_start=period_start,
        period_end=period_end,
        number_asked=number_asked,
        token=secrets.token_urlsafe(32),
        created_by=created_by,
    )


@transaction.atomic
def survey_campaign_update(
    *, campaign: SurveyCampaign, number_asked: int | None = None, closed: bool | None = None
) -> SurveyCampaign:
    """Correct the number asked, or close/reopen the survey. The campaign row is locked, as every
    new response locks it, so that the number asked cannot slip below the responses."""
    campaign = SurveyCampaign.objects.select_for_update().get(pk=campaign.pk)
    if number_asked is not None:
        if problem := _asked_error(number_asked):
            raise ValidationError({"number_asked": problem})
        if number_asked < campaign.responses.count():
            raise ValidationError({"number_asked": "Antal tillfrågade kan inte vara färre än antalet svar."})
        campaign.number_asked = number_asked
    if closed is not None:
        campaign.closed = closed
    campaign.save(update_fields=["number_asked", "closed"])
    return campaign


def survey_campaign_open(*, token: str) -> SurveyCampaign:
    """The campaign behind a public survey link, if it takes answers."""
    campaign = SurveyCampaign.objects.select_related("insats", "version__instrument").filter(token=token).first()
    if campaign is None:
        raise SurveyClosed(_("Enkäten finns inte. Kontrollera länken."))
    if campaign.closed:
        raise SurveyClosed(_("Enkäten är stängd. Tack för att du ville svara!"))
    if campaign.responses.count() >= campaign.number_asked:
        raise _full()
    return campaign


def survey_response_submit(
    *, token: str, client_uuid: uuid.UUID | str, answers: Mapping[str, object]
) -> SurveyResponse:
    """Store one anonymous response (no person, only insats and period); a resubmission is harmless.
    A link takes at most as many responses as people were asked, so the response rate cannot pass
    100 %: the campaign row is locked while its responses are counted and the new one stored."""
    client_uuid = uuid.UUID(str(client_uuid))
    existing = SurveyResponse.objects.filter(client_uuid=client_uuid).first()
    if existing is not None:
        return existing
    campaign = survey_campaign_open(token=token)
    errors = validate_answers(version=campaign.version, perspective=Perspective.SELF, answers=answers)
    if not any(value is not None for value in answers.values()):
        errors["__all__"] = _("Svara på minst en fråga innan du skickar.")
    if errors:
        raise ValidationError(errors)
    values = validated_values(answers)
    items = dict(Item.objects.filter(version=campaign.version, code__in=list(answers)).values_list("code", "id"))
    try:
        with transaction.atomic():
            locked = SurveyCampaign.objects.select_for_update().get(pk=campaign.pk)
            stored = SurveyResponse.objects.filter(client_uuid=client_uuid).first()
            if stored is not None:  # the same answers sent twice at once: the first one stored them
                return stored
            if SurveyResponse.objects.filter(campaign=locked).count() >= locked.number_asked:
                raise _full()
            response = SurveyResponse.objects.create(
                campaign=campaign, client_uuid=client_uuid, submitted_on=timezone.localdate()
            )
            SurveyAnswer.objects.bulk_create(
                [SurveyAnswer(response=response, item_id=items[code], value=value) for code, value in values.items()]
            )
    except IntegrityError:
        return SurveyResponse.objects.get(client_uuid=client_uuid)
    return response
