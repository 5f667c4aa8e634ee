"""The set-based engine's SQL against its Python definitions: the RCI, classification and MID that
PROGRESSIONS_SQL computes equal reliable_change() for every stored row, norms that allow no
verdict give "för få för att bedöma", and the summaries kept by difference fall back to a full recompute when
they are out of step with the progression rows."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.test import override_settings

from progression import scoring
from progression.models import Classification, InsatsSummary, Norm, Progression
from progression.rebuild import progression_rebuild_inline
from surveys.models import AssessmentSession
from tests.progression.helpers import (
    World,
    enrol,
    item_infos,
    rating_answers,
    snapshot,
    snapshot_differences,
    submit,
    world_create,
)
from tests.surveys.factories import shipped_version, valid_answers

pytestmark = pytest.mark.django_db

START = datetime(2025, 9, 1, 9, tzinfo=UTC)


def _readings(seed: int, enrolments: int = 12) -> World:
    """Self and mentor readings of a dozen enrolments in two insatser, some improving a lot, some
    getting worse; scored and processed by a rebuild with fresh norms."""
    rng = np.random.default_rng(seed)
    version = shipped_version()
    infos = item_infos(version)
    world = world_create(insatser=2)
    for index in range(enrolments):
        enrolment = enrol(world, world.insatser[index % 2])
        base, growth = rng.normal(-0.5, 1), rng.normal(0, 2.5)
        for visit, days in enumerate((0, 30, 90)):  # the latest reading in 2025
            for perspective in ("self", "mentor"):
                answers = valid_answers(version, perspective)
                effects = {info.dimension: 0.0 for info in infos}
                answers.update(rating_answers(rng, infos, perspective, base + growth * visit / 2, effects))
                submit(world, enrolment, version, perspective, answers, START + timedelta(days=days))
    with override_settings(NORM_MINIMUM_N=5):
        progression_rebuild_inline(new_norms_reason="Test", report=lambda message: None)
    return world


def _python_verdicts() -> list[tuple]:
    """Every stored row next to what reliable_change() says for its change and norms."""
    rows = []
    for progression in Progression.objects.order_by("pk"):
        expected = scoring.reliable_change(
            change=progression.change, baseline_sd=progression.baseline_sd, reliability=progression.reliability
        )
        rows.append((progression, expected))
    return rows


def test_sql_reliable_change_equals_the_python_definition_for_every_row():
    _readings(seed=3)
    rows = _python_verdicts()
    assert len(rows) > 100
    classifications = {progression.classification for progression, _ in rows}
    assert {Classification.IMPROVED, Classification.UNCHANGED, Classification.WORSE} <= classifications
    for progression, expected in rows:
        assert progression.classification == expected.classification, progression
        assert progression.meets_mid == expected.meets_mid, progression
        if expected.rci is None:
            assert progression.rci is None
        else:
            assert progression.rci == pytest.approx(expected.rci, rel=1e-12)
        if progression.n_readings >= 2:
            assert progression.change == pytest.approx(progression.latest_score - progression.first_score, abs=1e-12)
        else:
            assert progression.change is None


def test_norms_without_spread_or_with_perfect_reliability_give_no_verdict():
    _readings(seed=5, enrolments=6)
    usable = Norm.objects.filter(usable=True)
    no_spread = usable.filter(perspective="self").first()
    perfect = usable.filter(perspective="mentor").first()
    Norm.objects.filter(pk=no_spread.pk).update(sd=0)
    Norm.objects.filter(pk=perfect.pk).update(reliability=1.0)
    progression_rebuild_inline(report=lambda message: None)

    for norm in (no_spread, perfect):
        rows = Progression.objects.filter(norm=norm, n_readings__gte=2)
        assert rows.exists()
        assert set(rows.values_list("classification", "rci", "meets_mid")) == {(Classification.NO_NORM, None, None)}
    assert Progression.objects.filter(classification=Classification.IMPROVED).exists()


def _process_a_new_reading(world: World) -> None:
    enrolment = world.enrolments[0]
    version = shipped_version()
    session = submit(world, enrolment, version, "self", valid_answers(version, "self"), START + timedelta(days=400))
    scoring.session_process(session_id=session.pk)


def _expected_after_recompute(world: World) -> dict[str, list[tuple]]:
    scoring.insats_summaries_update(insats_ids=[insats.pk for insats in world.insatser])
    return snapshot()


@pytest.mark.parametrize(
    "disturb",
    [
        pytest.param(lambda rows: rows.delete(), id="summary rows missing"),
        pytest.param(lambda rows: rows.update(n=0, n_improved=0, n_unchanged=0), id="summary rows too small"),
    ],
)
def test_summaries_out_of_step_are_recomputed_instead_of_moved(disturb):
    world = _readings(seed=7, enrolments=6)
    disturb(InsatsSummary.objects.filter(insats=world.enrolments[0].insats))

    _process_a_new_reading(world)

    processed = snapshot()
    assert InsatsSummary.objects.filter(insats=world.enrolments[0].insats, n__gt=0).exists()
    assert snapshot_differences(_expected_after_recompute(world), processed) == []


def test_summaries_moved_by_difference_equal_a_recompute_after_many_readings():
    world = _readings(seed=9, enrolments=6)
    assert set(InsatsSummary.objects.values_list("year", flat=True)) == {2025}
    version = shipped_version()
    rng = np.random.default_rng(9)
    infos = item_infos(version)
    effects = {info.dimension: 0.0 for info in infos}
    for index, enrolment in enumerate(world.enrolments):
        for days in (80, 250):  # the second reading moves the latest reading into the next year
            answers = valid_answers(version, "mentor")
            answers.update(rating_answers(rng, infos, "mentor", rng.normal(1, 1), effects))
            session = submit(world, enrolment, version, "mentor", answers, START + timedelta(days=days + index))
            scoring.session_process(session_id=session.pk)
    assert AssessmentSession.objects.count() == 6 * 8
    processed = snapshot()
    mentor_years = {row[1] for row in processed["InsatsSummary"] if row[4] == "mentor"}
    assert mentor_years == {2026}, "the emptied 2025 rows are gone"
    assert snapshot_differences(_expected_after_recompute(world), processed, tolerance=1e-7) == []
