"""Shared set-up for the progression tests: a test instrument with reverse-coded and optional
items, a förbund with insatser and consenting participants, and snapshots of the derived tables."""

import copy
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from django.utils import timezone

from participants.models import Enrolment, Forbund, Insats, Role
from participants.services import enrolment_create
from progression import norms
from progression.models import DimensionScore, InsatsSummary, NormSet, Progression
from surveys.models import ITEMS_ASKED_IN, AssessmentSession, InstrumentVersion, Item
from surveys.sessions import session_submit
from tests.factories import (
    ForbundFactory,
    InsatsFactory,
    operator,
    register_identified,
    synthetic_personnummer,
    user_with_role,
)
from tests.surveys.factories import definition_data, load, progression_consent


def _ladder(code: str, low: int, high: int) -> dict[str, Any]:
    middle = (low + high) // 2
    return {
        "code": code,
        "kind": "ladder",
        "min": low,
        "max": high,
        "stages": [
            {"from": low, "to": middle, "label": {"sv": "Låg"}},
            {"from": middle + 1, "to": high, "label": {"sv": "Hög"}},
        ],
    }


def item_entry(code: str, scale: str, *, perspectives: tuple[str, ...] = ("self", "mentor"), **flags: bool) -> dict:
    return {"code": code, "scale": scale, "texts": {p: {"sv": f"{code} ({p})"} for p in perspectives}, **flags}


def prov_definition(*, code: str = "prov-instrument", reverse: bool = True) -> dict[str, Any]:
    """The test instrument: rating dimensions on two ladders, a reverse-coded item in two of them,
    optional items everywhere but halsa_1/halsa_2, a self-only item and a single-item dimension.

    With reverse=False the same instrument without reverse coding (to compare against)."""
    base = definition_data()
    scales = [*copy.deepcopy(base["scales"]), _ladder("kort", 1, 5)]
    dimensions = [
        {
            "code": "halsa",
            "label": {"sv": "Hälsa"},
            "items": [
                item_entry("halsa_1", "stege"),
                item_entry("halsa_2", "stege", reverse_coded=reverse),
                item_entry("halsa_3", "stege", required=False),
            ],
        },
        {
            "code": "motivation",
            "label": {"sv": "Motivation"},
            "items": [
                item_entry("mot_1", "kort", required=False),
                item_entry("mot_2", "kort", required=False, reverse_coded=reverse),
                item_entry("mot_3", "kort", perspectives=("self",), required=False),
                item_entry("mot_4", "kort", required=False),
            ],
        },
        {"code": "ensam", "label": {"sv": "Ensam"}, "items": [item_entry("ens_1", "stege", required=False)]},
        copy.deepcopy(base["dimensions"][1]),  # ovrigt: not a rating (hours, yes/no, choice)
    ]
    return definition_data(code=code, name=f"Provinstrument {code}", scales=scales, dimensions=dimensions)


def prov_version(**kwargs: Any) -> InstrumentVersion:
    version, _ = load(prov_definition(**kwargs))
    return version


@dataclass(frozen=True)
class ItemInfo:
    code: str
    dimension: str
    dimension_id: int
    is_rating: bool
    applies_to: str
    reverse: bool
    required: bool
    kind: str
    low: int | None
    high: int | None
    options: tuple[int, ...]


def item_infos(version: InstrumentVersion) -> list[ItemInfo]:
    """The items of a version as plain data (the input of the reference computation)."""
    return [
        ItemInfo(
            code=item.code,
            dimension=item.dimension.code,
            dimension_id=item.dimension_id,
            is_rating=item.dimension.is_rating,
            applies_to=item.applies_to,
            reverse=item.reverse_coded,
            required=item.required,
            kind=item.scale.kind,
            low=item.scale.min_value,
            high=item.scale.max_value,
            options=tuple(item.scale.option_values),
        )
        for item in Item.objects.filter(version=version)
        .select_related("dimension", "scale")
        .order_by("dimension__order", "order")
    ]


def asked(infos: list[ItemInfo], perspective: str) -> list[ItemInfo]:
    return [info for info in infos if info.applies_to in ITEMS_ASKED_IN[perspective]]


def rating_answers(
    rng: np.random.Generator, infos: list[ItemInfo], perspective: str, level: float, effects: dict[str, float]
) -> dict[str, Any]:
    """Rating answers that follow a latent level (so items correlate), with optional items left out
    (missing key or None) about a quarter of the time."""
    answers: dict[str, Any] = {}
    for info in asked(infos, perspective):
        if not info.is_rating:
            continue
        if not info.required and rng.random() < 0.25:
            if rng.random() < 0.5:
                answers[info.code] = None
            continue
        centre, half = (info.low + info.high) / 2, (info.high - info.low) / 2
        raw = centre + half * 0.45 * (level + effects[info.dimension]) + rng.normal(0, 0.35 * half)
        value = int(np.clip(np.rint(raw), info.low, info.high))
        answers[info.code] = info.low + info.high - value if info.reverse else value
    return answers


@dataclass
class World:
    forbund: Forbund
    insatser: list[Insats]
    mentor: Any
    enrolments: list[Enrolment] = field(default_factory=list)


_serials = iter(range(100, 1000))


def world_create(*, insatser: int = 2, policy: str = "anonymise") -> World:
    """One förbund with a few insatser and one mentor for all of them (one password hash only)."""
    forbund = ForbundFactory(progression_withdrawal_policy=policy)
    mentor = user_with_role(Role.MENTOR, forbund=forbund)
    return World(forbund=forbund, insatser=[InsatsFactory(forbund=forbund) for _ in range(insatser)], mentor=mentor)


def enrol(world: World, insats: Insats) -> Enrolment:
    """An identified participant who consents to progression measurement, enrolled in the insats."""
    serial = next(_serials)
    participant = register_identified(
        forbund=world.forbund,
        by=world.mentor,
        personnummer=synthetic_personnummer(date(1985 + serial % 15, 1 + serial % 12, 1 + serial % 28), f"{serial}"),
    )
    progression_consent(participant, by=world.mentor, granted=True)
    enrolment = enrolment_create(
        by=operator(),
        participant=participant,
        insats=insats,
        start_date=timezone.localdate() - timedelta(days=400),
        mentor=world.mentor,
    )
    world.enrolments.append(enrolment)
    return enrolment


def submit(
    world: World,
    enrolment: Enrolment,
    version: InstrumentVersion,
    perspective: str,
    answers: dict[str, Any],
    occurred_at: datetime,
    **kwargs: Any,
) -> AssessmentSession:
    session, created = session_submit(
        client_uuid=uuid.uuid4(),
        enrolment=enrolment,
        version=version,
        perspective=perspective,
        answers=answers,
        recorded_by=world.mentor,
        occurred_at=occurred_at,
        **kwargs,
    )
    assert created
    return session


# --- Snapshots: every column but ids of their own and timestamps -----------------------------------

SNAPSHOT_FIELDS = {
    DimensionScore: ("session_id", "dimension_id", "score", "answered", "items", "algorithm_version"),
    Progression: (
        "enrolment_id",
        "instrument_id",
        "dimension_code",
        "perspective",
        "n_readings",
        "first_session_id",
        "latest_session_id",
        "first_score",
        "latest_score",
        "latest_on",
        "change",
        "baseline_sd",
        "reliability",
        "rci",
        "classification",
        "meets_mid",
        "algorithm_version",
        "first_on",
        "first_version_id",
        "latest_version_id",
    ),
    InsatsSummary: (
        "insats_id",
        "year",
        "instrument_id",
        "dimension_code",
        "perspective",
        "n",
        "sum_first",
        "sum_latest",
        "sum_change",
        "sum_change_sq",
        "n_improved",
        "n_unchanged",
        "n_worse",
        "n_mid",
        "algorithm_version",
    ),
}


# The leading fields that identify a row (the unique constraint), to sort and match rows by.
KEY_LENGTH = {DimensionScore: 2, Progression: 4, InsatsSummary: 5}


def snapshot() -> dict[str, list[tuple]]:
    """All rows of the derived tables, sorted by their unique key, as tuples."""
    return {
        model.__name__: sorted(model.objects.values_list(*fields), key=lambda row, k=KEY_LENGTH[model]: row[:k])
        for model, fields in SNAPSHOT_FIELDS.items()
    }


def _same_value(a: object, b: object, tolerance: float) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= tolerance
    return a == b and type(a) is type(b)


def snapshot_differences(expected: dict[str, list[tuple]], actual: dict[str, list[tuple]], tolerance: float = 1e-9):
    """Human-readable differences between two snapshots; floats may differ by the tolerance
    (a sum over the same rows in another order can differ in the last bit)."""
    problems = []
    for table, fields in ((m.__name__, f) for m, f in SNAPSHOT_FIELDS.items()):
        k = KEY_LENGTH[next(m for m in SNAPSHOT_FIELDS if m.__name__ == table)]
        left = {row[:k]: row for row in expected[table]}
        right = {row[:k]: row for row in actual[table]}
        problems.extend(f"{table} {key}: only before" for key in sorted(left.keys() - right.keys()))
        problems.extend(f"{table} {key}: only after" for key in sorted(right.keys() - left.keys()))
        for key in sorted(left.keys() & right.keys()):
            for name, a, b in zip(fields, left[key], right[key], strict=True):
                if not _same_value(a, b, tolerance):
                    problems.append(f"{table} {key} {name}: {a!r} != {b!r}")
    return problems


def norms_now(*, minimum_n: int = 5) -> NormSet:
    """A new norm set from the readings so far, as an operator makes one (small test data: a lower
    minimum n than the default 30)."""
    return norms.norm_set_create(by=None, reason="Test: normer ur läsningarna hittills", minimum_n=minimum_n)
