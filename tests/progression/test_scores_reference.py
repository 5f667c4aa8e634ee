"""The progression engine against an independent numpy computation on generated readings.

Two instruments (the shipped stegvis-progression and a test instrument with reverse-coded,
optional, self-only and single-item rating dimensions), self, mentor and agreed readings submitted
through session_submit in shuffled order, corrections, drafts and withdrawn consent. Every stored
DimensionScore, Norm (of the norm set the rebuild makes), Progression and InsatsSummary is compared with what numpy
computes from the answers we generated (DESIGN.md §3–4, docs/instruments.md).
"""

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.db import transaction
from django.test import override_settings
from scipy import optimize, stats

from participants.models import Enrolment, Participant, Role
from progression import scoring
from progression.models import (
    Classification,
    DimensionScore,
    InsatsSummary,
    Norm,
    Progression,
    ReliabilitySetting,
)
from progression.rebuild import progression_rebuild_inline
from surveys.models import AssessmentSession, Item, SessionStatus
from surveys.sessions import session_correct
from tests.factories import user_with_role
from tests.progression.helpers import (
    ItemInfo,
    asked,
    enrol,
    item_infos,
    prov_version,
    rating_answers,
    submit,
    world_create,
)
from tests.reports.helpers import build
from tests.surveys.factories import progression_consent, shipped_version, valid_answers

pytestmark = pytest.mark.django_db

SEED = 20261124
ENROLMENTS = 36
TOLERANCE = 1e-9
STOCKHOLM = ZoneInfo("Europe/Stockholm")  # settings.TIME_ZONE: a summary's year is the local year
RCI_CUT = 1.96  # DESIGN.md §4
MID = 0.5
MINIMUM_N = 20  # the self and mentor norms rest on ~34 baselines; agreed (~30 % of enrolments) on fewer
RELIABILITY_FLOOR = 0.5
CONFIGURED_TEST_RETEST = 0.70  # configured for the single-item dimension of the test instrument
# A reading just after midnight on New Year's Day in Stockholm is still the old year in UTC.
NEW_YEAR_LOCAL = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)


@dataclass
class Reading:
    pk: int
    enrolment_id: int
    insats_id: int
    participant: Participant
    instrument_id: int
    perspective: str
    answers: dict[str, Any]
    occurred_at: datetime
    status: str
    withdrawn: bool = False


@dataclass
class Generated:
    readings: list[Reading]
    infos: dict[int, list[ItemInfo]]  # by instrument id
    instrument_codes: dict[int, str]
    configured: dict[tuple[int, str], float]
    rebuild_error: Exception | None


# --- Generating the readings ----------------------------------------------------------------------


def _generate() -> Generated:
    rng = np.random.default_rng(SEED)
    shipped, prov = shipped_version(), prov_version()
    versions = {shipped.instrument_id: shipped, prov.instrument_id: prov}
    infos = {instrument_id: item_infos(version) for instrument_id, version in versions.items()}
    ReliabilitySetting.objects.create(
        instrument=prov.instrument, dimension_code="ensam", test_retest=CONFIGURED_TEST_RETEST, source="test"
    )
    world = world_create(insatser=3)
    planned = []
    for index in range(ENROLMENTS):
        enrolment = enrol(world, world.insatser[index % 3])
        # Enrolled before the first reading (the report counts enrolments open in its period).
        Enrolment.objects.filter(pk=enrolment.pk).update(start_date=date(2024, 1, 1))
        ability, growth = rng.normal(0, 1), rng.normal(0.5, 1.2)
        effects = {info.dimension: rng.normal(0, 0.6) for infos_ in infos.values() for info in infos_}
        start = datetime(2024, 9, 1, 8, tzinfo=UTC) + timedelta(days=int(rng.integers(0, 300)))
        keys = [(shipped, "self"), (shipped, "mentor"), (prov, "self"), (prov, "mentor")]
        if rng.random() < 0.3:
            keys.append((prov, "agreed"))
        for version, perspective in keys:
            count = int(rng.choice([1, 2, 3, 4, 5, 6], p=[0.06, 0.3, 0.24, 0.2, 0.1, 0.1]))
            offsets = sorted(rng.choice(700 * 24 * 60, size=count, replace=False))
            times = [start + timedelta(minutes=int(offset)) for offset in offsets]
            if index == 0 and version is shipped and perspective == "self":
                times = [datetime(2025, 3, 3, 9, tzinfo=UTC), NEW_YEAR_LOCAL]
            bias = 0.3 if perspective == "mentor" else 0.0
            for occurred_at in times:
                years = (occurred_at - start).days / 365
                level = ability + growth * years + bias
                answers = valid_answers(version, perspective)
                answers.update(rating_answers(rng, infos[version.instrument_id], perspective, level, effects))
                planned.append((enrolment, version, perspective, answers, occurred_at, level, effects))
    random.Random(SEED).shuffle(planned)  # submitted in another order than they occurred
    readings = []
    by_pk = {}
    for enrolment, version, perspective, answers, occurred_at, level, effects in planned:
        session = submit(world, enrolment, version, perspective, answers, occurred_at)
        reading = Reading(
            pk=session.pk,
            enrolment_id=enrolment.pk,
            insats_id=enrolment.insats_id,
            participant=enrolment.participant,
            instrument_id=version.instrument_id,
            perspective=perspective,
            answers=answers,
            occurred_at=occurred_at,
            status=SessionStatus.SUBMITTED,
        )
        readings.append(reading)
        by_pk[session.pk] = (reading, version, level, effects)

    # Corrections: the original is superseded, the correction counts at the same moment.
    corrected = [readings[int(i)] for i in rng.choice(len(readings), size=14, replace=False)]
    for original in corrected:
        _, version, level, effects = by_pk[original.pk]
        answers = valid_answers(version, original.perspective)
        answers.update(rating_answers(rng, infos[version.instrument_id], original.perspective, level - 1.0, effects))
        session = session_correct(
            session=AssessmentSession.objects.get(pk=original.pk), answers=answers, corrected_by=world.mentor
        )
        original.status = SessionStatus.SUPERSEDED
        correction = Reading(**{**original.__dict__, "pk": session.pk, "answers": answers})
        correction.status = SessionStatus.SUBMITTED
        readings.append(correction)
        by_pk[session.pk] = (correction, version, level, effects)
        if original is corrected[0]:  # a correction corrected again
            again = valid_answers(version, original.perspective)
            again.update(rating_answers(rng, infos[version.instrument_id], original.perspective, level + 1, effects))
            second = session_correct(session=session, answers=again, corrected_by=world.mentor)
            correction.status = SessionStatus.SUPERSEDED
            readings.append(Reading(**{**correction.__dict__, "pk": second.pk, "answers": again}))
            readings[-1].status = SessionStatus.SUBMITTED

    # Drafts are never scored.
    for enrolment in world.enrolments[:4]:
        session = submit(world, enrolment, shipped, "self", {"halsa_hantera": 9}, NEW_YEAR_LOCAL, draft=True)
        readings.append(
            Reading(
                session.pk,
                enrolment.pk,
                enrolment.insats_id,
                enrolment.participant,
                shipped.instrument_id,
                "self",
                {"halsa_hantera": 9},
                NEW_YEAR_LOCAL,
                SessionStatus.DRAFT,
            )
        )

    # Withdrawn consent (the förbund keeps readings for anonymous statistics only).
    for enrolment in world.enrolments[5:8]:
        progression_consent(enrolment.participant, by=world.mentor, granted=False)
        for reading in readings:
            if reading.enrolment_id == enrolment.pk:
                reading.withdrawn = True

    error = None
    try:
        with override_settings(NORM_MINIMUM_N=MINIMUM_N):
            progression_rebuild_inline(
                new_norms_reason="Test: normer ur de genererade läsningarna", report=lambda line: None
            )
    except Exception as exc:  # reported by the tests that need the rebuild's later phases
        error = exc
    return Generated(
        readings=readings,
        infos=infos,
        instrument_codes={instrument_id: v.instrument.code for instrument_id, v in versions.items()},
        configured={(prov.instrument_id, "ensam"): CONFIGURED_TEST_RETEST},
        rebuild_error=error,
    )


@pytest.fixture(scope="module")
def generated(django_db_setup, django_db_blocker):
    """The readings, generated and rebuilt once for this module, rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _generate()
        transaction.set_rollback(True)


def _rebuilt(generated: Generated) -> None:
    if generated.rebuild_error is not None:
        raise generated.rebuild_error


# --- The independent computation ------------------------------------------------------------------


def _rescaled(info: ItemInfo, value: int) -> float:
    turned = info.low + info.high - value if info.reverse else value
    return (turned - info.low) * 100.0 / (info.high - info.low)


def _rating_items(infos: list[ItemInfo], perspective: str) -> dict[str, list[ItemInfo]]:
    by_dimension: dict[str, list[ItemInfo]] = defaultdict(list)
    for info in asked(infos, perspective):
        if info.is_rating:
            by_dimension[info.dimension].append(info)
    return by_dimension


def expected_scores(generated: Generated) -> dict[tuple[int, int], tuple[float | None, int, int]]:
    """(session, dimension) → (score, answered, items) for every submitted or superseded reading."""
    expected = {}
    for reading in generated.readings:
        if reading.status == SessionStatus.DRAFT:
            continue
        for items in _rating_items(generated.infos[reading.instrument_id], reading.perspective).values():
            values = [_rescaled(i, reading.answers[i.code]) for i in items if reading.answers.get(i.code) is not None]
            score = float(np.mean(values)) if values and 2 * len(values) >= len(items) else None
            expected[(reading.pk, items[0].dimension_id)] = (score, len(values), len(items))
    return expected


def _key_readings(generated: Generated) -> dict[tuple[int, int, str, str], list[tuple[Reading, float]]]:
    """Per progression key, the scored readings that count (submitted, consent kept) in time order."""
    scores = expected_scores(generated)
    keyed = defaultdict(list)
    for reading in generated.readings:
        if reading.status != SessionStatus.SUBMITTED or reading.withdrawn:
            continue
        for code, items in _rating_items(generated.infos[reading.instrument_id], reading.perspective).items():
            score = scores[(reading.pk, items[0].dimension_id)][0]
            if score is not None:
                keyed[(reading.enrolment_id, reading.instrument_id, code, reading.perspective)].append((reading, score))
    for readings in keyed.values():
        readings.sort(key=lambda pair: pair[0].occurred_at)
    return keyed


def _cronbach(matrix: np.ndarray) -> float | None:
    k = matrix.shape[1]
    if k < 2 or matrix.shape[0] < 3:
        return None
    total_variance = np.var(matrix.sum(axis=1), ddof=1)
    if total_variance <= 0:
        return None
    return float(k / (k - 1) * (1 - np.var(matrix, axis=0, ddof=1).sum() / total_variance))


def expected_references(generated: Generated) -> dict[tuple[int, str, str], dict[str, Any]]:
    """The norm of every instrument (one version each here), dimension and perspective: the first
    readings' n, dates, mean and SD, α with Feldt's interval, and the reliability rule."""
    firsts = defaultdict(list)
    for (_, instrument_id, code, perspective), readings in _key_readings(generated).items():
        firsts[(instrument_id, code, perspective)].append(readings[0])
    references = {}
    for (instrument_id, code, perspective), first_readings in firsts.items():
        scores = np.array([score for _, score in first_readings])
        items = _rating_items(generated.infos[instrument_id], perspective)[code]
        complete = [
            [_rescaled(i, reading.answers[i.code]) for i in items]
            for reading, _ in first_readings
            if all(reading.answers.get(i.code) is not None for i in items)
        ]
        alpha = _cronbach(np.array(complete).reshape(len(complete), len(items)))
        alpha_n = len(complete) if len(items) >= 2 else 0
        low = high = None
        if alpha is not None:  # Feldt: 1 − (1 − α)·F quantiles with n − 1 and (n − 1)(k − 1) df
            df1, df2 = alpha_n - 1, (alpha_n - 1) * (len(items) - 1)
            low = 1 - (1 - alpha) * stats.f.isf(0.025, df1, df2)
            high = 1 - (1 - alpha) * stats.f.isf(0.975, df1, df2)
        configured = generated.configured.get((instrument_id, code))
        if configured is not None:
            reliability, source = configured, "test_retest"
        elif alpha is not None and alpha_n >= MINIMUM_N and alpha >= RELIABILITY_FLOOR:
            reliability, source = alpha, "cronbach"
        else:
            reliability, source = None, "none"
        sd = float(np.std(scores, ddof=1)) if len(scores) > 1 else None
        dates = [reading.occurred_at.astimezone(STOCKHOLM).date() for reading, _ in first_readings]
        references[(instrument_id, code, perspective)] = {
            "n": len(scores),
            "baseline_from": min(dates),
            "baseline_to": max(dates),
            "mean": float(np.mean(scores)),
            "sd": sd,
            "alpha": alpha,
            "alpha_n": alpha_n,
            "alpha_low": low,
            "alpha_high": high,
            "reliability": reliability,
            "reliability_source": source,
            "usable": bool(len(scores) >= MINIMUM_N and sd and reliability is not None and reliability < 1),
        }
    return references


def expected_progressions(
    generated: Generated, *, until: date | None = None
) -> dict[tuple[int, int, str, str], dict[str, Any]]:
    """Every progression row; with `until`, as it stood at the end of that (local) day: the readings
    after it left out, the norms those of all readings (the norm set in force)."""
    references = expected_references(generated)
    expected = {}
    for key, all_readings in _key_readings(generated).items():
        readings = [
            (reading, score)
            for reading, score in all_readings
            if until is None or reading.occurred_at.astimezone(STOCKHOLM).date() <= until
        ]
        if not readings:
            continue
        (first, first_score), (latest, latest_score) = readings[0], readings[-1]
        reference = references[key[1:]]
        sd, r = reference["sd"], reference["reliability"]
        change = latest_score - first_score if len(readings) >= 2 else None
        rci = classification = meets_mid = None
        if change is None:
            classification = Classification.INSUFFICIENT
        elif not reference["usable"]:
            classification = Classification.NO_NORM
        else:
            rci = change / np.sqrt(2 * sd**2 * (1 - r))
            classification = (
                Classification.IMPROVED
                if rci >= RCI_CUT
                else Classification.WORSE
                if rci <= -RCI_CUT
                else Classification.UNCHANGED
            )
            meets_mid = bool(change >= MID * sd)
        expected[key] = {
            "n_readings": len(readings),
            "first_session_id": first.pk,
            "latest_session_id": latest.pk,
            "first_score": first_score,
            "latest_score": latest_score,
            "latest_on": latest.occurred_at.astimezone(STOCKHOLM).date(),
            "change": change,
            "baseline_sd": sd,
            "reliability": r,
            "rci": None if rci is None else float(rci),
            "classification": classification,
            "meets_mid": meets_mid,
            "insats_id": first.insats_id,
        }
    return expected


def _d_z(changes: np.ndarray) -> float | None:
    """Cohen's d_z: mean change over the sample SD of the changes."""
    if len(changes) < 2 or np.std(changes, ddof=1) < 1e-6:
        return None
    return float(np.mean(changes) / np.std(changes, ddof=1))


def expected_summaries(generated: Generated) -> dict[tuple[int, int, int, str, str], dict[str, Any]]:
    groups = defaultdict(list)
    for (_, instrument_id, code, perspective), row in expected_progressions(generated).items():
        if row["n_readings"] >= 2:
            groups[(row["insats_id"], row["latest_on"].year, instrument_id, code, perspective)].append(row)
    expected = {}
    for key, rows in groups.items():
        changes = np.array([row["change"] for row in rows])
        classifications = [row["classification"] for row in rows]
        expected[key] = {
            "n": len(rows),
            "sum_first": float(np.sum([row["first_score"] for row in rows])),
            "sum_latest": float(np.sum([row["latest_score"] for row in rows])),
            "sum_change": float(np.sum(changes)),
            "sum_change_sq": float(np.sum(changes**2)),
            "n_improved": classifications.count(Classification.IMPROVED),
            "n_unchanged": classifications.count(Classification.UNCHANGED),
            "n_worse": classifications.count(Classification.WORSE),
            "n_mid": sum(1 for row in rows if row["meets_mid"]),
            "d_z": _d_z(changes),
        }
    return expected


# --- Comparing ---------------------------------------------------------------------------------------


def _differences(where: object, expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    problems = []
    for name, value in expected.items():
        stored = actual[name]
        if isinstance(value, float) and isinstance(stored, float):
            same = math.isclose(value, stored, rel_tol=0, abs_tol=TOLERANCE)
        else:
            same = value == stored
        if not same:
            problems.append(f"{where} {name}: expected {value!r}, stored {stored!r}")
    return problems


def _report(problems: list[str]) -> str:
    return f"{len(problems)} differences, e.g.:\n" + "\n".join(problems[:25])


def test_the_generated_data_covers_the_cases_that_matter(generated):
    """The reference computation sees every case the engine must handle (else the comparisons are weak)."""
    scores = expected_scores(generated)
    progressions = expected_progressions(generated)
    references = expected_references(generated)
    statuses = {reading.status for reading in generated.readings}
    assert statuses == {SessionStatus.SUBMITTED, SessionStatus.SUPERSEDED, SessionStatus.DRAFT}
    assert any(reading.withdrawn for reading in generated.readings)
    assert any(score is None for score, _, _ in scores.values())  # fewer than half answered
    assert any(score is not None and 2 * answered == items for score, answered, items in scores.values())
    assert {row["classification"] for row in progressions.values()} == set(Classification.values)
    assert {row["meets_mid"] for row in progressions.values()} == {True, False, None}
    assert {ref["reliability_source"] for ref in references.values()} == {"cronbach", "test_retest", "none"}
    assert {ref["usable"] for ref in references.values()} == {True, False}
    assert all(ref["alpha"] is not None for ref in references.values() if ref["alpha_n"])
    # Stockholm's New Year, still 2025 in UTC: the latest reading of some progression.
    assert any(row["latest_on"] == date(2026, 1, 1) and row["n_readings"] == 2 for row in progressions.values())
    assert {reading.perspective for reading in generated.readings} == {"self", "mentor", "agreed"}
    # The submitted data is what we think it is.
    stored = dict(AssessmentSession.objects.values_list("pk", "status"))
    assert stored == {reading.pk: reading.status for reading in generated.readings}
    withdrawn = set(AssessmentSession.objects.filter(consent_withdrawn=True).values_list("pk", flat=True))
    assert withdrawn == {reading.pk for reading in generated.readings if reading.withdrawn}


def test_every_dimension_score_matches_numpy(generated):
    expected = expected_scores(generated)
    stored = {
        (row["session_id"], row["dimension_id"]): row
        for row in DimensionScore.objects.values("session_id", "dimension_id", "score", "answered", "items")
    }
    assert stored.keys() == expected.keys()
    problems = []
    for key, (score, answered, items) in expected.items():
        problems += _differences(key, {"score": score, "answered": answered, "items": items}, stored[key])
    assert not problems, _report(problems)
    assert set(DimensionScore.objects.values_list("algorithm_version", flat=True)) == {scoring.ALGORITHM_VERSION}


def test_every_norm_matches_numpy_and_scipy(generated):
    _rebuilt(generated)
    expected = expected_references(generated)
    latest = Norm.objects.order_by("-norm_set__version").values_list("norm_set_id", flat=True).first()
    stored = {
        (r.version.instrument_id, r.dimension_code, r.perspective): r.__dict__
        for r in Norm.objects.filter(norm_set_id=latest).select_related("version")
    }
    assert stored.keys() == expected.keys()
    problems = []
    for key, values in expected.items():
        problems += _differences(key, values, stored[key])
    assert not problems, _report(problems)


def test_every_progression_matches_numpy(generated):
    _rebuilt(generated)
    expected = expected_progressions(generated)
    stored = {
        (p.enrolment_id, p.instrument_id, p.dimension_code, p.perspective): {**p.__dict__, "insats_id": None}
        for p in Progression.objects.all()
    }
    assert stored.keys() == expected.keys()
    problems = []
    for key, values in expected.items():
        problems += _differences(key, {**values, "insats_id": None}, stored[key])
    assert not problems, _report(problems)


def test_every_insats_summary_and_its_effect_size_match_numpy(generated):
    _rebuilt(generated)
    expected = expected_summaries(generated)
    stored = {
        (s.insats_id, s.year, s.instrument_id, s.dimension_code, s.perspective): s.__dict__
        for s in InsatsSummary.objects.all()
    }
    assert stored.keys() == expected.keys()
    problems = []
    for key, values in expected.items():
        row = stored[key]
        d_z = values.pop("d_z")
        problems += _differences(key, values, row)
        if d_z is not None:
            n, total, squares = row["n"], row["sum_change"], row["sum_change_sq"]
            from_sums = (total / n) / math.sqrt((squares - total * total / n) / (n - 1))
            problems += _differences(key, {"d_z": d_z}, {"d_z": from_sums})
    assert not problems, _report(problems)
    assert any(key[1] == 2026 for key in expected)  # the New Year reading counts in its local year


# --- The stegförflyttning report's figures and their intervals ----------------------------------------

DAYS_PER_MONTH = 365.25 / 12
REPORT_ROUNDING = {2: 0.005 + 1e-9, 3: 0.0005 + 1e-9, 1: 0.05 + 1e-9}  # the report's decimals


def _ladder_stage(generated: Generated, instrument_id: int, code: str, score: float) -> int | None:
    """The stage of a dimension score: its mean ladder value against the stages' first values."""
    items = [info for info in generated.infos[instrument_id] if info.dimension == code and info.is_rating]
    scale = Item.objects.filter(dimension_id=items[0].dimension_id).select_related("scale").first().scale
    if scale.kind != "ladder" or not scale.stages:
        return None
    mean_value = scale.min_value + score * (scale.max_value - scale.min_value) / 100
    return sum(1 for stage in scale.stages[1:] if mean_value >= stage["from"] - 1e-9)


def _nct_bound(d_z: float, n: int, probability: float) -> float:
    """The d_z whose noncentral t puts the observed t at `probability`: bisection inside three times
    the approximate interval's half-width (Lakens 2013: 1.96·√(1/n + d_z²/2n)), not the app's walk."""
    observed = d_z * math.sqrt(n)
    reach = 3 * 1.96 * math.sqrt(1 + d_z * d_z / 2)  # the half-width in δ = d_z·√n, three times over
    return optimize.bisect(
        lambda delta: stats.nct.cdf(observed, n - 1, delta) - probability,
        observed - reach,
        observed + reach,
        xtol=1e-10,
    ) / math.sqrt(n)


def expected_report_lines(generated: Generated, year: int) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Per instrument code, dimension and perspective: the report's figures from numpy and scipy, for
    the enrolments as they stood at the year's end (a reading after it moves nobody out of the year)."""
    readings = {reading.pk: reading for reading in generated.readings}
    references = expected_references(generated)
    groups = defaultdict(list)
    as_of_year_end = expected_progressions(generated, until=date(year, 12, 31))
    for (_, instrument_id, code, perspective), row in as_of_year_end.items():
        if row["n_readings"] >= 2 and row["latest_on"].year == year:
            groups[(instrument_id, code, perspective)].append(row)
    lines = {}
    for (instrument_id, code, perspective), rows in groups.items():
        first = np.array([row["first_score"] for row in rows])
        latest = np.array([row["latest_score"] for row in rows])
        changes = latest - first
        n = len(rows)
        classes = [row["classification"] for row in rows]
        classified = sum(
            c in (Classification.IMPROVED, Classification.UNCHANGED, Classification.WORSE) for c in classes
        )
        months = [
            (row["latest_on"] - readings[row["first_session_id"]].occurred_at.astimezone(STOCKHOLM).date()).days
            / DAYS_PER_MONTH
            for row in rows
        ]
        stages = [
            (
                _ladder_stage(generated, instrument_id, code, row["first_score"]),
                _ladder_stage(generated, instrument_id, code, row["latest_score"]),
            )
            for row in rows
        ]
        reference = references[(instrument_id, code, perspective)]
        sem = reference["sd"] * math.sqrt(1 - reference["reliability"]) if reference["usable"] else None
        # NTILE(3): sorted by first score (then enrolment), groups as equal as can be, larger first.
        ordered = sorted(rows, key=lambda row: (row["first_score"], readings[row["first_session_id"]].enrolment_id))
        sizes = [n // 3 + (1 if third < n % 3 else 0) for third in range(3)]
        thirds = [ordered[sum(sizes[:third]) : sum(sizes[: third + 1])] for third in range(3)]
        classified_classes = (Classification.IMPROVED, Classification.UNCHANGED, Classification.WORSE)
        by_third = []
        for part in thirds:
            judged = [row for row in part if row["classification"] in classified_classes]
            improved = sum(row["classification"] == Classification.IMPROVED for row in judged)
            by_third.append(round(100 * improved / len(judged), 1) if judged else None)
        line = {
            "improved_by_third": by_third,
            "n": n,
            "persons": len({readings[row["first_session_id"]].participant.pk for row in rows}),
            "mean_first": float(first.mean()),
            "mean_latest": float(latest.mean()),
            "mean_change": float(changes.mean()),
            "classified": classified,
            "improved": classes.count(Classification.IMPROVED),
            "unchanged": classes.count(Classification.UNCHANGED),
            "worse": classes.count(Classification.WORSE),
            "mid": sum(1 for row in rows if row["meets_mid"]),
            "months_median": float(np.median(months)),
            "months_range": [min(months), max(months)],
            "sem": sem,
            "threshold": None if sem is None else RCI_CUT * math.sqrt(2) * sem,  # the classification's own cut
            "stage_moves": [(a, b) for a, b in stages if a is not None and b is not None],
            "changes": changes,
            "first": first,
            "latest": latest,
        }
        lines[(generated.instrument_codes[instrument_id], code, perspective)] = line
    return lines


def test_the_progression_report_matches_numpy_and_scipy_with_its_intervals(generated):
    """Every figure of the internal stegförflyttning report, for every year with a latest reading,
    against numpy and scipy from the generated answers: means and their t intervals, d_z and its
    noncentral-t interval, Wilson intervals of the shares, SEM and the reliable-change threshold,
    median months and the stage moves."""
    _rebuilt(generated)
    forbund = generated.readings[0].participant.forbund
    coordinator = user_with_role(Role.COORDINATOR, forbund=forbund)
    years = sorted(
        {row["latest_on"].year for row in expected_progressions(generated).values() if row["n_readings"] >= 2}
    )
    assert len(years) >= 2
    checked = 0
    for year in years:
        report = build(
            coordinator, "progression", forbund=forbund.code, period="helar", ar=str(year), **{"from": "", "to": ""}
        )
        lines = expected_report_lines(generated, year)
        got = {(d["instrument"], d["dimension"], d["perspective"]): d for d in report.data["dimensions"]}
        assert got.keys() == lines.keys()
        for key, want in lines.items():
            d = got[key]
            where = (year, *key)
            assert (d["n"], d["persons"], d["classified"]) == (want["n"], want["persons"], want["classified"]), where
            for name in ("first", "latest", "change"):
                values = want[name] if name != "change" else want["changes"]
                assert d[f"mean_{name}"] == pytest.approx(values.mean(), abs=REPORT_ROUNDING[2]), where
                if want["n"] >= 2:
                    low, high = stats.ttest_1samp(values, 0).confidence_interval(0.95)
                    assert d[f"mean_{name}_ci"] == pytest.approx([low, high], abs=REPORT_ROUNDING[2]), where
            changes = want["changes"]
            if want["n"] >= 3 and np.std(changes, ddof=1) > 1e-6:
                d_z = changes.mean() / np.std(changes, ddof=1)
                assert d["d_z"] == pytest.approx(d_z, abs=REPORT_ROUNDING[3]), where
                bounds = [_nct_bound(d_z, want["n"], 0.975), _nct_bound(d_z, want["n"], 0.025)]
                assert d["d_z_ci"] == pytest.approx(bounds, abs=REPORT_ROUNDING[3]), where
                assert d["d_z_ci"][0] < d["d_z"] < d["d_z_ci"][1]
            shares = [d["share_improved"], d["share_unchanged"], d["share_worse"]]
            if want["classified"]:
                assert sum(shares) == pytest.approx(100.0), where  # largest remainder
                for name in ("improved", "unchanged", "worse", "mid"):
                    exact = 100 * want[name] / want["classified"]
                    interval = stats.binomtest(want[name], want["classified"]).proportion_ci(0.95, method="wilson")
                    assert d[f"share_{name}_ci"] == pytest.approx(
                        [100 * interval.low, 100 * interval.high], abs=REPORT_ROUNDING[1]
                    ), where
                    assert abs((d[f"share_{name}"]) - exact) <= 0.1 + 1e-9, where
                assert d["sem"] == pytest.approx([want["sem"]] * 2, abs=REPORT_ROUNDING[2]), where
                assert d["threshold"] == pytest.approx([want["threshold"]] * 2, abs=REPORT_ROUNDING[2]), where
            else:
                assert shares == [None, None, None] and d["sem"] is None, where
            assert d["months_median"] == pytest.approx(want["months_median"], abs=REPORT_ROUNDING[1]), where
            assert d["months_range"] == pytest.approx(want["months_range"], abs=REPORT_ROUNDING[1]), where
            if want["classified"]:
                assert d["improved_by_third"] == want["improved_by_third"], where
            moves = want["stage_moves"]
            assert d["staged"] == len(moves), where
            if moves:
                up = sum(b > a for a, b in moves)
                down = sum(b < a for a, b in moves)
                assert abs(d["share_stage_up"] - 100 * up / len(moves)) <= 0.1 + 1e-9, where
                assert abs(d["share_stage_down"] - 100 * down / len(moves)) <= 0.1 + 1e-9, where
            checked += 1
    assert checked >= 20
    stored = expected_progressions(generated)
    moved = [
        key
        for key, row in expected_progressions(generated, until=date(years[0], 12, 31)).items()
        if row["n_readings"] >= 2 and row["latest_on"].year == years[0] and stored[key]["latest_on"].year > years[0]
    ]
    assert moved  # enrolments measured again later still count in the earlier year, as they stood then
