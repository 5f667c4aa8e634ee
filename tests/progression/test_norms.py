"""Versioned norm sets (progression/norms.py): made deliberately with a reason, never moved by a
reading; every progression row records the set and norm it used; too few baselines or no
reliability classify nothing; demo data never sets a real förbund's norms; a perspective that
appears later gets a norm of its own without moving anyone else's; the operator's norms page."""

import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.test import override_settings
from django.urls import reverse

from participants.models import Participant
from progression import norms, scoring
from progression.models import Classification, Norm, NormSet, Progression, ReliabilitySetting, ReliabilitySource
from progression.rebuild import progression_rebuild_inline
from surveys.selectors import area_labels
from tests.factories import operator as operator_user
from tests.factories import registry_world
from tests.progression.helpers import enrol, item_infos, rating_answers, submit, world_create
from tests.surveys.factories import shipped_version, valid_answers

pytestmark = pytest.mark.django_db

START = datetime(2025, 2, 3, 9, tzinfo=UTC)


def measured(world, count: int, *, perspectives=("self", "mentor"), demo: bool = False, seed: int = 1) -> list:  # noqa: ANN001
    """`count` enrolments, each with a first and a later reading per perspective, scored."""
    rng = np.random.default_rng(seed)
    version = shipped_version()
    infos = item_infos(version)
    enrolments = []
    for index in range(count):
        enrolment = enrol(world, world.insatser[index % len(world.insatser)])
        if demo:
            Participant.objects.filter(pk=enrolment.participant_id).update(is_demo=True)
        ability, growth = rng.normal(0, 1), rng.normal(0.8, 1)
        for days, level in ((0, ability), (120, ability + growth)):
            for perspective in perspectives:
                answers = valid_answers(version, perspective)
                answers.update(rating_answers(rng, infos, perspective, level, dict.fromkeys(
                    (info.dimension for info in infos), 0.0)))  # fmt: skip
                submit(world, enrolment, version, perspective, answers, START + timedelta(days=days + index))
        enrolments.append(enrolment)
    return enrolments


def rebuild(reason: str = "") -> None:
    progression_rebuild_inline(new_norms_reason=reason, report=lambda line: None)


@override_settings(NORM_MINIMUM_N=10)
def test_every_row_records_its_norm_and_a_reading_never_moves_the_norms():
    world = world_create()
    measured(world, 14)
    rebuild()
    first = NormSet.objects.get()
    assert (first.version, first.created_by, first.reason) == (1, None, norms.FIRST_SET_REASON)
    rows = Progression.objects.filter(n_readings=2)
    assert rows.exists() and set(rows.values_list("norm_set", flat=True)) == {first.pk}
    for row in rows.select_related("norm", "first_session"):
        assert (row.norm.version_id, row.norm.dimension_code, row.norm.perspective) == (
            row.first_session.version_id, row.dimension_code, row.perspective,
        )  # fmt: skip
        assert (row.baseline_sd, row.reliability) == (row.norm.sd, row.norm.reliability)
    before = list(Norm.objects.values_list("pk", "n", "sd", "reliability"))

    # More people are measured and processed as readings arrive: the norms stay as they were.
    for enrolment in measured(world, 6, seed=2):
        scoring.enrolments_progress(enrolment_ids=[enrolment.pk])
    scoring.sessions_score(session_ids=list(Progression.objects.values_list("latest_session_id", flat=True)))
    assert NormSet.objects.count() == 1
    assert list(Norm.objects.values_list("pk", "n", "sd", "reliability")) == before

    # A new set is an explicit act with a reason; the old one stays, the rows move to the new one.
    operator = operator_user()
    progression_rebuild_inline(new_norms_reason="Årlig omräkning", new_norms_by=operator, report=lambda line: None)
    second = NormSet.objects.get(version=2)
    assert (second.created_by, second.reason) == (operator, "Årlig omräkning")
    assert Norm.objects.filter(norm_set=first).count() == len(before)
    assert set(Progression.objects.values_list("norm_set", flat=True)) == {second.pk}
    assert Norm.objects.filter(norm_set=second, perspective="self").first().n == 20


def test_too_few_baselines_classify_nothing_and_say_so():
    world = world_create()
    measured(world, 8)
    rebuild()  # the default minimum of 30 baselines
    norm = Norm.objects.filter(perspective="self").first()
    assert norm.n == 8 and not norm.usable
    changed = Progression.objects.filter(n_readings=2)
    assert set(changed.values_list("classification", "rci", "meets_mid")) == {(Classification.NO_NORM, None, None)}
    assert Classification.NO_NORM.label == "För få för att bedöma"

    # More baselines, still too few: the nightly completion says how many there are now.
    measured(world, 5, seed=9)
    scoring.progression_sweep()
    assert scoring.norms_complete_and_reclassify() == 13
    refreshed = norms.current_norm_set().norms.get(
        pk__gt=norm.pk, version=norm.version, dimension_code=norm.dimension_code, perspective="self"
    )
    assert (refreshed.n, refreshed.usable) == (13, False)
    assert set(Progression.objects.filter(n_readings=2).values_list("classification", flat=True)) == {
        Classification.NO_NORM
    }
    assert set(Progression.objects.filter(n_readings=1).values_list("classification", flat=True)) <= {
        Classification.INSUFFICIENT
    }


@override_settings(NORM_MINIMUM_N=10)
def test_the_reliability_a_norm_uses_and_its_source():
    world = world_create()
    measured(world, 14)
    version = shipped_version()
    single_item = [code for code, items in _items_per_dimension(version).items() if items == 1]
    multi_item = [code for code, items in _items_per_dimension(version).items() if items >= 2]
    ReliabilitySetting.objects.create(
        instrument=version.instrument, dimension_code=multi_item[0], test_retest=0.77, source="Test och Retest 2024"
    )
    rebuild("Test")
    current = norms.current_norm_set()
    configured = Norm.objects.get(norm_set=current, dimension_code=multi_item[0], perspective="self")
    assert (configured.reliability, configured.reliability_source) == (0.77, ReliabilitySource.TEST_RETEST)
    assert "Test och Retest 2024" in configured.reliability_note  # test–retest first, with its citation
    for norm in Norm.objects.filter(norm_set=current, dimension_code__in=multi_item[1:]):
        if norm.reliability_source == ReliabilitySource.CRONBACH:
            assert norm.reliability == norm.alpha >= norms.RELIABILITY_FLOOR and norm.alpha_n >= 10
            assert norm.alpha_low < norm.alpha < norm.alpha_high
            assert re.search(r"Cronbachs α = [\d,]+ \(n = \d+, 95 % KI [\d,−]+–[\d,]+, Feldt\)", norm.reliability_note)
        else:  # α below the floor is never used instead
            assert norm.reliability is None and not norm.usable
    for norm in Norm.objects.filter(norm_set=current, dimension_code__in=single_item):
        assert (norm.reliability, norm.usable) == (None, False)  # no α for one item, and no borrowed 0.80
        assert "En fråga" in norm.reliability_note


def _items_per_dimension(version) -> dict[str, int]:  # noqa: ANN001
    counts: dict[str, int] = {}
    for info in item_infos(version):
        if info.is_rating and info.kind == "ladder" and info.applies_to == "both":
            counts[info.dimension] = counts.get(info.dimension, 0) + 1
    return counts


@override_settings(NORM_MINIMUM_N=10)
def test_demo_data_never_sets_the_norms_once_real_data_exists():
    world = world_create()
    measured(world, 12, demo=True, seed=3)
    rebuild("Bara demodata")
    demo_only = norms.current_norm_set()
    assert not demo_only.demo_excluded and demo_only.norms.filter(perspective="self").first().n == 12

    measured(world, 11, seed=4)  # a förbund's own people
    rebuild("Riktiga data inlästa")
    real = norms.current_norm_set()
    assert real.demo_excluded
    assert {norm.n for norm in real.norms.filter(perspective__in=["self", "mentor"])} == {11}


@override_settings(NORM_MINIMUM_N=10)
def test_the_nightly_completion_drops_demo_norms_once_real_baselines_arrive():
    """Without anyone asking for new norms: the completion replaces a demo-based set as soon as a
    förbund's own people have baselines, and reclassifies every row against it."""
    world = world_create()
    measured(world, 12, demo=True, seed=3)
    rebuild("Bara demodata")
    measured(world, 11, seed=4)
    scoring.progression_sweep()
    assert not norms.current_norm_set().demo_excluded

    reclassified = scoring.norms_complete_and_reclassify()

    real = norms.current_norm_set()
    assert real.demo_excluded and "Demodata utesluten" in real.reason
    assert {norm.n for norm in real.norms.filter(perspective__in=["self", "mentor"])} == {11}
    assert reclassified == 23  # every enrolment, demo and real
    assert set(Progression.objects.values_list("norm_set_id", flat=True)) == {real.pk}
    assert scoring.norms_complete_and_reclassify() == 0  # and once only


@override_settings(NORM_MINIMUM_N=10)
def test_a_perspective_that_appears_later_gets_a_norm_without_moving_anyone_elses():
    world = world_create()
    measured(world, 12, seed=5)
    rebuild("Test")
    kept = {(n.version_id, n.dimension_code, n.perspective): (n.n, n.sd, n.reliability) for n in Norm.objects.all()}
    assert not Norm.objects.filter(perspective="agreed").exists()

    measured(world, 12, perspectives=("agreed",), seed=6)  # joint readings start being made
    scoring.progression_sweep()
    agreed = Progression.objects.filter(perspective="agreed", n_readings=2)
    assert set(agreed.values_list("classification", flat=True)) == {Classification.NO_NORM}  # no norm yet

    reclassified = scoring.norms_complete_and_reclassify()  # nightly, and after every rebuild
    completed = norms.current_norm_set()
    assert completed.version == 2 and completed.created_by is None and "Komplettering" in completed.reason
    assert reclassified == 12
    copied = {
        (n.version_id, n.dimension_code, n.perspective): (n.n, n.sd, n.reliability)
        for n in completed.norms.exclude(perspective="agreed")
    }
    assert copied == kept  # every earlier norm unchanged
    assert completed.norms.filter(perspective="agreed").exists()
    assert Classification.NO_NORM not in set(agreed.filter(norm__usable=True).values_list("classification", flat=True))
    assert set(agreed.values_list("norm_set", flat=True)) == {completed.pk}
    assert scoring.norms_complete_and_reclassify() == 0  # nothing more to complete: no new set
    assert NormSet.objects.count() == 2


def test_the_norms_read_every_table_they_join_after_analysing_it():
    """The norms' joins of the small instrument tables ran for 16 minutes on tables never analysed;
    every table the norm queries read is in NORM_SOURCE_TABLES, which is analysed first."""
    joined = set(re.findall(r"(?:FROM|JOIN)\s+((?:surveys|participants|progression)_\w+)", norms.BASELINES_TABLE_SQL))
    joined |= set(re.findall(r"(?:FROM|JOIN)\s+((?:surveys|participants|progression)_\w+)", norms.ALPHA_SUMS_SQL))
    assert joined and joined <= set(norms.NORM_SOURCE_TABLES)
    assert set(norms.NORM_SOURCE_TABLES) <= set(scoring.SOURCE_TABLES)


def test_the_norms_page_shows_the_set_and_only_the_operator_makes_a_new_one(client):
    measured(world_create(), 6)
    rebuild()
    client.force_login(registry_world().coordinator_sco)
    page = client.get(reverse("norms"))
    assert page.status_code == 200
    text = page.content.decode()
    assert (
        "Version 1 gäller" in text
        and norms.FIRST_SET_REASON in text
        and "För få för att bedöma".lower() in text.lower()
    )
    norm = Norm.objects.filter(norm_set__version=1).first()
    assert f'<th scope="row">{area_labels()[norm.dimension_code]}</th>' in text, "each norm's area by its name"
    assert "Gör nya normer" not in text
    refused = client.post(reverse("norms"), {"reason": "Jag vill ha nya normer", "confirm": "1"})
    assert refused.status_code == 403 and NormSet.objects.count() == 1

    operator = operator_user()
    client.force_login(operator)
    missing = client.post(reverse("norms"), {"reason": "kort"})
    assert "Skriv varför nya normer behövs" in missing.content.decode()
    assert "Bekräfta att alla klassificeringar räknas om" in missing.content.decode()
    assert NormSet.objects.count() == 1  # nothing made
    made = client.post(reverse("norms"), {"reason": "Förbundets egna data inlästa", "confirm": "1"}, follow=True)
    assert "Nya normer är gjorda" in made.content.decode()
    newest = NormSet.objects.get(version=2)
    assert (newest.created_by, newest.reason) == (operator, "Förbundets egna data inlästa")
    assert set(Progression.objects.values_list("norm_set", flat=True)) == {newest.pk}
