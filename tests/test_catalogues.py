"""The translation catalogues under locale/: complete where they must be, and compiled as committed.

- Every string of a participant-facing page, script or message is translated in every participant
  language (English, lättläst, Arabic); Swedish is the source.
- Every string is translated into English, the staff's second language.
- The committed .mo files are what msgfmt makes of the .po files (a forgotten compile fails here).
- Arabic says in its header that it is a draft to be reviewed by a native speaker.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.translation import to_locale

from config.languages import PARTICIPANT_LANGUAGES

LOCALE = Path(settings.BASE_DIR) / "locale"
TRANSLATED = [language for language in PARTICIPANT_LANGUAGES if language.code != "sv"]

# The files whose strings a participant sees (docs/languages.md lists the pages).
PARTICIPANT_SOURCES = {
    "surveys/templates/surveys/capture.html",
    "surveys/templates/surveys/_item.html",
    "surveys/templates/surveys/_listen.html",
    "surveys/templates/surveys/_language_choice.html",
    "surveys/templates/surveys/self_done.html",
    "surveys/templates/surveys/public_message.html",
    "surveys/static/surveys/capture.js",
    "surveys/static/surveys/readaloud.js",
    "surveys/sessions.py",
    "surveys/satisfaction.py",
    "surveys/validation.py",
    "progression/templates/progression/my_plan.html",
    "progression/templates/progression/plan_gone.html",
    "progression/templates/progression/plan_offline.html",
    "progression/static/progression/plan.js",
}
# Participant-visible strings of the page frame that staff pages share (the rest of it is staff's).
PARTICIPANT_FRAME = {"Hoppa till innehållet"}
# Strings in those files that only staff see (the mentor's form shares the participant's template).
STAFF_ONLY = {
    "Handledarens bedömning",
    "Målbildssamtal för %(pseudonym)s",
    "Din bedömning av %(pseudonym)s",
    "handledarens bedömning",
    "den gemensamma bedömningen",
    "Självskattning %(pseudonym)s",
    "Bedömning %(pseudonym)s",
}


def _entries(path: Path) -> list[dict[str, object]]:
    """The entries of a .po file: msgid, msgstr (or the plural forms), the files they come from."""
    entries, entry, field = [], None, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if entry and entry["msgid"]:
                entries.append(entry)
            entry, field = None, None
            continue
        entry = entry or {"msgid": "", "msgstr": "", "files": set(), "fuzzy": False}
        if line.startswith("#:"):
            entry["files"].update(location.split(":")[0] for location in line[2:].split())
        elif line.startswith("#,") and "fuzzy" in line:
            entry["fuzzy"] = True
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[field] += line[1:-1]
        else:
            keyword, _, value = line.partition(" ")
            field = "msgstr" if keyword.startswith("msgstr") else keyword
            if field in ("msgctxt", "msgid_plural"):
                entry[field] = ""
            entry[field] = entry.get(field, "") + value[1:-1] if field != "msgstr" else entry["msgstr"] + value[1:-1]
    return entries


def _po(language_code: str, domain: str) -> Path:
    return LOCALE / to_locale(language_code) / "LC_MESSAGES" / f"{domain}.po"


@pytest.mark.parametrize("language", TRANSLATED, ids=lambda language: language.code)
def test_every_participant_string_is_translated(language):
    missing = [
        f"{entry['msgid']!r} ({', '.join(sorted(entry['files'] & PARTICIPANT_SOURCES))})"
        for domain in ("django", "djangojs")
        for entry in _entries(_po(language.code, domain))
        if (entry["files"] & PARTICIPANT_SOURCES or entry["msgid"] in PARTICIPANT_FRAME)
        and entry["msgid"] not in STAFF_ONLY
        and (not entry["msgstr"] or entry["fuzzy"])
    ]
    assert not missing, f"untranslated in {language.code}:\n" + "\n".join(missing)


def test_every_string_is_translated_into_english_for_staff():
    missing = [
        entry["msgid"]
        for domain in ("django", "djangojs")
        for entry in _entries(_po("en", domain))
        if not entry["msgstr"] or entry["fuzzy"]
    ]
    assert not missing, "untranslated in en:\n" + "\n".join(map(repr, missing))


def test_translations_keep_the_placeholders_of_the_swedish():
    """A translation that drops or renames %(name)s would raise, or show the wrong thing, at run time."""
    placeholder = re.compile(r"%\(\w+\)[sd]")
    wrong = [
        f"{language.code}: {entry['msgid']!r} -> {entry['msgstr']!r}"
        for language in TRANSLATED
        for domain in ("django", "djangojs")
        for entry in _entries(_po(language.code, domain))
        if entry["msgstr"]
        and "msgid_plural" not in entry
        and sorted(placeholder.findall(entry["msgid"])) != sorted(placeholder.findall(entry["msgstr"]))
    ]
    assert not wrong, "\n".join(wrong)


def test_arabic_is_marked_as_a_draft():
    header = _po("ar", "django").read_text(encoding="utf-8").split("msgid", 1)[0]
    assert "UTKAST" in header and "modersmålstalare" in header
    assert next(language for language in PARTICIPANT_LANGUAGES if language.code == "ar").draft


def test_the_committed_catalogues_are_compiled(tmp_path):
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("msgfmt is missing (Debian's gettext; scripts/test installs it)")
        pytest.skip("msgfmt is missing (Debian's gettext)")
    for po in sorted(LOCALE.glob("*/LC_MESSAGES/*.po")):
        compiled = tmp_path / "out.mo"
        subprocess.run([msgfmt, "--check-format", "-o", str(compiled), str(po)], check=True)
        assert compiled.read_bytes() == po.with_suffix(".mo").read_bytes(), (
            f"{po.relative_to(settings.BASE_DIR)} is newer than its .mo: run scripts/catalogues"
        )
