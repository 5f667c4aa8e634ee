"""Disclosure control for every report that leaves the organisation: the cell-key method.

Every counted row (enrolment, participant, survey response, volume registration) has a random
record key, drawn once and never shown (participants.models.record_key_field). A cell of a table is
a set of rows; its cell key is the sum of their record keys modulo RECORD_KEY_SPACE, so the same rows
give the same cell key in every report, format, filter and request. The published number is a
function of the true number and the cell key only (the perturbation table below):

- a count of 0 is published as 0;
- a count of 1–4 is published as 0 or 5, 5 with probability count ÷ 5 (so on average the true count;
  no 1–4 is ever published);
- a count of 5 or more is published as count + d, d ∈ {−2, −1, 0, +1, +2} with probabilities
  0.1, 0.2, 0.4, 0.2, 0.1, and never below 5.

A difference between two published counts therefore mixes two independent noises: it cannot be
trusted to be a person. Amounts (scores, years, kronor) get noise of 20–50 % of the largest possible
contribution of one row, drawn the same way, and means are published sums ÷ published counts, shown
only when the published count is at least MINIMUM_FOR_MEANS. docs/privacy.md explains the method
for a förbund's data protection officer.
"""

import hashlib
from dataclasses import dataclass
from typing import Any

from django.db.models import BigIntegerField, F, Q, Sum
from django.db.models.functions import Cast

from participants.models import RECORD_KEY_SPACE

SMALLEST_PUBLISHED = 5  # no count 1–4 is ever published
# (noise, probability) for counts of SMALLEST_PUBLISHED or more: the published perturbation table.
COUNT_NOISE = ((-2, 0.1), (-1, 0.2), (0, 0.4), (1, 0.2), (2, 0.1))
# A mean of fewer published rows than this is not shown: a count of 1–4 is published as at most 5,
# so its mean never is, whatever the cell key.
MINIMUM_FOR_MEANS = SMALLEST_PUBLISHED + 1
# Amount noise: between these shares of one row's largest possible contribution, either sign.
AMOUNT_NOISE = (0.2, 0.5)


def person_key_sum(person: str, key: str, *, filter: Q | None = None) -> Any:  # noqa: A002 - Django's name
    """An aggregate: the sum of the record keys of the distinct persons behind a cell. Not
    Sum(key, distinct=True), which adds a key once however many people share it: each person's id
    times the key space plus their key is unique to them, so its distinct sum less the ids' is exact."""
    tagged = Sum(F(person) * RECORD_KEY_SPACE + F(key), distinct=True, filter=filter)
    return Cast(tagged - Sum(person, distinct=True, filter=filter) * RECORD_KEY_SPACE, BigIntegerField())


def person_key_sum_sql(person: str, key: str) -> str:
    """person_key_sum in SQL, for the reports written in SQL."""
    return (
        f"CAST(SUM(DISTINCT {person} * {RECORD_KEY_SPACE} + {key}) - {RECORD_KEY_SPACE} * SUM(DISTINCT {person}) "
        "AS BIGINT)"
    )


FOOTNOTE = (
    "Skyddade tal för extern spridning: varje antal kan avvika med upp till 2, antal 1–4 visas som 0 eller 5, "
    "och summor stämmer därför inte alltid med delarna. Belopp i kronor, år och poäng är också ändrade, och "
    f"medelvärden och andelar visas bara när minst {MINIMUM_FOR_MEANS} personer står bakom dem. Ett mål "
    "bedöms bara när de skyddade talen inte kan ändra bedömningen. Samma personer ger alltid samma tal."
)
SHORT_NOTE = "Skyddade tal (±2, inga 1–4)"
# What "–" in a report table means, under every table that shows it (pages, PDF). Counts are never
# hidden (they are perturbed); a mean, a sum of money or years, a median in months is, outside, when
# its published count is below MINIMUM_FOR_MEANS; and anywhere a figure with nothing to compute it
# from (a share of 0, a change from 0, a target not set) has no value.
HIDDEN_MARK_NOTE = (
    "– = ingen uppgift: inget att räkna på (till exempel en andel av 0, en förändring från 0 "
    "eller ett mål som inte är satt)."
)
HIDDEN_MARK_NOTE_EXTERNAL = (
    f"– = visas inte: medelvärden, andelar och belopp när färre än {MINIMUM_FOR_MEANS} personer står bakom dem "
    "och måluppfyllelse som de skyddade talen inte räcker för att avgöra, eller ingen uppgift: inget att "
    "räkna på (till exempel en andel av 0 eller ett mål som inte är satt)."
)


def hidden_mark_note(*, external: bool) -> str:
    """The footnote explaining "–" for protected (external) or exact (internal) figures."""
    return HIDDEN_MARK_NOTE_EXTERNAL if external else HIDDEN_MARK_NOTE


@dataclass(frozen=True)
class Cell:
    """The exact figures of a set of rows: how many, and the sum of their record keys. For an
    amount, also its sum and the largest value one row can contribute."""

    count: int = 0
    key: int = 0
    amount: float = 0.0
    largest: float = 0.0

    def __add__(self, other: "Cell") -> "Cell":
        return Cell(
            self.count + other.count,
            self.key + other.key,
            self.amount + other.amount,
            max(self.largest, other.largest),
        )

    def __sub__(self, other: "Cell") -> "Cell":
        """The rows of self that are not in other (other must be a subset of self)."""
        return Cell(self.count - other.count, self.key - other.key, self.amount - other.amount, self.largest)


def cell_uniform(key: int, purpose: str) -> float:
    """A number in [0, 1) fixed by the cell key, one independent draw per purpose ("antal",
    "summa:första", …), so that a cell's count and its amounts get unrelated noise."""
    digest = hashlib.blake2b(f"{key % RECORD_KEY_SPACE}:{purpose}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def possible_counts(published: int) -> tuple[int, int]:
    """The true counts a published count can stand for (published_count backwards): 0 for 0–4, 5
    for 1–7, 6 for 5–8, and c ± 2 above."""
    if published == 0:
        return 0, SMALLEST_PUBLISHED - 1
    if published == SMALLEST_PUBLISHED:
        return 1, SMALLEST_PUBLISHED + 2
    return max(SMALLEST_PUBLISHED, published - 2), published + 2


def published_count(cell: Cell) -> int:
    """The count as published: a function of the true count and the cell key only."""
    if cell.count <= 0:
        return 0
    draw = cell_uniform(cell.key, "antal")
    if cell.count < SMALLEST_PUBLISHED:
        return SMALLEST_PUBLISHED if draw < cell.count / SMALLEST_PUBLISHED else 0
    cumulative = 0.0
    for noise, probability in COUNT_NOISE:
        cumulative += probability
        if draw < cumulative:
            return max(SMALLEST_PUBLISHED, cell.count + noise)
    return max(SMALLEST_PUBLISHED, cell.count + COUNT_NOISE[-1][0])


def published_amount(cell: Cell, purpose: str) -> float | None:
    """A sum as published, or None when its rows are too few to show it (see MINIMUM_FOR_MEANS)."""
    if published_count(cell) < MINIMUM_FOR_MEANS:
        return None
    draw = cell_uniform(cell.key, f"summa:{purpose}")
    low, high = AMOUNT_NOISE
    size = low + (high - low) * abs(2 * draw - 1)
    return cell.amount + (size if draw >= 0.5 else -size) * cell.largest


def published_mean(cell: Cell, purpose: str) -> float | None:
    """The published sum ÷ the published count, or None below MINIMUM_FOR_MEANS."""
    amount = published_amount(cell, purpose)
    return None if amount is None else amount / published_count(cell)


def possible_true_counts(published: int, *, limit: int = 10_000) -> set[int]:
    """Every true count that the perturbation table can publish as `published`: what an analyst who
    knows the table (it is public) can say about a published number. Never a single count."""
    if published == 0:
        return {0, *range(1, SMALLEST_PUBLISHED)}
    candidates: set[int] = set()
    if published == SMALLEST_PUBLISHED:
        candidates |= set(range(1, SMALLEST_PUBLISHED))
    for noise, _probability in COUNT_NOISE:
        true = published - noise
        if SMALLEST_PUBLISHED <= true <= limit and max(SMALLEST_PUBLISHED, true + noise) == published:
            candidates.add(true)
    return candidates
