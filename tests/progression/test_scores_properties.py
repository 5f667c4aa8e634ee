"""Properties of scoring and reliable change that hold for any answers (hypothesis).

Scores come from sessions submitted through session_submit on the test instrument and scored with
sessions_score, each example in a savepoint that is rolled back; reliable_change is pure."""

import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from django.db import transaction
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from progression.models import Classification, DimensionScore
from progression.scoring import MID_FACTOR, RCI_THRESHOLD, reliable_change, sessions_score
from tests.progression.helpers import ItemInfo, asked, enrol, item_infos, prov_version, submit, world_create

examples = settings(
    max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
OCCURRED_AT = datetime(2026, 5, 4, 10, tzinfo=UTC)
ABSENT = object()  # the key is left out, as opposed to answered None


@pytest.fixture
def instruments(db):
    """The test instrument, the same instrument without reverse coding, and a measured enrolment."""
    reversed_version = prov_version()
    straight_version = prov_version(code="prov-rak", reverse=False)
    world = world_create(insatser=1)
    return SimpleNamespace(
        version=reversed_version,
        straight=straight_version,
        infos=item_infos(reversed_version),
        world=world,
        enrolment=enrol(world, world.insatser[0]),
    )


def _value(info: ItemInfo) -> st.SearchStrategy:
    if info.kind == "ladder" or info.kind == "number":
        values = st.integers(info.low, info.high)
    else:
        values = st.sampled_from(info.options)
    return values if info.required else st.one_of(st.just(None), st.just(ABSENT), values)


def _answers(data: st.DataObject, infos: list[ItemInfo], perspective: str) -> dict[str, Any]:
    drawn = {info.code: data.draw(_value(info), label=info.code) for info in asked(infos, perspective)}
    return {code: value for code, value in drawn.items() if value is not ABSENT}


def _scored(instruments, version, perspective: str, answers: dict[str, Any]) -> dict[str, tuple]:  # noqa: ANN001
    """{dimension code: (score, answered, items)} of a freshly submitted and scored reading."""
    session = submit(instruments.world, instruments.enrolment, version, perspective, answers, OCCURRED_AT)
    sessions_score(session_ids=[session.pk])
    return {
        code: (score, answered, items)
        for code, score, answered, items in DimensionScore.objects.filter(session=session).values_list(
            "dimension__code", "score", "answered", "items"
        )
    }


@contextmanager
def _rolled_back() -> Iterator[None]:
    """Each example leaves nothing behind."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@examples
@given(data=st.data(), perspective=st.sampled_from(["self", "mentor", "agreed"]))
def test_a_score_is_the_mean_of_the_answered_items_on_0_to_100_or_missing(instruments, data, perspective):
    answers = _answers(data, instruments.infos, perspective)
    with _rolled_back():
        scores = _scored(instruments, instruments.version, perspective, answers)

    rating = [info for info in asked(instruments.infos, perspective) if info.is_rating]
    assert set(scores) == {info.dimension for info in rating}  # one row per rating dimension, none for ovrigt
    for dimension, (score, answered, items) in scores.items():
        dimension_items = [info for info in rating if info.dimension == dimension]
        values = [
            ((i.low + i.high - answers[i.code]) if i.reverse else answers[i.code])
            for i in dimension_items
            if answers.get(i.code) is not None
        ]
        assert (answered, items) == (len(values), len(dimension_items))
        if 2 * len(values) < len(dimension_items):
            assert score is None
        else:
            low, high = dimension_items[0].low, dimension_items[0].high
            assert 0 <= score <= 100
            assert math.isclose(score, float(np.mean([(v - low) * 100 / (high - low) for v in values])), abs_tol=1e-9)


@examples
@given(data=st.data(), perspective=st.sampled_from(["self", "mentor", "agreed"]))
def test_a_reverse_coded_answer_scores_like_the_straight_item_answered_min_plus_max_minus_it(
    instruments, data, perspective
):
    answers = _answers(data, instruments.infos, perspective)
    mirrored = {
        info.code: info.low + info.high - answers[info.code]
        for info in instruments.infos
        if info.reverse and answers.get(info.code) is not None
    }
    assume(mirrored)  # at least one reverse-coded item answered
    with _rolled_back():
        reversed_scores = _scored(instruments, instruments.version, perspective, answers)
        straight_scores = _scored(instruments, instruments.straight, perspective, {**answers, **mirrored})

    assert reversed_scores == straight_scores
    # The turning matters: halsa_2 (required, reverse-coded, 1–10) is never the middle of its scale,
    # so the same raw answers on the straight instrument give another Hälsa score.
    with _rolled_back():
        raw = _scored(instruments, instruments.straight, perspective, answers)
    assert raw["halsa"][0] != reversed_scores["halsa"][0]


@examples
@given(
    data=st.data(),
    perspective=st.sampled_from(["self", "mentor", "agreed"]),
    dimension=st.sampled_from(["motivation", "ensam"]),
)
def test_a_dimension_needs_half_its_items_answered(instruments, data, perspective, dimension):
    """Fewer than half answered: missing; exactly half (2 of the 4 self items of motivation) or more: a score."""
    items = [info for info in asked(instruments.infos, perspective) if info.dimension == dimension]
    answered = data.draw(st.lists(st.sampled_from(items), unique=True), label="answered")
    answers = {info.code: data.draw(st.integers(info.low, info.high)) if info in answered else None for info in items}
    answers.update(
        {
            "halsa_1": 5,
            "halsa_2": 5,
            **({"kontakt": 1} if perspective == "self" else {}),
            **({"prognos": 2} if perspective == "mentor" else {}),
        }
    )
    with _rolled_back():
        score, stored_answered, stored_items = _scored(instruments, instruments.version, perspective, answers)[
            dimension
        ]

    assert (stored_answered, stored_items) == (len(answered), len(items))
    if 2 * len(answered) < len(items):
        assert score is None
    else:
        assert score is not None and 0 <= score <= 100


def test_exactly_half_of_the_items_answered_gives_a_score(instruments):
    """The boundary itself, spelt out: motivation asks the participant four items."""
    two = {"mot_1": 5, "mot_2": 5, "mot_3": None, "mot_4": None, "halsa_1": 5, "halsa_2": 5, "kontakt": 1}
    one = {**two, "mot_2": None}
    assert _scored(instruments, instruments.version, "self", two)["motivation"] == (50.0, 2, 4)
    assert _scored(instruments, instruments.version, "self", one)["motivation"] == (None, 1, 4)


# --- reliable_change ---------------------------------------------------------------------------------

changes = st.floats(-100, 100, allow_nan=False, allow_subnormal=False).filter(lambda c: c == 0 or abs(c) > 1e-9)
sds = st.floats(0.5, 50, allow_nan=False)
reliabilities = st.floats(0, 0.99, allow_nan=False)


@examples
@given(change=changes, sd=sds, r=reliabilities)
def test_reliable_change_follows_the_formula_and_the_cut_offs(change, sd, r):
    verdict = reliable_change(change=change, baseline_sd=sd, reliability=r)

    assert math.isclose(verdict.rci, change / math.sqrt(2 * sd**2 * (1 - r)), rel_tol=1e-12, abs_tol=1e-12)
    assert np.sign(verdict.rci) == np.sign(change)
    if abs(verdict.rci) < RCI_THRESHOLD:
        assert verdict.classification == Classification.UNCHANGED
    else:
        assert verdict.classification == (Classification.IMPROVED if change > 0 else Classification.WORSE)
    assert verdict.meets_mid is (change >= MID_FACTOR * sd)


@examples
@given(change=changes.filter(lambda c: abs(c) <= 50), sd=sds, r=reliabilities)
def test_doubling_the_change_doubles_the_rci(change, sd, r):
    single = reliable_change(change=change, baseline_sd=sd, reliability=r)
    double = reliable_change(change=2 * change, baseline_sd=sd, reliability=r)

    assert double.rci == 2 * single.rci


@examples
@given(sd=st.one_of(st.none(), sds), r=st.one_of(st.none(), reliabilities))
def test_no_change_means_insufficient_readings(sd, r):
    verdict = reliable_change(change=None, baseline_sd=sd, reliability=r)

    assert (verdict.rci, verdict.classification, verdict.meets_mid) == (None, Classification.INSUFFICIENT, None)


def test_the_cut_off_is_inclusive_at_1_96():
    """|RCI| ≥ 1.96 is reliable (DESIGN.md §4): with SD 1 and r 0.5 the SE of a difference is exactly 1."""
    assert reliable_change(change=1.96, baseline_sd=1, reliability=0.5).rci == 1.96
    assert reliable_change(change=1.96, baseline_sd=1, reliability=0.5).classification == Classification.IMPROVED
    assert reliable_change(change=-1.96, baseline_sd=1, reliability=0.5).classification == Classification.WORSE
    assert reliable_change(change=1.95, baseline_sd=1, reliability=0.5).classification == Classification.UNCHANGED
    assert reliable_change(change=0.5, baseline_sd=1, reliability=0.5).meets_mid is True  # MID: change ≥ 0.5·SD
    assert reliable_change(change=0.49, baseline_sd=1, reliability=0.5).meets_mid is False
