"""What erasure leaves in free text: a marker where a person's own texts were, and a marker over
their name, contact and personnummer wherever someone typed them into the förbund's other texts.

Texts that belong to the person (their goals, plan, the reasons logged for reading their data) are
replaced as a whole: a nickname or a misspelt name would slip past any search. Texts that belong to
others (the access-log reasons of other people, the admins' review notes) keep their words and lose
only what matches the person's identity data."""

import re
from dataclasses import dataclass

ERASED = "[raderat]"
# Name parts shorter than this ("Li", "Bo") would blank out ordinary words in other people's texts.
SHORTEST_NAME_PART = 3
# A phone number's digits may be typed with spaces, dashes or a country code in between.
SHORTEST_PHONE_DIGITS = 6


@dataclass(frozen=True)
class ErasedIdentity:
    """The identity data being erased, only while the erasure runs (never stored)."""

    name: str
    contact: str
    personnummer: str  # twelve digits

    def pattern(self) -> re.Pattern[str] | None:
        """Any of the identity's words as typed by a person, case-insensitive; None if nothing to find."""
        alternatives = self._alternatives(before=NOT_AFTER_A_LETTER, after=GENITIVE + NOT_BEFORE_A_LETTER)
        return re.compile("|".join(alternatives), re.IGNORECASE) if alternatives else None

    def database_prefilter(self) -> str | None:
        """The same words as a PostgreSQL regular expression, without word boundaries (PostgreSQL's
        differ from Python's): it finds every row the pattern changes, and maybe a few more."""
        alternatives = self._alternatives(before="", after="")
        return "|".join(alternatives) if alternatives else None

    def _alternatives(self, *, before: str, after: str) -> list[str]:
        name = self.name.strip()
        alternatives = [re.escape(name) + after] if name else []
        alternatives += [
            f"{before}{re.escape(part.strip('.,'))}{after}"
            for part in name.split()
            if len(part.strip(".,")) >= SHORTEST_NAME_PART
        ]
        if self.contact.strip():
            alternatives += [re.escape(self.contact.strip()), *_digit_runs(self.contact)]
        alternatives += _digit_runs(self.personnummer) + _digit_runs(self.personnummer[2:])
        return sorted(set(alternatives), key=len, reverse=True)


SEPARATOR = r"[-\s+.()]*"
# A name part is a word of its own, not inside another word ("Wilmahuset" stays), an underscore
# separating words ("Erik_Svensson"); the Swedish genitive belongs to the name ("Wilmas mamma",
# "Lars:s", "Lars'").
NOT_AFTER_A_LETTER = r"(?<![^\W_])"
NOT_BEFORE_A_LETTER = r"(?![^\W_])"
GENITIVE = r"(?:s|:s|')?"


def _digit_runs(text: str) -> list[str]:
    """A pattern for the digits in `text` (a phone number, a personnummer) that matches them however
    they are written: "070-123 45 67", "0701234567", "+46 70 123 45 67", "19791123-3583"."""
    digits = re.sub(r"\D", "", text)
    if len(digits) < SHORTEST_PHONE_DIGITS:
        return []
    patterns = [SEPARATOR.join(digits)]
    if digits.startswith("0"):  # the same number with the Swedish country code
        patterns.append(r"\+?46" + SEPARATOR + r"(?:\(0\))?" + SEPARATOR + SEPARATOR.join(digits[1:]))
    return patterns


def scrub(text: str, pattern: re.Pattern[str] | None) -> str:
    """`text` with every match of the erased identity replaced by the marker."""
    if pattern is None or not text:
        return text
    return pattern.sub(ERASED, text)
