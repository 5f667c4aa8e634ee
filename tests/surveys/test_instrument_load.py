"""instrument_load: idempotent, versioning, and published versions never change."""

import pytest

from surveys.loading import InstrumentDefinitionError
from surveys.models import Dimension, Instrument, InstrumentVersion, Item, Scale, VersionStatus
from surveys.services import InstrumentVersionImmutable, instrument_version_publish, instrument_version_update
from tests.surveys.factories import definition, definition_data, item_data, load

pytestmark = pytest.mark.django_db


def _content(version: InstrumentVersion) -> list[tuple]:
    """Every stored row of a version, to compare before and after."""
    return [
        *Scale.objects.filter(version=version)
        .order_by("code")
        .values_list("id", "code", "kind", "min_value", "max_value", "unit", "stages", "options"),
        *Dimension.objects.filter(version=version).order_by("order").values_list("id", "code", "label", "is_rating"),
        *Item.objects.filter(version=version)
        .order_by("code")
        .values_list(
            "id", "code", "scale_id", "dimension_id", "order", "texts", "applies_to", "reverse_coded", "required"
        ),
        *InstrumentVersion.objects.filter(pk=version.pk).values_list(
            "number", "content_hash", "status", "published_at"
        ),
    ]


def test_first_load_publishes_version_1_with_all_rows():
    version, created = load()
    assert created is True
    assert (version.number, version.status) == (1, VersionStatus.PUBLISHED)
    assert version.published_at is not None
    assert version.content_hash == definition().content_hash
    assert (version.scales.count(), version.dimensions.count(), version.items.count()) == (4, 2, 5)
    item = Item.objects.select_related("scale", "dimension").get(version=version, code="halsa_2")
    assert (item.scale.code, item.dimension.code, item.order, item.reverse_coded) == ("stege", "halsa", 2, True)
    assert Item.objects.get(version=version, code="prognos").applies_to == "mentor"


def test_loading_the_same_definition_twice_gives_one_version():
    first, _ = load()
    before = _content(first)
    again, created = load()
    assert created is False
    assert again.pk == first.pk
    assert InstrumentVersion.objects.count() == 1
    assert _content(first) == before


def test_a_changed_definition_becomes_version_2_and_leaves_version_1_alone():
    first, _ = load()
    before = _content(first)
    data = definition_data()
    item_data(data, "halsa_1")["texts"]["self"]["sv"] = "Jag mår bra för det mesta."
    second, created = load(data)
    assert created is True
    assert second.number == 2
    assert second.content_hash != first.content_hash
    assert _content(first) == before
    assert Item.objects.get(version=first, code="halsa_1").texts["self"]["sv"] == "Jag mår bra."
    assert Item.objects.get(version=second, code="halsa_1").texts["self"]["sv"] == "Jag mår bra för det mesta."


def test_going_back_to_an_older_file_publishes_it_again_as_the_newest_version():
    load()
    data = definition_data()
    item_data(data, "halsa_1")["required"] = False
    load(data)
    third, created = load()
    assert (third.number, created) == (3, True)


def test_a_published_version_refuses_to_change():
    version, _ = load()
    before = _content(version)
    data = definition_data()
    item_data(data, "halsa_1")["texts"]["self"]["sv"] = "Ändrad text"
    with pytest.raises(InstrumentVersionImmutable, match="test-instrument version 1 är publicerad och kan inte ändras"):
        instrument_version_update(version=version, definition=definition(data))
    with pytest.raises(InstrumentVersionImmutable):
        instrument_version_publish(version=version)
    assert _content(version) == before


def test_a_draft_can_be_rewritten_until_it_is_published():
    instrument = Instrument.objects.create(code="test-instrument", name="Test", purpose="progression")
    draft = InstrumentVersion.objects.create(instrument=instrument, number=1, content_hash="")
    instrument_version_update(version=draft, definition=definition())
    data = definition_data()
    data["dimensions"].pop()
    data["scales"] = data["scales"][:1]
    instrument_version_update(version=draft, definition=definition(data))
    assert list(draft.items.values_list("code", flat=True).order_by("code")) == ["halsa_1", "halsa_2"]
    assert list(draft.scales.values_list("code", flat=True)) == ["stege"]
    published = instrument_version_publish(version=draft)
    assert published.content_hash == definition(data).content_hash
    assert published.is_published


def test_an_empty_draft_cannot_be_published():
    instrument = Instrument.objects.create(code="tom", name="Tom", purpose="progression")
    draft = InstrumentVersion.objects.create(instrument=instrument, number=1, content_hash="")
    with pytest.raises(ValueError, match="har inga frågor"):
        instrument_version_publish(version=draft)


def test_the_purpose_of_an_instrument_cannot_change():
    load()
    with pytest.raises(
        InstrumentDefinitionError, match="har syftet 'progression' och kan inte byta till 'satisfaction'"
    ):
        load(definition_data(purpose="satisfaction"))
    assert InstrumentVersion.objects.count() == 1


def test_a_new_name_renames_the_instrument_without_a_new_version():
    load()
    version, created = load(definition_data(name="Nytt namn"))
    assert (version.number, created) == (1, False)
    assert Instrument.objects.get().name == "Nytt namn"
