"""The norm recompute on the benchmark's S data (2 000 participants) finishes in seconds.

Before the norms analysed the small instrument tables first, PostgreSQL planned a nested loop over
them and the recompute ran for more than 16 minutes at this size (issue #18); after ANALYZE it took
half a second. The limit here is generous for a slow CI machine and still 20 times below that."""

import time

import pytest

from bench import generate
from progression import norms
from progression.rebuild import progression_rebuild_inline

LIMIT_SECONDS = 45


@pytest.fixture
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.usefixtures("fast_passwords")
def test_the_norm_recompute_on_the_s_data_finishes(db):
    world = generate.prepare_reference_data()
    stats = generate.generate(participants=generate.SCALES["S"], seed=18, progress=lambda _line: None, world=world)
    progression_rebuild_inline(report=lambda _line: None)  # scores, the first norms, progression

    started = time.perf_counter()
    norm_set = norms.norm_set_create(by=None, reason="Test: normer ur S-data")
    seconds = time.perf_counter() - started

    assert stats.participants == 2_000
    assert norm_set.norms.filter(usable=True).count() >= 8  # every dimension, self and mentor
    assert seconds < LIMIT_SECONDS, f"Normerna tog {seconds:.1f} s"
    print(f"Normer ur {stats.sessions} mätningar: {seconds:.2f} s")
