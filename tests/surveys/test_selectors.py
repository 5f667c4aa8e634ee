"""instrument_version_current and instrument_version_form."""

import pytest

from surveys.models import InstrumentVersion
from surveys.selectors import instrument_version_current, instrument_version_form
from tests.surveys.factories import definition_data, item_data, load

pytestmark = pytest.mark.django_db


@pytest.fixture
def version():
    return load()[0]


def _texts(form):
    return {item.code: item.text for dimension in form.dimensions for item in dimension.items}


def test_current_version_is_the_latest_published(version):
    assert instrument_version_current(code="test-instrument") == version
    data = definition_data()
    item_data(data, "halsa_1")["required"] = False
    second, _ = load(data)
    # A draft with a higher number (a load in progress) is not current.
    InstrumentVersion.objects.create(instrument=version.instrument, number=3, content_hash="")
    assert instrument_version_current(code="test-instrument") == second


def test_no_current_version_for_an_unknown_instrument():
    assert instrument_version_current(code="finns-inte") is None


def test_self_form_has_the_self_items_in_order_with_self_wording(version, django_assert_num_queries):
    with django_assert_num_queries(1):
        form = instrument_version_form(version=version, perspective="self", language="sv")
    assert [(d.code, [i.code for i in d.items]) for d in form.dimensions] == [
        ("halsa", ["halsa_1", "halsa_2"]),
        ("ovrigt", ["timmar", "kontakt"]),
    ]
    assert _texts(form)["halsa_1"] == "Jag mår bra."
    assert [d.is_rating for d in form.dimensions] == [True, False]
    timmar = form.dimensions[1].items[0]
    assert (timmar.required, timmar.scale.kind, timmar.scale.min_value, timmar.scale.max_value) == (
        False,
        "number",
        0,
        60,
    )


def test_mentor_form_has_mentor_wording_and_mentor_only_items(version):
    form = instrument_version_form(version=version, perspective="mentor", language="sv")
    assert _texts(form) == {
        "halsa_1": "Deltagaren mår bra.",
        "halsa_2": "Deltagaren har ont.",
        "timmar": "Deltagarens timmar",
        "prognos": "Tror du på deltagaren?",
    }


def test_agreed_form_has_the_shared_items_in_the_participants_words(version):
    form = instrument_version_form(version=version, perspective="agreed", language="sv")
    assert _texts(form) == {"halsa_1": "Jag mår bra.", "halsa_2": "Jag har ont.", "timmar": "Mina timmar i veckan"}


def test_english_form_falls_back_to_swedish_where_a_text_is_missing(version):
    form = instrument_version_form(version=version, perspective="self", language="en")
    assert _texts(form)["halsa_1"] == "I feel well."
    assert _texts(form)["halsa_2"] == "Jag har ont."
    assert [d.label for d in form.dimensions] == ["Health", "Övrigt"]
    ladder = form.dimensions[0].items[0].scale
    assert [(s.first, s.last, s.label) for s in ladder.stages] == [(1, 5, "Låg"), (6, 10, "High")]
    assert form.dimensions[1].items[0].scale.unit == "hours"
    yes_no = form.dimensions[1].items[1].scale
    assert [(o.value, o.label, o.positive) for o in yes_no.options] == [(1, "Yes", True), (0, "No", False)]


def test_lattlast_form_uses_lattlast_texts_and_falls_back_to_swedish(version):
    form = instrument_version_form(version=version, perspective="self", language="sv_lattlast")
    assert _texts(form)["halsa_1"] == "Jag mår bra nu."
    assert _texts(form)["kontakt"] == "Har du en kontakt?"
    assert form.dimensions[0].label == "Må bra"


def test_unknown_language_is_refused(version):
    with pytest.raises(ValueError, match="Okänt språk: de"):
        instrument_version_form(version=version, perspective="self", language="de")
