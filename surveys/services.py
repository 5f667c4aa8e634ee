"""Writes for instruments. Instrument content is created only here, from a parsed definition file."""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from surveys.loading import InstrumentDefinition, InstrumentDefinitionError
from surveys.models import Dimension, Instrument, InstrumentVersion, Item, Scale, VersionStatus


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
    """Publish a definition as the instrument's next version, unless the latest published one has the same content."""
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
    latest = instrument.versions.filter(status=VersionStatus.PUBLISHED).order_by("-number").first()
    if latest is not None and latest.content_hash == definition.content_hash:
        return latest, False
    last_number = instrument.versions.aggregate(last=Max("number"))["last"] or 0
    version = InstrumentVersion.objects.create(
        instrument=instrument, number=last_number + 1, content_hash=definition.content_hash
    )
    instrument_version_update(version=version, definition=definition)
    return instrument_version_publish(version=version), True


@transaction.atomic
def instrument_version_update(*, version: InstrumentVersion, definition: InstrumentDefinition) -> InstrumentVersion:
    """Replace a draft version's scales, dimensions and items with the definition's; a published version refuses."""
    version = InstrumentVersion.objects.select_for_update().select_related("instrument").get(pk=version.pk)
    if version.is_published:
        raise InstrumentVersionImmutable(version)
    if definition.code != version.instrument.code:
        raise ValueError(f"Definitionen gäller {definition.code}, inte {version.instrument.code}")
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
                {"value": option.value, "label": option.label, "positive": option.positive} for option in scale.options
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
