"""The three instruments Stegvis ships load and say what domain/codes.md says they say."""

import pytest
from django.core.management import call_command

from surveys.demo import seed_instruments
from surveys.models import Instrument, InstrumentVersion, Item
from surveys.selectors import instrument_version_current
from surveys.validation import validate_answers

pytestmark = pytest.mark.django_db

NNS_QUESTIONS = [
    "Får du stöd på ett sätt som är till stor nytta för dig?",
    "Är du med och bestämmer vilket stöd du skall få?",
    "Får stödet ta den tid du behöver?",
    "Har du en person eller ett team du kan kontakta?",
    "Har det stöd du fått hjälpt dig att utveckla sätt att hantera din situation?",
    "Känner du dig mer redo att kunna arbeta eller studera jämfört med innan du fick kontakt med oss?",
    "Upplever du att personalen tar tillvara dina erfarenheter, kunskaper och synpunkter?",
]
NNS_EXIT_QUESTIONS = ["Har du hamnat i en bättre situation efter stödet?", "Har stödet varit bra?"]
RATING_DIMENSIONS = ["halsa", "vardag", "tilltro", "samarbete", "jobbsokande", "arbetsmarknad"]


@pytest.fixture
def shipped():
    seed_instruments()
    return {
        code: instrument_version_current(code=code) for code in ("stegvis-progression", "nns-pagaende", "nns-avslut")
    }


def _items(version):
    return list(Item.objects.filter(version=version).select_related("scale", "dimension"))


def test_seeding_is_idempotent_and_reports_each_instrument():
    assert seed_instruments() == [
        "stegvis-progression: version 1 publicerad (8 dimensioner, 14 frågor)",
        "nns-pagaende: version 1 publicerad (1 dimension, 7 frågor)",
        "nns-avslut: version 1 publicerad (1 dimension, 9 frågor)",
    ]
    assert seed_instruments() == [
        "stegvis-progression: oförändrad (version 1)",
        "nns-pagaende: oförändrad (version 1)",
        "nns-avslut: oförändrad (version 1)",
    ]
    assert InstrumentVersion.objects.count() == 3
    assert dict(Instrument.objects.values_list("code", "purpose")) == {
        "stegvis-progression": "progression",
        "nns-pagaende": "satisfaction",
        "nns-avslut": "exit_survey",
    }


def test_seed_demo_loads_the_instruments(capsys):
    call_command("seed_demo", password="demo-lösen-1")
    assert "Instrument stegvis-progression: version 1 publicerad" in capsys.readouterr().out
    assert InstrumentVersion.objects.count() == 3


def test_progression_has_six_rated_dimensions_of_two_ladder_items(shipped):
    version = shipped["stegvis-progression"]
    dimensions = list(version.dimensions.order_by("order"))
    assert [d.code for d in dimensions] == [*RATING_DIMENSIONS, "aktivitet", "prognos"]
    assert [d.is_rating for d in dimensions] == [True] * 6 + [False, False]
    items = _items(version)
    for code in RATING_DIMENSIONS:
        rated = [item for item in items if item.dimension.code == code]
        assert len(rated) == 2
        assert all(item.scale.code == "stege" and item.applies_to == "both" and item.required for item in rated)


def test_progression_ladder_has_five_stages_of_two_steps(shipped):
    scale = shipped["stegvis-progression"].scales.get(code="stege")
    assert (scale.kind, scale.min_value, scale.max_value) == ("ladder", 1, 10)
    assert [(s["from"], s["to"], s["label"]["sv"]) for s in scale.stages] == [
        (1, 2, "Står still"),
        (3, 4, "Tar emot stöd"),
        (5, 6, "Provar"),
        (7, 8, "Lär mig"),
        (9, 10, "Klarar själv"),
    ]


def test_progression_self_items_have_four_languages_and_mentor_items_a_swedish_wording(shipped):
    for item in _items(shipped["stegvis-progression"]):
        if item.applies_to in ("self", "both"):
            assert set(item.texts["self"]) == {"sv", "en", "sv_lattlast", "ar"}, item.code
            assert item.texts["self"]["sv"].startswith(("Jag", "Min")), item.code
        if item.applies_to in ("mentor", "both"):
            assert item.texts["mentor"]["sv"], item.code
    mentor_texts = [item.texts["mentor"]["sv"] for item in _items(shipped["stegvis-progression"])]
    assert sum(text.startswith("Deltagaren") for text in mentor_texts) == 13


def test_progression_items_are_positively_worded_with_activity_and_prognosis_items(shipped):
    items = {item.code: item for item in _items(shipped["stegvis-progression"])}
    assert [code for code, item in items.items() if item.reverse_coded] == []
    assert items["halsa_svackor"].texts["self"]["sv"].startswith("Jag vet vad jag kan göra när jag mår sämre")
    hours = items["aktivitet_timmar"]
    assert (hours.scale.kind, hours.scale.min_value, hours.scale.max_value, hours.dimension.is_rating) == (
        "number",
        0,
        60,
        False,
    )
    prognosis = items["prognos_12_manader"]
    assert prognosis.applies_to == "mentor"
    assert prognosis.texts["mentor"]["sv"] == "Tror du att deltagaren har arbete eller studerar inom 12 månader?"
    assert [(o["value"], o["label"]["sv"]) for o in prognosis.scale.options] == [
        (4, "Ja"),
        (3, "Troligen"),
        (2, "Tveksamt"),
        (1, "Nej"),
    ]


def test_nns_ongoing_asks_the_seven_national_questions_of_the_participant(shipped):
    items = _items(shipped["nns-pagaende"])
    assert [item.texts["self"]["sv"] for item in items] == NNS_QUESTIONS
    assert {item.applies_to for item in items} == {"self"}
    grade = items[0].scale
    assert [(o["value"], o["label"]["sv"], o["positive"]) for o in grade.options] == [
        (6, "Helt och hållet", True),
        (5, "Till mycket stor del", True),
        (4, "Till stor del", True),
        (3, "Delvis", False),
        (2, "Till liten del", False),
        (1, "Inte alls", False),
    ]
    assert [item.scale.kind for item in items] == ["choice"] * 3 + ["yes_no"] + ["choice"] * 3
    assert [(o["label"]["sv"], o["positive"]) for o in items[3].scale.options] == [("Ja", True), ("Nej", False)]


def test_nns_exit_adds_two_questions_with_the_same_codes_for_the_seven(shipped):
    ongoing, exit_items = _items(shipped["nns-pagaende"]), _items(shipped["nns-avslut"])
    assert [(i.code, i.texts["self"]["sv"]) for i in exit_items[:7]] == [
        (i.code, i.texts["self"]["sv"]) for i in ongoing
    ]
    assert [item.texts["self"]["sv"] for item in exit_items[7:]] == NNS_EXIT_QUESTIONS


def test_an_anonymous_participant_may_skip_survey_questions(shipped):
    assert validate_answers(version=shipped["nns-pagaende"], perspective="self", answers={"nns_4": 1}) == {}
