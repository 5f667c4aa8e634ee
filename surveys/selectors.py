"""Reads for instruments and readings. Instruments hold no personal data, so their selectors take no
user; enrolment_for_reading returns an enrolment and applies the user's scope."""

import uuid
from dataclasses import dataclass
from itertools import groupby
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Avg, Case, F, FloatField, QuerySet, Subquery, When

from participants import access
from participants.models import ConsentPurpose, Enrolment, consent_granted_subquery
from participants.selectors import AnyUser
from surveys.models import (
    DEFAULT_LANGUAGE,
    ITEMS_ASKED_IN,
    LANGUAGES,
    PROGRESSION_INSTRUMENT,
    WORDING_FOR,
    Answer,
    AssessmentSession,
    Dimension,
    InstrumentVersion,
    Item,
    Scale,
    ScaleKind,
    SessionStatus,
    SurveyResponse,
    VersionStatus,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


@dataclass(frozen=True)
class FormStage:
    first: int
    last: int
    label: str


@dataclass(frozen=True)
class FormPictogram:
    """A pictogram by its stored name (served by surveys.media) and its alt text in the form's language."""

    file: str
    alt: str


@dataclass(frozen=True)
class FormOption:
    value: int
    label: str
    positive: bool
    pictogram: FormPictogram | None = None


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
    pictogram: FormPictogram | None = None


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


# A published version never changes (surveys.services refuses, and a changed definition becomes a
# new version), so each process keeps the published versions it has read, and their items, for as
# long as it lives. A draft is always read from the database: its items may still be replaced.
_published_versions: dict[int, InstrumentVersion] = {}
_published_items: dict[int, dict[str, Item]] = {}


def instrument_version_get(*, pk: int) -> InstrumentVersion:
    """A version with its instrument, by id; a published one from this process's cache. The
    instrument's code and purpose never change; its name may have since (names are not versioned)."""
    version = _published_versions.get(pk)
    if version is None:
        version = InstrumentVersion.objects.select_related("instrument").get(pk=pk)
        if version.is_published:
            _published_versions[pk] = version
    return version


def instrument_version_items(*, version: InstrumentVersion) -> dict[str, Item]:
    """A version's items with their scales, by code in form order; a published version's from this
    process's cache. Validating and storing answers both read them."""
    items = _published_items.get(version.pk)
    if items is None:
        items = {item.code: item for item in Item.objects.filter(version=version).select_related("scale")}
        if version.is_published:
            _published_items[version.pk] = items
    return items


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
                    pictogram=_form_pictogram(item.pictogram, language),
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
                value=option["value"],
                label=_in_language(option["label"], language),
                positive=option["positive"],
                pictogram=_form_pictogram(option.get("pictogram"), language),
            )
            for option in scale.options
        ),
    )


def _form_pictogram(pictogram: dict | None, language: str) -> FormPictogram | None:
    return FormPictogram(file=pictogram["file"], alt=_in_language(pictogram["alt"], language)) if pictogram else None


def area_labels(*, language: str = DEFAULT_LANGUAGE) -> dict[str, str]:
    """Every instrument's area (dimension) names by code, in the language, a later version's wording
    winning. Pages, charts and exports name an area by this, never by its code."""
    rows = Dimension.objects.order_by("version__instrument__code", "version__number").values_list("code", "label")
    return {code: _in_language(label, language) for code, label in rows}


def progression_areas() -> dict[str, str]:
    """The areas a delmål can be tied to: the rating dimensions of the målbildssamtal's instrument."""
    version = instrument_version_current(code=PROGRESSION_INSTRUMENT)
    if version is None:
        return {}
    rows = version.dimensions.filter(is_rating=True).order_by("order").values_list("code", "label")
    return {code: _in_language(label, DEFAULT_LANGUAGE) for code, label in rows}


def ladder_stages(*, language: str = DEFAULT_LANGUAGE) -> tuple[FormStage, ...]:
    """The ladder's stages (1–2 Står still … 9–10 Klarar själv) of the målbildssamtal's instrument."""
    version = instrument_version_current(code=PROGRESSION_INSTRUMENT)
    scale = version.scales.filter(kind=ScaleKind.LADDER).first() if version else None
    return _form_scale(scale, language).stages if scale else ()


def stage_of(value: float | None, stages: tuple[FormStage, ...]) -> str:
    """The stage word of a ladder value: the stage it is in; a mean between two stages (4,5) belongs
    to the lower one, as in the stegförflyttning report."""
    if value is None or not stages:
        return ""
    reached = [stage for stage in stages if stage.first <= value]
    return (reached[-1] if reached else stages[0]).label


def _in_language(texts: dict[str, str], language: str) -> str:
    """Every text has Swedish (the loader requires it); other languages fall back to it."""
    return texts.get(language) or texts[DEFAULT_LANGUAGE]


# --- Readings -------------------------------------------------------------------------------


class ReadingChecks(TypedDict):
    """What enrolment_for_reading annotates an enrolment with."""

    progression_consent: bool
    reading_version_id: int | None


def enrolment_for_reading(
    *, user: AnyUser, enrolment_id: int, instrument_code: str, version_number: int | None = None
) -> "WithAnnotations[Enrolment, ReadingChecks] | None":
    """An enrolment the user may record readings for (access.enrolment_writable_by, which reads the
    user's memberships), with its participant and what a submission checks, in one query:
    `progression_consent` (the participant's consent in force to progression measurement) and
    `reading_version_id` (the given version of the instrument, else its latest published one; None
    if there is none)."""
    versions = InstrumentVersion.objects.filter(instrument__code=instrument_code)
    if version_number is None:
        versions = versions.filter(status=VersionStatus.PUBLISHED).order_by("-number")
    else:
        versions = versions.filter(number=version_number)
    enrolments = (
        Enrolment.objects.select_related("participant")
        .annotate(**access.ENROLMENT_PLACE)
        .annotate(
            progression_consent=consent_granted_subquery(purpose=ConsentPurpose.PROGRESSION),
            reading_version_id=Subquery(versions.values("pk")[:1]),
        )
    )
    try:
        enrolment = enrolments.get(pk=enrolment_id)
    except Enrolment.DoesNotExist:
        return None
    return enrolment if access.enrolment_writable_by(user, access.EnrolmentPlace.of(enrolment)) else None


def session_list_for_enrolment(*, enrolment: Enrolment, include_withdrawn: bool = False) -> QuerySet[AssessmentSession]:
    """Submitted readings of an enrolment, oldest first (the caller has checked scope)."""
    sessions = AssessmentSession.objects.filter(enrolment=enrolment, status=SessionStatus.SUBMITTED).select_related(
        "version__instrument", "recorded_by"
    )
    if not include_withdrawn:
        sessions = sessions.filter(consent_withdrawn=False)
    return sessions.order_by("occurred_at", "id")


def session_dimension_means(*, session_ids: list[int]) -> dict[int, dict[str, float]]:
    """Mean answer per rating dimension and session on the item scale, reverse-coded items turned
    (min + max − value). One SQL statement; the progression engine stores the 0–100 scores."""
    turned = Case(
        When(
            item__reverse_coded=True,
            then=F("item__scale__min_value") + F("item__scale__max_value") - F("value"),
        ),
        default=F("value"),
        output_field=FloatField(),
    )
    rows = (
        Answer.objects.filter(session_id__in=session_ids, value__isnull=False, item__dimension__is_rating=True)
        .values("session_id", "item__dimension__code")
        .annotate(mean=Avg(turned))
    )
    means: dict[int, dict[str, float]] = {}
    for row in rows:
        means.setdefault(row["session_id"], {})[row["item__dimension__code"]] = row["mean"]
    return means


def session_answers(*, session: AssessmentSession) -> dict[str, int | None]:
    """A session's answers by item code."""
    return dict(session.answers.values_list("item__code", "value"))


def answers_stored(*, client_uuid: object) -> bool:
    """Whether answers with this id (a survey response or a reading) are stored already: a device
    sending them again. False for a value that is not a UUID."""
    try:
        known = uuid.UUID(str(client_uuid))
    except ValueError:
        return False
    return (
        SurveyResponse.objects.filter(client_uuid=known).exists()
        or AssessmentSession.objects.filter(client_uuid=known).exists()
    )
