"""Instrument definitions for tests: small, valid, and easy to change one key at a time."""

from typing import Any

from surveys.loading import InstrumentDefinition, parse_definition
from surveys.models import InstrumentVersion
from surveys.services import instrument_load


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
