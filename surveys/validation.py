"""Check a set of answers against the instrument version they are given on.

Every answer submission (mentor, self and agreed sessions, satisfaction surveys) goes through
validate_answers before anything is stored. Answers are {item code: value}; every value is an
integer (see docs/instruments.md), and None or a missing key means "not answered".
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.languages import active_language
from surveys.models import (
    ITEMS_ASKED_IN,
    WORDING_FOR,
    InstrumentVersion,
    Item,
    Perspective,
    ScaleKind,
)
from surveys.selectors import instrument_version_items

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

FORM_NAME: dict[str, "StrOrPromise"] = {
    Perspective.SELF: gettext_lazy("självskattningen"),
    Perspective.MENTOR: gettext_lazy("handledarens bedömning"),
    Perspective.AGREED: gettext_lazy("den gemensamma bedömningen"),
}


def validate_answers(
    *, version: InstrumentVersion, perspective: str, answers: Mapping[str, object], require_answers: bool = True
) -> dict[str, str]:
    """Error messages by item code for answers given in one perspective, in the active language (the
    participant's on their pages), each naming the question as the form showed it; empty means valid.

    With require_answers=False (a draft), required items may still be unanswered."""
    if perspective not in ITEMS_ASKED_IN:
        raise ValueError(f"Okänt perspektiv: {perspective}")
    asked = ITEMS_ASKED_IN[perspective]
    items = instrument_version_items(version=version)
    errors: dict[str, str] = {}
    for code, value in answers.items():
        item = items.get(code)
        if item is None:
            errors[code] = _("Okänd fråga: %(code)s") % {"code": code}
        elif item.applies_to not in asked:
            errors[code] = _("Frågan %(question)s ingår inte i %(form)s.") % {
                "question": _question(item, perspective),
                "form": FORM_NAME[perspective],
            }
        elif value is not None:
            message = _value_error(item, perspective, value)
            if message:
                errors[code] = message
    for code, item in items.items():
        if require_answers and item.required and item.applies_to in asked and answers.get(code) is None:
            errors[code] = _("Svara på frågan %(question)s") % {"question": _question(item, perspective)}
    return errors


def validated_values(answers: Mapping[str, object]) -> dict[str, int | None]:
    """Answers that validate_answers has found valid, as what they then are: an integer per item, or
    None for "not answered"."""
    values: dict[str, int | None] = {}
    for code, value in answers.items():
        if value is not None and not isinstance(value, int):
            raise ValueError(f"Svaret på {code} är inte validerat: {value!r}")
        values[code] = value
    return values


def _question(item: Item, perspective: str) -> str:
    """The question in words, as the form showed it in the active language (its code only if it has no
    wording at all)."""
    texts: dict[str, str] = item.texts.get(WORDING_FOR.get(perspective, "")) or next(iter(item.texts.values()), {})
    text = texts.get(active_language().key) or texts.get("sv") or item.code
    return f"”{text}”"


def _value_error(item: Item, perspective: str, value: object) -> str | None:
    """Why a value does not fit the scale, or None when it does."""
    scale, question = item.scale, _question(item, perspective)
    if not isinstance(value, int) or isinstance(value, bool):
        return _("Svaret på frågan %(question)s måste vara ett heltal, inte %(value)s.") % {
            "question": question,
            "value": repr(value),
        }
    if scale.kind in (ScaleKind.LADDER, ScaleKind.NUMBER):
        lowest, highest = scale.bounds()
        if not lowest <= value <= highest:
            return _("Svaret på frågan %(question)s måste vara ett heltal mellan %(min)s och %(max)s.") % {
                "question": question,
                "min": lowest,
                "max": highest,
            }
        return None
    if value not in scale.option_values:
        key = active_language().key
        choices = ", ".join(
            f"{option['value']} ({option['label'].get(key) or option['label']['sv']})" for option in scale.options
        )
        return _("Svaret på frågan %(question)s måste vara ett av värdena %(choices)s.") % {
            "question": question,
            "choices": choices,
        }
    return None
