"""Check a set of answers against the instrument version they are given on.

Every answer submission (mentor, self and agreed sessions, satisfaction surveys) goes through
validate_answers before anything is stored. Answers are {item code: value}; every value is an
integer (see docs/instruments.md), and None or a missing key means "not answered".
"""

from collections.abc import Mapping

from surveys.models import ITEMS_ASKED_IN, InstrumentVersion, Perspective, Scale, ScaleKind
from surveys.selectors import instrument_version_items

FORM_NAME = {
    Perspective.SELF: "självskattningen",
    Perspective.MENTOR: "handledarens bedömning",
    Perspective.AGREED: "den gemensamma bedömningen",
}


def validate_answers(
    *, version: InstrumentVersion, perspective: str, answers: Mapping[str, object], require_answers: bool = True
) -> dict[str, str]:
    """Swedish error messages by item code for answers given in one perspective; an empty dict means valid.

    With require_answers=False (a draft), required items may still be unanswered."""
    if perspective not in ITEMS_ASKED_IN:
        raise ValueError(f"Okänt perspektiv: {perspective}")
    asked = ITEMS_ASKED_IN[perspective]
    items = instrument_version_items(version=version)
    errors: dict[str, str] = {}
    for code, value in answers.items():
        item = items.get(code)
        if item is None:
            errors[code] = f"Okänd fråga: {code}"
        elif item.applies_to not in asked:
            errors[code] = f"Fråga {code} ingår inte i {FORM_NAME[perspective]}"
        elif value is not None:
            message = _value_error(code, item.scale, value)
            if message:
                errors[code] = message
    for code, item in items.items():
        if require_answers and item.required and item.applies_to in asked and answers.get(code) is None:
            errors[code] = f"Fråga {code} måste besvaras"
    return errors


def _value_error(code: str, scale: Scale, value: object) -> str | None:
    """Why a value does not fit the scale, or None when it does."""
    if not isinstance(value, int) or isinstance(value, bool):
        return f"Svaret på fråga {code} måste vara ett heltal, inte {value!r}"
    if scale.kind in (ScaleKind.LADDER, ScaleKind.NUMBER):
        if not scale.min_value <= value <= scale.max_value:
            return f"Svaret på fråga {code} måste vara ett heltal mellan {scale.min_value} och {scale.max_value}"
        return None
    if value not in scale.option_values:
        choices = ", ".join(f"{option['value']} ({option['label']['sv']})" for option in scale.options)
        return f"Svaret på fråga {code} måste vara ett av värdena {choices}"
    return None
