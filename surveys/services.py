"""Writes for instruments. Instrument content is created only here, from a parsed definition file."""

from functools import partial

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from surveys.attachments import pictogram_store
from surveys.loading import InstrumentDefinition, InstrumentDefinitionError, PictogramDefinition
from surveys.models import Dimension, Instrument, InstrumentVersion, Item, Scale, VersionStatus
from surveys.speech import recording_store, speech_generate_for_version


class InstrumentVersionImmutable(Exception):
    """A published instrument version was asked to change; load a new version instead."""

    def __init__(self, version: InstrumentVersion) -> None:
        super().__init__(
            f"{version.instrument.code} version {version.number} är publicerad och kan inte ändras; "
            "läs in definitionen igen så blir den en ny version"
        )
        self.version = version


@transaction.atomic
def instrument_load(*, definition: InstrumentDefinition) -> tuple[InstrumentVersion, bool]:
    """Publish a definition as the instrument's next version, unless the latest published one has the same content.

    Either way its pictograms and recordings are stored, and once committed the read-aloud clips of
    the version are generated (surveys.speech; a clip already made is kept)."""
    instrument, _ = Instrument.objects.select_for_update().get_or_create(
        code=definition.code, defaults={"name": definition.name, "purpose": definition.purpose}
    )
    if instrument.purpose != definition.purpose:
        # Reports select instruments by purpose; changing it would move old sessions between reports.
        raise InstrumentDefinitionError(
            f"{definition.source}: purpose: {instrument.code} har syftet '{instrument.purpose}' "
            f"och kan inte byta till '{definition.purpose}'; ge instrumentet en ny kod i stället"
        )
    if instrument.name != definition.name:
        # The name labels the instrument, not a version's content, so it is not versioned.
        instrument.name = definition.name
        instrument.save(update_fields=["name"])
    _attachments_store(definition)
    latest = instrument.versions.filter(status=VersionStatus.PUBLISHED).order_by("-number").first()
    if latest is not None and latest.content_hash == definition.content_hash:
        transaction.on_commit(partial(speech_generate_for_version, version=latest))
        return latest, False
    last_number = instrument.versions.aggregate(last=Max("number"))["last"] or 0
    version = InstrumentVersion.objects.create(
        instrument=instrument, number=last_number + 1, content_hash=definition.content_hash
    )
    instrument_version_update(version=version, definition=definition)
    version = instrument_version_publish(version=version)
    # After the commit: espeak-ng takes a moment per text, and the instrument is not locked meanwhile.
    transaction.on_commit(partial(speech_generate_for_version, version=version))
    return version, True


def _attachments_store(definition: InstrumentDefinition) -> None:
    """Copy the definition's pictograms and recordings into storage. Files are named by their content
    (a recording by its text), so storing one twice changes nothing and a rolled-back load leaves at
    most an unused file."""
    for pictogram in definition.pictograms():
        pictogram_store(pictogram.source)
    for language, text, recording in definition.recordings():
        recording_store(language=language, text=text, recording=recording)


def _pictogram(pictogram: PictogramDefinition | None) -> dict:
    return {"file": pictogram.file, "alt": pictogram.alt} if pictogram else {}


@transaction.atomic
def instrument_version_update(*, version: InstrumentVersion, definition: InstrumentDefinition) -> InstrumentVersion:
    """Replace a draft version's scales, dimensions and items with the definition's; a published version refuses."""
    version = InstrumentVersion.objects.select_for_update().select_related("instrument").get(pk=version.pk)
    if version.is_published:
        raise InstrumentVersionImmutable(version)
    if definition.code != version.instrument.code:
        raise ValueError(f"Definitionen gäller {definition.code}, inte {version.instrument.code}")
    for pictogram in definition.pictograms():  # the version refers to them by their stored name
        pictogram_store(pictogram.source)
    version.items.all().delete()
    version.dimensions.all().delete()
    version.scales.all().delete()
    scales = Scale.objects.bulk_create(
        Scale(
            version=version,
            code=scale.code,
            kind=scale.kind,
            min_value=scale.min_value,
            max_value=scale.max_value,
            unit=scale.unit,
            stages=[{"from": stage.first, "to": stage.last, "label": stage.label} for stage in scale.stages],
            options=[
                {"value": option.value, "label": option.label, "positive": option.positive}
                | ({"pictogram": _pictogram(option.pictogram)} if option.pictogram else {})
                for option in scale.options
            ],
        )
        for scale in definition.scales
    )
    dimensions = Dimension.objects.bulk_create(
        Dimension(
            version=version, code=dimension.code, order=order, label=dimension.label, is_rating=dimension.is_rating
        )
        for order, dimension in enumerate(definition.dimensions, start=1)
    )
    scale_by_code = {scale.code: scale for scale in scales}
    Item.objects.bulk_create(
        Item(
            version=version,
            dimension=dimension,
            scale=scale_by_code[item.scale],
            code=item.code,
            order=order,
            texts=item.texts,
            applies_to=item.applies_to,
            reverse_coded=item.reverse_coded,
            required=item.required,
            pictogram=_pictogram(item.pictogram),
        )
        for dimension, dimension_definition in zip(dimensions, definition.dimensions, strict=True)
        for order, item in enumerate(dimension_definition.items, start=1)
    )
    version.content_hash = definition.content_hash
    version.save(update_fields=["content_hash"])
    return version


@transaction.atomic
def instrument_version_publish(*, version: InstrumentVersion) -> InstrumentVersion:
    """Publish a draft version so sessions can use it; from then on it never changes."""
    version = InstrumentVersion.objects.select_for_update().select_related("instrument").get(pk=version.pk)
    if version.is_published:
        raise InstrumentVersionImmutable(version)
    if not version.items.exists():
        raise ValueError(f"{version} har inga frågor och kan inte publiceras")
    version.status = VersionStatus.PUBLISHED
    version.published_at = timezone.now()
    version.save(update_fields=["status", "published_at"])
    return version
