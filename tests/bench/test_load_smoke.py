"""Smoke run of the load test (bench/load.py) at a tiny size, so that it cannot rot unnoticed: the
same personas, clients, gunicorn, Celery worker and checks, 4 clients for 3 seconds on the test database.

The load test itself runs with bench/load, never in the suite (docs/reliability.md)."""

import json
import os
import time
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
import redis
from django.db import connection

from bench import load, measure
from bench.main import machine
from surveys.models import AssessmentSession, SessionStatus

# A Redis database of its own, so that its worker takes no task of another test run sharing the server.
SMOKE_REDIS_DATABASE = 13


@pytest.fixture
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.django_db(transaction=True)  # gunicorn and the worker read what the test commits
@pytest.mark.usefixtures("fast_passwords")
def test_mixed_load_has_no_errors_and_every_reading_is_stored_once_and_scored(settings, tmp_path):
    redis_url = urlsplit(settings.REDIS_URL)._replace(path=f"/{SMOKE_REDIS_DATABASE}").geturl()
    redis.Redis.from_url(redis_url).flushdb()
    settings.REDIS_URL = redis_url  # the queue the check waits for
    database_url = urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{connection.settings_dict['NAME']}")
    env = {
        **os.environ,
        "DATABASE_URL": database_url.geturl(),
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "HEALTHZ_REQUIRE_WORKER": "0",
    }
    prepared = load.prepare(participants=150, clients=4, fast=False, seed=5)

    results = load.run(
        world=prepared["world"], personas=prepared["personas"], seconds=3, env=env, logs=tmp_path, drain_timeout=60
    )

    assert results["total"]["errors"] == 0, results["error_samples"]
    assert results["clients_crashed"] == []
    assert {"report", "api", "page", "submit"} <= set(results["kinds"])
    assert all(s["requests"] > 0 and s["p95_ms"] > 0 for s in results["kinds"].values())
    readings = results["readings"]
    assert readings["new_uuids_sent"] == readings["confirmed"] == readings["stored"] > 0
    assert readings["duplicates"] == readings["lost"] == readings["unscored"] == readings["task_failures"] == 0
    assert load.clean(results)
    # Independently of the check's own query: every reading, generated or submitted, carries its scores.
    assert not AssessmentSession.objects.filter(status=SessionStatus.SUBMITTED, scoring__isnull=True).exists()
    assert AssessmentSession.objects.count() == prepared["data"]["sessions"] + readings["stored"]
    table = load.build_table({**results, "data": prepared["data"], "machine": machine()})
    assert "| all " in table and "duplicates 0, lost 0, unscored 0" in table


def test_unexpected_answers_count_as_errors_by_kind_and_status(monkeypatch):
    """The client's own checks, against a fake server that answers every POST with 201 (so resends
    and double submissions are wrong) and every page with a redirect to the login."""

    def fake_request(port, method, path, *, token, body=None, headers=None):
        if method == "POST":
            return 201, json.dumps({"client_uuid": body["client_uuid"]}).encode()
        if headers and headers.get("Accept") == "text/html":
            return 302, b""
        return 200, b"{}"

    monkeypatch.setattr(measure, "request", fake_request)
    persona = load.Persona("mentor", "coordinator", "sessionid=x", "sco", [load.Case(1, "jonsbo", "SC%C3%96-A", [])])
    tally = load.Tally()

    load.LoadClient(0, persona, SimpleNamespace(items=[]), 1, tally, seed=3).run(time.perf_counter() + 0.3)

    kinds_with_errors = {(kind, status) for kind, _, status in tally.errors}
    assert kinds_with_errors == {("page", 302), ("resend", 201), ("double", 201)}
    doubles = len(tally.latencies[("double", "POST bedomningar/")]) // 2
    # A reading counts as confirmed only when its answers were right: not the doubled ones.
    assert len(tally.sent) - len(tally.confirmed) == doubles > 0
