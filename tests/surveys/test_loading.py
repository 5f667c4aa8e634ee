"""Parsing definition files: what an operator sees when a file is right, and when it is wrong."""

import pytest
import yaml

from surveys.loading import InstrumentDefinitionError, parse_definition_text, read_definition_file
from tests.surveys.factories import definition, definition_data, item_data


def _error(data: dict) -> str:
    with pytest.raises(InstrumentDefinitionError) as caught:
        definition(data)
    return str(caught.value)


def test_a_valid_definition_becomes_dataclasses_with_defaults_filled_in():
    parsed = definition()
    assert [d.code for d in parsed.dimensions] == ["halsa", "ovrigt"]
    assert parsed.item_count == 5
    halsa_1, halsa_2 = parsed.dimensions[0].items
    assert (halsa_1.required, halsa_1.reverse_coded, halsa_2.reverse_coded) == (True, False, True)
    assert parsed.dimensions[0].is_rating is True
    assert parsed.dimensions[1].is_rating is False
    applies_to = {item.code: item.applies_to for dimension in parsed.dimensions for item in dimension.items}
    assert applies_to == {
        "halsa_1": "both",
        "halsa_2": "both",
        "timmar": "both",
        "kontakt": "self",
        "prognos": "mentor",
    }
    yes_no = next(scale for scale in parsed.scales if scale.kind == "yes_no")
    assert [(o.value, o.label["sv"], o.positive) for o in yes_no.options] == [(1, "Ja", True), (0, "Nej", False)]


def test_hash_ignores_comments_layout_key_order_and_name():
    data = definition_data()
    reordered = {key: data[key] for key in reversed(list(data))}
    text = "# En kommentar\n" + yaml.safe_dump(reordered, allow_unicode=True, default_flow_style=True)
    text = text.replace("Testinstrument", "Nytt namn")
    assert parse_definition_text(text, source="a.yaml").content_hash == definition(data).content_hash


@pytest.mark.parametrize(
    "change",
    [
        lambda data: item_data(data, "halsa_1")["texts"]["self"].update(en="I am well."),
        lambda data: item_data(data, "halsa_1").update(required=False),
        lambda data: data["dimensions"][0]["items"].reverse(),
        lambda data: data["scales"][1]["options"][0].update(positive=False),
    ],
    ids=["text", "required", "item order", "positive flag"],
)
def test_hash_changes_with_anything_a_session_depends_on(change):
    data = definition_data()
    change(data)
    assert definition(data).content_hash != definition().content_hash


def test_malformed_yaml_names_the_file_and_line():
    text = "code: x\nname: X\nscales:\n  - code: a\n   kind: ladder\n"
    with pytest.raises(InstrumentDefinitionError) as caught:
        parse_definition_text(text, source="trasig.yaml")
    assert str(caught.value).startswith("trasig.yaml: ogiltig YAML på rad 5, kolumn 4: ")


def test_a_key_given_twice_is_refused_not_silently_overwritten():
    text = "code: x\nname: X\nname: Y\n"
    with pytest.raises(InstrumentDefinitionError) as caught:
        parse_definition_text(text, source="dubbel.yaml")
    assert str(caught.value) == "dubbel.yaml: ogiltig YAML på rad 3, kolumn 1: nyckeln 'name' förekommer två gånger"


def test_missing_top_level_keys_are_listed():
    data = definition_data()
    del data["dimensions"], data["purpose"]
    assert _error(data) == "test.yaml: saknar nycklarna 'dimensions', 'purpose'"


def test_missing_item_key_names_the_dimension_and_item_by_code():
    data = definition_data()
    del item_data(data, "halsa_2")["texts"]
    assert _error(data) == "test.yaml: dimensions[halsa].items[halsa_2]: saknar nyckeln 'texts'"


def test_entry_without_code_is_named_by_position():
    data = definition_data()
    del data["dimensions"][1]["code"]
    assert _error(data) == "test.yaml: dimensions[#2]: saknar nyckeln 'code'"


def test_text_without_swedish_is_refused():
    data = definition_data()
    item_data(data, "halsa_1")["texts"]["mentor"] = {"en": "The participant is well."}
    assert _error(data) == "test.yaml: dimensions[halsa].items[halsa_1].texts.mentor: saknar nyckeln 'sv'"


def test_unknown_scale_lists_the_defined_ones():
    data = definition_data()
    item_data(data, "halsa_1")["scale"] = "stegen"
    assert _error(data) == (
        "test.yaml: dimensions[halsa].items[halsa_1].scale: okänd skala 'stegen' "
        "(definierade skalor: stege, val, ja_nej, timmar)"
    )


def test_misspelt_key_is_refused_rather_than_ignored():
    data = definition_data()
    item_data(data, "halsa_2")["reverse_coed"] = True
    assert "dimensions[halsa].items[halsa_2]: okänd nyckel 'reverse_coed'" in _error(data)


def test_unknown_language_is_refused():
    data = definition_data()
    item_data(data, "halsa_1")["texts"]["self"]["sv_lättläst"] = "Jag mår bra."
    assert "texts.self: okänd nyckel 'sv_lättläst' (tillåtna: ar, en, sv, sv_lattlast)" in _error(data)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("stars", "scales[stege].kind: okänd skaltyp 'stars' (tillåtna: ladder, choice, yes_no, number)"),
        ("number", "scales[stege]: okänd nyckel 'stages' (tillåtna: code, kind, max, min, unit)"),
        ("choice", "scales[stege]: saknar nyckeln 'options'"),
    ],
)
def test_scale_keys_are_checked_for_the_scale_kind(kind, message):
    data = definition_data()
    data["scales"][0]["kind"] = kind
    assert _error(data) == f"test.yaml: {message}"


def test_ladder_stages_must_cover_the_whole_range_in_order():
    data = definition_data()
    data["scales"][0]["stages"][1]["from"] = 7
    assert _error(data) == "test.yaml: scales[stege].stages[#2].from: ska vara 6 (stegen ska täcka 1–10 i ordning)"
    data["scales"][0]["stages"][1].update({"from": 6, "to": 9})
    assert _error(data) == "test.yaml: scales[stege].stages: stegen slutar på 9 men skalan går till 10"


def test_choice_values_must_be_distinct_integers():
    data = definition_data()
    data["scales"][1]["options"][1]["value"] = 3
    assert _error(data) == "test.yaml: scales[val].options: värdet '3' förekommer mer än en gång"
    data["scales"][1]["options"][1]["value"] = "2"
    assert _error(data) == "test.yaml: scales[val].options[#2].value: ska vara ett heltal, inte '2'"


def test_unquoted_no_is_explained():
    data = definition_data()
    data["scales"][1]["options"][2]["label"]["en"] = False  # what YAML makes of `en: No`
    assert "options[#3].label.en: ska vara en text, inte False (skriv ord som yes, no" in _error(data)


def test_item_codes_are_unique_across_dimensions():
    data = definition_data()
    item_data(data, "kontakt")["code"] = "halsa_1"
    assert _error(data) == "test.yaml: dimensions: frågekoden 'halsa_1' förekommer mer än en gång"


def test_reverse_coding_needs_a_ladder():
    data = definition_data()
    item_data(data, "prognos")["reverse_coded"] = True
    assert _error(data).endswith("items[prognos].reverse_coded: omvänd kodning kräver en skala av typen ladder")


def test_an_unused_scale_is_reported():
    data = definition_data()
    item_data(data, "kontakt")["scale"] = "val"
    assert _error(data) == "test.yaml: scales[ja_nej]: skalan används inte av någon fråga"


def test_item_needs_a_wording_for_some_perspective():
    data = definition_data()
    item_data(data, "kontakt")["texts"] = {}
    assert _error(data).endswith("items[kontakt].texts: behöver minst en formulering (self eller mentor)")


def test_unknown_purpose_and_bad_code_are_refused():
    assert "purpose: okänt syfte 'nöjdhet'" in _error(definition_data(purpose="nöjdhet"))
    assert "code: 'Mitt Instrument' är ingen giltig kod" in _error(definition_data(code="Mitt Instrument"))


def test_missing_file_is_reported_with_its_path(tmp_path):
    with pytest.raises(InstrumentDefinitionError, match=r"saknas\.yaml: kan inte läsas"):
        read_definition_file(tmp_path / "saknas.yaml")
