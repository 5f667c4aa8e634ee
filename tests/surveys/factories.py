"""Instrument definitions for tests: small, valid, and easy to change one key at a time."""

import itertools
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

from django.utils import timezone

from participants.models import ConsentPurpose, Forbund, Participant, Role
from participants.services import consent_record, enrolment_create
from surveys.demo import INSTRUMENTS_DIR, seed_instruments
from surveys.loading import InstrumentDefinition, parse_definition, read_definition_file
from surveys.models import (
    ITEMS_ASKED_IN,
    Answer,
    AppliesTo,
    AssessmentSession,
    InstrumentVersion,
    Item,
    ScaleKind,
    SurveyCampaign,
)
from surveys.selectors import instrument_version_current
from surveys.services import instrument_load, instrument_version_update
from tests.factories import (
    ForbundFactory,
    InsatsFactory,
    register_identified,
    synthetic_personnummer,
    user_with_role,
)


def definition_data(**changes: Any) -> dict[str, Any]:
    """A definition as read from YAML: one scale of each kind; items for self, mentor and both."""
    data: dict[str, Any] = {
        "code": "test-instrument",
        "name": "Testinstrument",
        "purpose": "progression",
        "scales": [
            {
                "code": "stege",
                "kind": "ladder",
                "min": 1,
                "max": 10,
                "stages": [
                    {"from": 1, "to": 5, "label": {"sv": "Låg"}},
                    {"from": 6, "to": 10, "label": {"sv": "Hög", "en": "High"}},
                ],
            },
            {
                "code": "val",
                "kind": "choice",
                "options": [
                    {"value": 3, "label": {"sv": "Ja", "en": "Yes"}, "positive": True},
                    {"value": 2, "label": {"sv": "Kanske"}},
                    {"value": 1, "label": {"sv": "Nej", "en": "No"}},
                ],
            },
            {"code": "ja_nej", "kind": "yes_no"},
            {"code": "timmar", "kind": "number", "min": 0, "max": 60, "unit": {"sv": "timmar", "en": "hours"}},
        ],
        "dimensions": [
            {
                "code": "halsa",
                "label": {"sv": "Hälsa", "en": "Health", "sv_lattlast": "Må bra"},
                "items": [
                    {
                        "code": "halsa_1",
                        "scale": "stege",
                        "texts": {
                            "self": {"sv": "Jag mår bra.", "en": "I feel well.", "sv_lattlast": "Jag mår bra nu."},
                            "mentor": {"sv": "Deltagaren mår bra."},
                        },
                    },
                    {
                        "code": "halsa_2",
                        "scale": "stege",
                        "reverse_coded": True,
                        "texts": {"self": {"sv": "Jag har ont."}, "mentor": {"sv": "Deltagaren har ont."}},
                    },
                ],
            },
            {
                "code": "ovrigt",
                "label": {"sv": "Övrigt"},
                "is_rating": False,
                "items": [
                    {
                        "code": "timmar",
                        "scale": "timmar",
                        "required": False,
                        "texts": {"self": {"sv": "Mina timmar i veckan"}, "mentor": {"sv": "Deltagarens timmar"}},
                    },
                    {"code": "kontakt", "scale": "ja_nej", "texts": {"self": {"sv": "Har du en kontakt?"}}},
                    {"code": "prognos", "scale": "val", "texts": {"mentor": {"sv": "Tror du på deltagaren?"}}},
                ],
            },
        ],
    }
    data.update(changes)
    return data


def definition(data: dict[str, Any] | None = None) -> InstrumentDefinition:
    return parse_definition(definition_data() if data is None else data, source="test.yaml")


def load(data: dict[str, Any] | None = None) -> tuple[InstrumentVersion, bool]:
    """Load a definition through the service, as `manage.py load_instrument` does."""
    return instrument_load(definition=definition(data))


def item_data(data: dict[str, Any], code: str) -> dict[str, Any]:
    """The item with this code inside definition data, for changing it in place."""
    return next(item for dimension in data["dimensions"] for item in dimension["items"] if item["code"] == code)


# --- Readings: the shipped instruments and an identified participant who may be measured ------

_personnummer_serials = itertools.count(101)


def shipped_version(code: str = "stegvis-progression") -> InstrumentVersion:
    """The current published version of a shipped instrument, loading the shipped files first."""
    seed_instruments()
    version = instrument_version_current(code=code)
    assert version is not None
    return version


def draft_copy(version: InstrumentVersion) -> InstrumentVersion:
    """An unpublished next version of a shipped instrument, with the same items."""
    draft = InstrumentVersion.objects.create(instrument=version.instrument, number=version.number + 1, content_hash="")
    path = INSTRUMENTS_DIR / f"{version.instrument.code}.yaml"
    return instrument_version_update(version=draft, definition=read_definition_file(path))


def valid_answers(version: InstrumentVersion, perspective: str, **overrides: Any) -> dict[str, Any]:
    """A complete, valid answer to every item the perspective is asked, with varied values.

    Derived from the version rather than spelled out, so the tests follow the shipped instrument.
    """
    answers: dict[str, Any] = {}
    items = (
        Item.objects.filter(version=version, applies_to__in=ITEMS_ASKED_IN[perspective])
        .select_related("scale")
        .order_by("dimension__order", "order")
    )
    for index, item in enumerate(items):
        scale = item.scale
        if scale.kind in (ScaleKind.LADDER, ScaleKind.NUMBER):
            answers[item.code] = scale.min_value + (index * 3 + len(perspective)) % (
                scale.max_value - scale.min_value + 1
            )
        else:
            answers[item.code] = scale.option_values[index % len(scale.option_values)]
    answers.update(overrides)
    return answers


def ladder_items(version: InstrumentVersion) -> list[str]:
    """Codes of the required ladder items asked in both perspectives, in form order."""
    return list(
        Item.objects.filter(version=version, scale__kind=ScaleKind.LADDER, applies_to=AppliesTo.BOTH, required=True)
        .order_by("dimension__order", "order")
        .values_list("code", flat=True)
    )


def mentor_only_item(version: InstrumentVersion) -> str:
    """The code of the (first) required item only the mentor is asked, e.g. the prognosis."""
    return (
        Item.objects.filter(version=version, applies_to=AppliesTo.MENTOR, required=True)
        .order_by("dimension__order", "order")
        .values_list("code", flat=True)
        .first()
    )


def progression_consent(participant: Participant, *, by: Any, granted: bool) -> None:
    """Record (or withdraw) consent to progression measurement through the service."""
    consent_record(
        participant=participant,
        purpose=ConsentPurpose.PROGRESSION,
        granted=granted,
        recorded_by=by,
        channel="written",
        text_version="test-1",
    )


def measured_enrolment(
    *, forbund: Forbund | None = None, progression: bool = True, policy: str = "anonymise"
) -> SimpleNamespace:
    """An identified participant (synthetic personnummer) in an open enrolment, with a mentor.

    With progression=True the participant has consented to progression measurement.
    Returns a namespace with forbund, insats, mentor, participant and enrolment.
    """
    forbund = forbund or ForbundFactory(progression_withdrawal_policy=policy)
    insats = InsatsFactory(forbund=forbund)
    mentor = user_with_role(Role.MENTOR, insats=insats)
    participant = register_identified(
        forbund=forbund,
        by=mentor,
        personnummer=synthetic_personnummer(date(1990, 4, 17), serial=f"{next(_personnummer_serials) % 1000:03d}"),
    )
    if progression:
        progression_consent(participant, by=mentor, granted=True)
    enrolment = enrolment_create(
        by=mentor,
        participant=participant,
        insats=insats,
        start_date=timezone.localdate() - timedelta(days=30),
        mentor=mentor,
    )
    return SimpleNamespace(forbund=forbund, insats=insats, mentor=mentor, participant=participant, enrolment=enrolment)


def stored_readings() -> tuple[int, int]:
    """(sessions, answers) in the database, to show that a refused submission stored nothing."""
    return AssessmentSession.objects.count(), Answer.objects.count()


def open_survey(measured: SimpleNamespace, *, number_asked: int = 10) -> SurveyCampaign:
    """An anonymous survey (nns-pagaende) for the insats of a measured_enrolment(), on its start date."""
    from surveys.satisfaction import survey_campaign_create

    return survey_campaign_create(
        insats=measured.insats,
        version=shipped_version("nns-pagaende"),
        period_start=measured.enrolment.start_date,
        period_end=measured.enrolment.start_date,
        number_asked=number_asked,
        created_by=measured.mentor,
    )
