"""Run by tests/config/test_replica.py against a real streaming replica it started: DATABASE_URL is
its primary, DATABASE_REPLICA_URL the standby (pg_basebackup -R of that primary). Not collected
otherwise (its name does not start with test_), and skipped without a replica."""

import json
import os
import subprocess
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from participants.models import Role
from tests.factories import user_with_role
from tests.surveys.factories import measured_enrolment, shipped_version, valid_answers

pytestmark = [
    pytest.mark.skipif(not os.environ.get("DATABASE_REPLICA_URL"), reason="no read replica (DATABASE_REPLICA_URL)"),
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
]


def _sql(alias: str, statement: str, params: list | None = None):  # noqa: ANN202
    with connections[alias].cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.fetchone()[0]


def _replica_caught_up() -> None:
    """Wait until the standby has replayed everything the primary has written so far."""
    written = _sql("default", "SELECT pg_current_wal_lsn()::text")
    deadline = time.monotonic() + 30
    while not _sql("replica", "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [written]):
        assert time.monotonic() < deadline, "the standby did not catch up within 30 s"
        time.sleep(0.05)


def _replay_paused(paused: bool) -> None:
    _sql("replica", f"SELECT {'pg_wal_replay_pause' if paused else 'pg_wal_replay_resume'}()::text")
    wanted = "paused" if paused else "not paused"
    deadline = time.monotonic() + 10
    while _sql("replica", "SELECT pg_get_wal_replay_pause_state()") != wanted:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _registrations(client: Client, forbund_code: str) -> int:
    """The participant-flow report's count of registrations in the last 90 days."""
    today = timezone.localdate()
    url = f"/api/v1/rapporter/participant-flow/?forbund={forbund_code}&from={today - timedelta(days=90)}&to={today}"
    response = client.get(url)
    assert response.status_code == 200, response.content
    return response.json()["registrations"]["total"]


def _reading(world, version) -> dict:  # noqa: ANN001
    return {
        "client_uuid": str(uuid.uuid4()),
        "enrolment": world.enrolment.pk,
        "instrument": "stegvis-progression",
        "version": version.number,
        "perspective": "mentor",
        "language": "sv",
        "answers": valid_answers(version, "mentor"),
    }


def _post_reading(tablet: Client, world, version) -> tuple[int, float, int]:  # noqa: ANN001
    """Status, seconds and queries the replica saw for one reading sent as the tablet sends it."""
    body = json.dumps(_reading(world, version))
    with CaptureQueriesContext(connections["replica"]) as replica:
        started = time.perf_counter()
        response = tablet.post(reverse("api_session_list"), body, content_type="application/json")
        seconds = time.perf_counter() - started
    return response.status_code, seconds, len(replica)


def test_reports_come_from_the_replica_and_the_tablets_writes_never_wait_for_it():
    version = shipped_version()
    world = measured_enrolment()
    forbund = world.forbund
    coordinator = user_with_role(Role.COORDINATOR, forbund=forbund)
    reports = Client()
    reports.force_login(coordinator)
    tablet = Client()
    tablet.force_login(world.mentor)
    _replica_caught_up()

    # The report is computed on the replica: the primary only answers who the user is and may see.
    with CaptureQueriesContext(connections["default"]) as primary, CaptureQueriesContext(connections["replica"]) as rep:
        assert _registrations(reports, forbund.code) == 1
    assert any("participants_enrolment" in query["sql"] for query in rep.captured_queries)
    assert not any("participants_enrolment" in query["sql"] for query in primary.captured_queries)
    baseline = [_post_reading(tablet, world, version) for _ in range(3)]
    assert [status for status, _seconds, _queries in baseline] == [201, 201, 201]

    # With the standby's replay paused, a new registration is on the primary only: the report does
    # not show it yet, so it was read from the replica.
    _replay_paused(True)
    try:
        measured_enrolment(forbund=forbund)
        assert (
            _sql(
                "default",
                "SELECT count(*) FROM participants_enrolment e JOIN participants_insats i "
                "ON i.id = e.insats_id WHERE i.forbund_id = %s",
                [forbund.pk],
            )
            == 2
        )
        assert _registrations(reports, forbund.code) == 1

        # The tablet's readings are stored at once, and nothing of theirs asks the lagging replica.
        lagging = [_post_reading(tablet, world, version) for _ in range(3)]
        assert [(status, queries) for status, _seconds, queries in lagging] == [(201, 0)] * 3
        assert sorted(s for _s, s, _q in lagging)[1] < 2 * sorted(s for _s, s, _q in baseline)[1] + 0.25
        print(
            f"readings: median {sorted(s for _s, s, _q in baseline)[1] * 1000:.0f} ms with the replica streaming, "
            f"{sorted(s for _s, s, _q in lagging)[1] * 1000:.0f} ms with its replay paused"
        )
    finally:
        _replay_paused(False)

    _replica_caught_up()
    assert _registrations(reports, forbund.code) == 2

    # A replica that stops answering: the report is read from the primary instead, not refused.
    stop = json.loads(os.environ["STEGVIS_TEST_STANDBY_STOP"])
    subprocess.run(stop, check=True, capture_output=True, timeout=60)
    connections["replica"].close()
    measured_enrolment(forbund=forbund)
    assert _registrations(reports, forbund.code) == 3
    body = json.dumps(_reading(world, version))
    assert tablet.post(reverse("api_session_list"), body, content_type="application/json").status_code == 201
