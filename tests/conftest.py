import pytest
from django.db import connection

from config.celery import app as celery_app
from tests.database import reseed_migration_data


@pytest.fixture(autouse=True, scope="session")
def _tests_run_on_postgresql(django_db_setup, django_db_blocker):
    """The suite talks to real PostgreSQL only; scripts/test provides DATABASE_URL."""
    with django_db_blocker.unblock():
        assert connection.vendor == "postgresql", "Kör testerna med scripts/test (kräver PostgreSQL via DATABASE_URL)"


@pytest.fixture(autouse=True, scope="session")
def _media_in_a_folder_of_the_run(tmp_path_factory):
    """Files the code stores under MEDIA_ROOT (read-aloud clips generated when an instrument loads,
    pictograms, exports) go to a folder of this test run, never to the project's var/media."""
    from django.test import override_settings

    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield


@pytest.fixture(autouse=True)
def _celery_mode(request, settings):
    """Tasks run eagerly unless a test is marked real_celery (then they go through Redis)."""
    real = request.node.get_closest_marker("real_celery") is not None
    assert settings.REDIS_URL, "REDIS_URL saknas: kör testerna med scripts/test"
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = not real
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def celery_worker_process(settings):
    """A real Celery worker in its own process, consuming from the test Redis."""
    import os
    import subprocess
    import sys
    import time

    import redis as redis_client

    redis_client.Redis.from_url(settings.REDIS_URL).delete("default")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "WARNING",
            "--hostname",
            f"test-{os.getpid()}@%h",
        ],
        env={**os.environ, "HEALTHZ_REQUIRE_WORKER": "1"},
    )
    try:
        deadline = time.monotonic() + 30
        while not celery_app.control.ping(timeout=0.5):
            assert worker.poll() is None, "Celery-arbetaren startade inte"
            assert time.monotonic() < deadline, "Celery-arbetaren svarade inte inom 30 s"
        yield worker
    finally:
        worker.terminate()
        worker.wait(timeout=20)


@pytest.fixture(autouse=True)
def _code_lists_survive_transactional_tests(request, django_db_blocker):
    """Transactional tests flush every table, including the code lists and cost parameters that
    migrations seed: make sure they are there before such a test, and put them back after it."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or bool(marker and marker.kwargs.get("transaction"))
    restored = bool(marker and marker.kwargs.get("serialized_rollback"))  # Django restores these itself

    if transactional and not restored:
        with django_db_blocker.unblock():
            reseed_migration_data()
    yield
    if transactional and not restored:
        with django_db_blocker.unblock():
            reseed_migration_data()


@pytest.fixture(autouse=True)
def _two_factor_only_where_tested(request, settings):
    """Most tests log users in with force_login; two-factor login is tested where marked two_factor."""
    settings.REQUIRE_TWO_FACTOR = request.node.get_closest_marker("two_factor") is not None
