"""Instrument shapes the generated reference data does not cover: an optional item nobody answers,
a rating dimension with a perspective-only item, and a choice item in a rating dimension.
Each is compared with numpy or with the definition in docs/instruments.md and DESIGN.md §4."""

import math
from datetime import UTC, datetime

import numpy as np
import pytest
from django.core.exceptions import ValidationError

from progression import scoring
from progression.models import DimensionScore, Norm, ReliabilitySource
from surveys.loading import InstrumentDefinitionError
from surveys.models import AssessmentSession
from tests.progression.helpers import enrol, item_entry, norms_now, prov_definition, submit, world_create
from tests.surveys.factories import load

pytestmark = pytest.mark.django_db

OCCURRED_AT = datetime(2026, 4, 1, 9, tzinfo=UTC)


def _first_readings(version, answer_sets: list[dict]) -> None:  # noqa: ANN001
    """One self-assessment per new enrolment (so each is a first reading), scored, then the norms."""
    world = world_create(insatser=1)
    for answers in answer_sets:
        submit(world, enrol(world, world.insatser[0]), version, "self", answers, OCCURRED_AT)
    scoring.sessions_score(session_ids=list(AssessmentSession.objects.values_list("pk", flat=True)))
    norms_now()


def _cronbach(matrix: np.ndarray) -> float:
    k = matrix.shape[1]
    return float(k / (k - 1) * (1 - np.var(matrix, axis=0, ddof=1).sum() / np.var(matrix.sum(axis=1), ddof=1)))


def test_no_alpha_when_no_first_reading_answers_every_item():
    version, _ = load(prov_definition(code="blank-item"))
    rng = np.random.default_rng(7)
    answer_sets = []
    for level in rng.integers(1, 6, size=10):
        near = [int(np.clip(level + rng.integers(-1, 2), 1, 5)) for _ in range(3)]
        answer_sets.append(
            {"halsa_1": 5, "halsa_2": 5, "kontakt": 1, "mot_1": near[0], "mot_2": 6 - near[1], "mot_4": near[2]}
        )
    _first_readings(version, answer_sets)

    reference = Norm.objects.get(version=version, dimension_code="motivation")
    assert (reference.alpha, reference.alpha_n) == (None, 0)
    # No reliability to borrow: the key classifies nothing rather than use a number without a source.
    assert (reference.reliability, reference.reliability_source) == (None, ReliabilitySource.NONE)
    assert not reference.usable
    assert "α kunde inte beräknas" in reference.reliability_note


def test_alpha_for_a_dimension_with_two_items_in_the_self_form():
    data = prov_definition(code="self-item")
    data["dimensions"][2]["items"].append(item_entry("ens_self", "stege", perspectives=("self",)))
    version, _ = load(data)
    rng = np.random.default_rng(11)
    pairs = [(int(level), int(np.clip(level + rng.integers(-1, 2), 1, 10))) for level in rng.integers(2, 10, size=10)]
    _first_readings(version, [{"halsa_1": 5, "halsa_2": 5, "kontakt": 1, "ens_1": a, "ens_self": b} for a, b in pairs])

    expected = _cronbach((np.array(pairs, dtype=float) - 1) * 100 / 9)
    reference = Norm.objects.get(version=version, dimension_code="ensam")
    assert reference.alpha is not None and math.isclose(reference.alpha, expected, abs_tol=1e-9)
    assert reference.alpha_n == 10
    assert reference.reliability_source == "cronbach"


def test_a_choice_item_in_a_rating_dimension_counts_in_the_score_or_is_refused():
    data = prov_definition(code="choice-item")
    data["dimensions"][2]["items"].append(item_entry("ens_val", "val"))  # options 1, 2, 3
    try:
        version, _ = load(data)
    except (ValidationError, InstrumentDefinitionError):
        return  # refusing such a definition is as good as scoring it
    world = world_create(insatser=1)
    session = submit(
        world,
        enrol(world, world.insatser[0]),
        version,
        "mentor",
        {"halsa_1": 5, "halsa_2": 5, "prognos": 1, "ens_1": 10, "ens_val": 1},
        OCCURRED_AT,
    )
    scoring.sessions_score(session_ids=[session.pk])

    score = DimensionScore.objects.get(session=session, dimension__code="ensam")
    assert (score.score, score.answered, score.items) == (50.0, 2, 2)
