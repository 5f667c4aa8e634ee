"""Smoke run of the benchmark code (bench/) at a tiny scale, so that it cannot rot unnoticed.

The benchmarks themselves run with bench/run, never in the suite (docs/performance.md)."""

import pytest
from django.db import connection

from bench import floor, generate, measure
from participants import crypto
from participants.models import Enrolment, IdentityRecord, Participant
from participants.personnummer import parse_personnummer
from progression.models import DimensionScore, Progression
from surveys.models import Answer, AssessmentSession


@pytest.fixture
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.usefixtures("fast_passwords")
def test_generator_loads_consistent_rows_and_the_benchmarks_run(db, tmp_path):
    world = generate.prepare_reference_data()
    stats = generate.generate(participants=30, seed=5, progress=lambda _line: None, world=world)

    # Every reference is checked now, not at the (rolled back) end of the test transaction.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert Participant.objects.count() == stats.participants == 30
    assert Enrolment.objects.count() == stats.enrolments >= 30
    assert AssessmentSession.objects.count() == stats.sessions > 30
    assert Answer.objects.count() == stats.answers > stats.sessions * 10
    real = IdentityRecord.objects.order_by("id").first()
    pnr = parse_personnummer(crypto.decrypt(real.personnummer_encrypted))
    assert real.pnr_index == crypto.pnr_index(pnr.normalised)

    rebuilt = measure.rebuild_inline(chunk_size=100)
    assert rebuilt.seconds > 0
    assert DimensionScore.objects.filter(score__isnull=False).exists()
    # Answers drift upward: on average the latest reading is above the first.
    changes = list(Progression.objects.filter(n_readings__gte=3).values_list("change", flat=True))
    assert sum(changes) / len(changes) > 0

    # The in-engine floor computes the very rows the rebuild stored, table by table.
    norm_set_id = Progression.objects.values_list("norm_set_id", flat=True).first()
    in_engine = floor.in_engine_run(norm_set_id=norm_set_id, repeats=1)
    assert in_engine.differences == {"scores": 0, "progression": 0, "norms": 0, "summaries": 0}
    assert in_engine.same_result and in_engine.seconds > 0
    assert set(in_engine.phases) == {"scores", "reference", "progression", "summaries"}

    incremental = measure.incremental(world, samples=3)
    assert incremental.samples == 3 and incremental.median_ms > 0

    exported = measure.export_csv(forbund_code="sco", limit=1_000_000, directory=tmp_path)
    assert exported.rows == exported.copy_rows > 0
