"""The languages Stegvis speaks, in one place.

A participant reads their pages in any of PARTICIPANT_LANGUAGES; staff read theirs in Swedish or
English (STAFF_LANGUAGES, chosen per user). Each language has three names:

- `key`: how instrument files, readings and links name it ("sv_lattlast");
- `code`: Django's language code, which picks the translation catalogue ("sv-lattlast" reads
  locale/sv_Lattlast/ and falls back to Swedish);
- `html`: the page's lang attribute and the voice that reads it aloud ("sv": lättläst is Swedish).

A new language is one more row here, its catalogues under locale/ and its texts in the instrument
files (docs/languages.md).
"""

from dataclasses import dataclass

from django.http import HttpRequest
from django.utils import translation


@dataclass(frozen=True)
class Language:
    key: str
    code: str
    html: str
    name: str  # in the language itself
    rtl: bool = False
    draft: bool = False  # a draft translation: to be reviewed by a native speaker before use


PARTICIPANT_LANGUAGES = (
    Language(key="sv", code="sv", html="sv", name="Svenska"),
    Language(key="sv_lattlast", code="sv-lattlast", html="sv", name="Lätt svenska"),
    Language(key="en", code="en", html="en", name="English"),
    Language(key="ar", code="ar", html="ar", name="العربية", rtl=True, draft=True),
)
STAFF_LANGUAGES = ("sv", "en")
STAFF_LANGUAGE_SESSION_KEY = "stegvis_staff_language"
DEFAULT = PARTICIPANT_LANGUAGES[0]

BY_KEY = {language.key: language for language in PARTICIPANT_LANGUAGES}
BY_CODE = {language.code: language for language in PARTICIPANT_LANGUAGES}


def language_for_key(key: str | None) -> Language:
    """The language an instrument file, reading or link names; Swedish for anything unknown."""
    return BY_KEY.get(key or "", DEFAULT)


def language_for_code(code: str | None) -> Language:
    """The language of a Django language code (translation.get_language()); Swedish if unknown."""
    return BY_CODE.get(code or "", DEFAULT)


def active_language() -> Language:
    """The language the current request speaks (translation.get_language())."""
    return language_for_code(translation.get_language())


# Django's settings.LANGUAGES: every catalogue it may activate.
DJANGO_LANGUAGES = [(language.code, language.name) for language in PARTICIPANT_LANGUAGES]

# Django knows sv, en and ar; lättläst needs its own entry for get_language_info.
EXTRA_LANG_INFO = {
    "sv-lattlast": {"bidi": False, "code": "sv-lattlast", "name": "Easy-to-read Swedish", "name_local": "Lätt svenska"},
}


def register_extra_languages() -> None:
    from django.conf.locale import LANG_INFO

    LANG_INFO.update(EXTRA_LANG_INFO)


def participant_language(request: HttpRequest, chosen: str | None = None) -> Language:
    """The language of a participant's page: the one they switched to (?sprak=), else the one chosen
    for them (a link's), else Swedish. It is activated for the rest of the request, so the page,
    its messages and its lang/dir are all in it."""
    switched = request.GET.get("sprak", "")
    language = language_for_key(switched if switched in BY_KEY else chosen)
    translation.activate(language.code)
    request.LANGUAGE_CODE = language.code
    return language
