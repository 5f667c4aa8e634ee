"""Every text a participant sees in a shipped instrument is there in every participant language.

A participant reads the dimension labels, the `self` wording of each item, the stage labels of a
ladder, the option labels of a choice and the unit of a number. Each of those has English,
lättläst Swedish and Arabic besides Swedish; the Arabic is in Arabic script; and no translation is
simply the Swedish copied, except the few words that are legitimately the same (ALLOWED_SAME).
Mentor wordings are Swedish only: mentors read Swedish.
"""

import re
from pathlib import Path

import pytest

from surveys.demo import INSTRUMENTS_DIR
from surveys.loading import YES_NO_OPTIONS, InstrumentDefinition, read_definition_file

SHIPPED = ("stegvis-progression.yaml", "nns-pagaende.yaml", "nns-avslut.yaml")
TRANSLATIONS = ("en", "sv_lattlast", "ar")
DRAFT_NOTE = "# ar: utkast – ska granskas av en modersmålstalare före användning"
ARABIC = re.compile(r"[\u0600-\u06FF]")
LATIN = re.compile(r"[A-Za-zÅÄÖåäö]")

# (language, Swedish text) where the translation may be the Swedish itself: the Swedish is
# already easy to read.
ALLOWED_SAME = {
    ("sv_lattlast", "Hälsa"),
    ("sv_lattlast", "Vardag"),
    ("sv_lattlast", "Aktivitet"),
    ("sv_lattlast", "Står still"),
    ("sv_lattlast", "Provar"),
    ("sv_lattlast", "Lär mig"),
    ("sv_lattlast", "Klarar själv"),
    ("sv_lattlast", "Ja"),
    ("sv_lattlast", "Nej"),
    ("sv_lattlast", "Har stödet varit bra?"),
}


def participant_texts(definition: InstrumentDefinition) -> list[tuple[str, dict[str, str]]]:
    """(where, text per language) for every text a participant of this instrument may see."""
    texts = []
    for scale in definition.scales:
        texts += [(f"scales[{scale.code}].stages[{stage.first}]", stage.label) for stage in scale.stages]
        if scale.unit:
            texts.append((f"scales[{scale.code}].unit", scale.unit))
        if scale.kind == "choice":
            texts += [(f"scales[{scale.code}].options[{option.value}]", option.label) for option in scale.options]
    for dimension in definition.dimensions:
        texts.append((f"dimensions[{dimension.code}].label", dimension.label))
        texts += [(f"items[{item.code}].self", item.texts["self"]) for item in dimension.items if "self" in item.texts]
    return texts


@pytest.fixture(params=SHIPPED)
def shipped(request) -> tuple[Path, InstrumentDefinition]:
    path = Path(INSTRUMENTS_DIR) / request.param
    return path, read_definition_file(path)


def test_every_participant_text_has_every_language(shipped):
    _, definition = shipped
    texts = participant_texts(definition)
    assert texts
    missing = [(where, language) for where, text in texts for language in TRANSLATIONS if language not in text]
    assert missing == []


def test_arabic_texts_are_in_arabic_script(shipped):
    _, definition = shipped
    for where, text in participant_texts(definition):
        assert ARABIC.search(text["ar"]), where
        assert not LATIN.search(text["ar"]), where


def test_no_translation_is_the_swedish_copied(shipped):
    _, definition = shipped
    copied = [
        (where, language, text["sv"])
        for where, text in participant_texts(definition)
        for language in TRANSLATIONS
        if text[language] == text["sv"] and (language, text["sv"]) not in ALLOWED_SAME
    ]
    assert copied == []


def test_the_allow_list_names_only_texts_that_are_used():
    used = {
        (language, text["sv"])
        for name in SHIPPED
        for _, text in participant_texts(read_definition_file(Path(INSTRUMENTS_DIR) / name))
        for language in TRANSLATIONS
        if text.get(language) == text["sv"]
    }
    assert used >= ALLOWED_SAME


def test_each_file_says_its_arabic_is_a_draft(shipped):
    path, _ = shipped
    assert DRAFT_NOTE in path.read_text(encoding="utf-8").splitlines()


def test_yes_no_labels_have_every_language():
    """Ja/Nej of a yes_no scale (nns_4) are not in the files but in surveys/loading.py."""
    for option in YES_NO_OPTIONS:
        assert set(TRANSLATIONS) <= set(option.label), option.label["sv"]
        assert ARABIC.search(option.label["ar"])
