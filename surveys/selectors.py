"""Reads for instruments. Instruments hold no personal data, so these selectors take no user."""

from dataclasses import dataclass
from itertools import groupby

from surveys.models import (
    DEFAULT_LANGUAGE,
    ITEMS_ASKED_IN,
    LANGUAGES,
    WORDING_FOR,
    InstrumentVersion,
    Item,
    Scale,
    VersionStatus,
)


@dataclass(frozen=True)
class FormStage:
    first: int
    last: int
    label: str


@dataclass(frozen=True)
class FormOption:
    value: int
    label: str
    positive: bool


@dataclass(frozen=True)
class FormScale:
    code: str
    kind: str
    min_value: int | None
    max_value: int | None
    unit: str
    stages: tuple[FormStage, ...]
    options: tuple[FormOption, ...]


@dataclass(frozen=True)
class FormItem:
    code: str
    text: str
    required: bool
    scale: FormScale


@dataclass(frozen=True)
class FormDimension:
    code: str
    label: str
    is_rating: bool
    items: tuple[FormItem, ...]


@dataclass(frozen=True)
class InstrumentForm:
    version: InstrumentVersion
    perspective: str
    language: str
    dimensions: tuple[FormDimension, ...]


def instrument_version_current(*, code: str) -> InstrumentVersion | None:
    """The latest published version of an instrument: the one new sessions use."""
    return (
        InstrumentVersion.objects.select_related("instrument")
        .filter(instrument__code=code, status=VersionStatus.PUBLISHED)
        .order_by("-number")
        .first()
    )


def instrument_version_form(*, version: InstrumentVersion, perspective: str, language: str) -> InstrumentForm:
    """The dimensions and items one perspective answers, in order, worded in the language (else Swedish)."""
    if perspective not in ITEMS_ASKED_IN:
        raise ValueError(f"Okänt perspektiv: {perspective}")
    if language not in LANGUAGES:
        raise ValueError(f"Okänt språk: {language}")
    items = (
        Item.objects.filter(version=version, applies_to__in=ITEMS_ASKED_IN[perspective])
        .select_related("dimension", "scale")
        .order_by("dimension__order", "order")
    )
    wording = WORDING_FOR[perspective]
    scales: dict[int, FormScale] = {}
    dimensions = []
    for dimension, dimension_items in groupby(items, key=lambda item: item.dimension):
        form_items = []
        for item in dimension_items:
            if item.scale_id not in scales:
                scales[item.scale_id] = _form_scale(item.scale, language)
            form_items.append(
                FormItem(
                    code=item.code,
                    text=_in_language(item.texts[wording], language),
                    required=item.required,
                    scale=scales[item.scale_id],
                )
            )
        dimensions.append(
            FormDimension(
                code=dimension.code,
                label=_in_language(dimension.label, language),
                is_rating=dimension.is_rating,
                items=tuple(form_items),
            )
        )
    return InstrumentForm(version=version, perspective=perspective, language=language, dimensions=tuple(dimensions))


def _form_scale(scale: Scale, language: str) -> FormScale:
    return FormScale(
        code=scale.code,
        kind=scale.kind,
        min_value=scale.min_value,
        max_value=scale.max_value,
        unit=_in_language(scale.unit, language) if scale.unit else "",
        stages=tuple(
            FormStage(first=stage["from"], last=stage["to"], label=_in_language(stage["label"], language))
            for stage in scale.stages
        ),
        options=tuple(
            FormOption(
                value=option["value"], label=_in_language(option["label"], language), positive=option["positive"]
            )
            for option in scale.options
        ),
    )


def _in_language(texts: dict[str, str], language: str) -> str:
    """Every text has Swedish (the loader requires it); other languages fall back to it."""
    return texts.get(language) or texts[DEFAULT_LANGUAGE]
