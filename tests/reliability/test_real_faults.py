"""Faults injected into real processes (issue #10, item 4): a Redis server of the test's own stopped
while readings are submitted, a Celery worker killed with SIGKILL in the middle of a rebuild, and a
PostgreSQL cluster of the test's own stopped and started while clients submit through gunicorn.

No mocks: every server is a process the test starts on a free port and stops again. The figures
each test prints (run with -s) are the ones in docs/reliability.md."""

import http.client
import json
import math
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis as redis_client
from django.db import connection
from django.db.models import DateTimeField, Model
from django.test import Client
from django.urls import reverse

from config.celery import app as celery_app
from participants.models import Enrolment
from progression import scoring
from progression.models import (
    DimensionScore,
    InsatsSummary,
    Norm,
    NormSet,
    Progression,
    RebuildJob,
    RebuildPhase,
    SessionScoring,
)
from progression.rebuild import progression_rebuild_inline, rebuild_resume_stalled, rebuild_start
from surveys.models import AssessmentSession
from tests.progression.helpers import enrol, world_create
from tests.surveys.factories import shipped_version, valid_answers

PROJECT = Path(__file__).resolve().parents[2]
REDIS_SERVER = shutil.which("redis-server")
PG_BIN = max(
    (path for path in Path("/usr/lib/postgresql").glob("*/bin") if (path / "initdb").exists()),
    key=lambda path: [int(part) for part in path.parent.name.split(".") if part.isdigit()],
    default=None,
)
needs_redis = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server saknas (Debian-paketet redis-server)")
needs_postgres = pytest.mark.skipif(
    PG_BIN is None, reason="initdb saknas (/usr/lib/postgresql/*/bin; Debian-paketet postgresql)"
)
DERIVED = (SessionScoring, DimensionScore, Progression, InsatsSummary)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], object], *, timeout: float, what: str, interval: float = 0.05) -> object:
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"{what}: inte inom {timeout} s"
        time.sleep(interval)
    return result


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 20 s; only processes this module started."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# --- Servers the tests own -------------------------------------------------------------------------


class RedisServer:
    """redis-server on a free port, without persistence: stopping it loses what it held, as a crash would."""

    def __init__(self, directory: Path) -> None:
        self.directory, self.port = directory, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.directory,
            stdout=subprocess.DEVNULL,
        )
        wait_for(self._answers, timeout=10, what="Redis startade")

    def stop(self) -> None:
        stop_process(self.process)
        assert not self._answers()

    def _answers(self) -> bool:
        try:
            return redis_client.Redis.from_url(self.url, socket_connect_timeout=0.5).ping()
        except redis_client.ConnectionError:
            return False


class PostgresCluster:
    """A throw-away cluster (initdb) on a free port. As root it runs as the postgres user, as scripts/lib.sh does."""

    def __init__(self, directory: Path) -> None:
        self.directory, self.port = directory, free_port()
        self.data = directory / "data"
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(directory, user="postgres")
        self.run("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8")

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run("pg_ctl", "-D", self.data, "-l", self.directory / "server.log", "-w", "-o", options, "start")

    def stop(self) -> None:
        self.run("pg_ctl", "-D", self.data, "-w", "-m", "fast", "stop")

    def restart(self) -> None:
        """Fast restart: the sessions are ended, the server is back at once (options as when started)."""
        self.run("pg_ctl", "-D", self.data, "-l", self.directory / "server.log", "-w", "-m", "fast", "restart")

    def run(self, program: str, *args: object) -> None:
        subprocess.run([*self.as_user, PG_BIN / program, *map(str, args)], check=True, capture_output=True)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with tempfile.TemporaryDirectory(prefix="stegvis-redis-") as directory:
        server = RedisServer(Path(directory))
        server.start()
        try:
            yield server
        finally:
            stop_process(server.process)


@pytest.fixture
def broker(redis_server, monkeypatch, settings) -> RedisServer:
    """This process's Celery app and cache use the test's own Redis (fresh pools, nothing cached reused)."""
    for name in ("broker_url", "broker_write_url", "broker_read_url"):
        monkeypatch.setitem(celery_app.conf, name, redis_server.url)
    monkeypatch.setattr(celery_app, "_pool", None)
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_server.url}
    }
    return redis_server


def current_database_url() -> str:
    """The URL of the database this test runs in, for processes that must see its committed rows."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgresql://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """A Celery worker process as in the Procfile (prefork, one pool process, prefetch 1)."""

    def __init__(self, *, queue: str, database_url: str, redis_url: str, log: Path) -> None:
        self.log = log
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "--concurrency", "1",
            "--prefetch-multiplier", "1", "--without-mingle", "--without-gossip", "--loglevel", "INFO",
            "--hostname", f"{queue}-{uuid.uuid4().hex[:8]}@%h",
        ]  # fmt: skip
        env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
        with log.open("ab") as output:
            self.process = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=output, stderr=subprocess.STDOUT)
        self.log_start = log.stat().st_size

    def wait_until_ready(self) -> "Worker":
        def ready() -> bool:
            assert self.process.poll() is None, self.log.read_text()
            return " ready." in self.log.read_text()[self.log_start :]

        wait_for(ready, timeout=60, what="Celery-arbetaren blev redo")
        return self

    def pool_processes(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def stop(self) -> None:
        stop_process(self.process)


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    """Workers a test starts (appended here); all stopped at the end, before the database is flushed."""
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()


# --- Comparing derived tables ------------------------------------------------------------------------


def derived_rows(model: type[Model]) -> list[tuple]:
    """Every row as a tuple of its columns but the id and timestamps, sorted."""
    columns = [f.attname for f in model._meta.concrete_fields if not f.primary_key and not isinstance(f, DateTimeField)]
    rows = model.objects.values_list(*columns)
    return sorted(rows, key=lambda row: tuple((value is None, value if value is not None else 0) for value in row))


def derived_tables(models: tuple[type[Model], ...] = DERIVED) -> dict[str, list[tuple]]:
    return {model._meta.db_table: derived_rows(model) for model in models}


def _same(a: object, b: object) -> bool:
    # The same sum taken in another order may differ in the last bit.
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)
    return a == b


def table_differences(expected: dict[str, list[tuple]], actual: dict[str, list[tuple]]) -> list[str]:
    problems = []
    for table, rows in expected.items():
        other = actual[table]
        if len(rows) != len(other):
            problems.append(f"{table}: {len(rows)} rader väntade, {len(other)} fanns")
            continue
        mismatched = [(a, b) for a, b in zip(rows, other, strict=True) if not all(map(_same, a, b))]
        problems.extend(f"{table}: {a} != {b}" for a, b in mismatched[:3])
    return problems


def clear_derived(*, keep_reference: bool = False) -> None:
    for model in DERIVED:
        model.objects.all().delete()
    if not keep_reference:
        Norm.objects.all().delete()
        NormSet.objects.all().delete()


# --- 1. Redis stopped while readings are submitted -----------------------------------------------


def reading_body(enrolment_id: int, answers: dict[str, Any], occurred_at: datetime) -> dict[str, Any]:
    return {
        "client_uuid": str(uuid.uuid4()),
        "enrolment": enrolment_id,
        "perspective": "mentor",
        "instrument": "stegvis-progression",
        "answers": answers,
        "occurred_at": occurred_at.isoformat(),
    }


@needs_redis
@pytest.mark.real_celery
@pytest.mark.django_db(transaction=True)
def test_readings_submitted_while_redis_is_stopped_are_kept_and_scored_when_it_is_back(broker, workers, tmp_path):
    worker = Worker(queue="default", database_url=current_database_url(), redis_url=broker.url, log=tmp_path / "log")
    workers.append(worker)
    version = shipped_version()
    world = world_create(insatser=2)
    enrolments = [enrol(world, world.insatser[index % 2]) for index in range(4)]
    client = Client()
    client.force_login(world.mentor)
    worker.wait_until_ready()
    start = datetime(2026, 1, 12, 9, tzinfo=UTC)

    def submit(enrolment: Enrolment, day: int, level: int) -> tuple[dict[str, Any], Any, float]:
        answers = valid_answers(version, "mentor")
        answers.update({code: level for code in answers if code not in ("aktivitet_timmar", "prognos_12_manader")})
        body = reading_body(enrolment.pk, answers, start + timedelta(days=day))
        began = time.monotonic()
        response = client.post(reverse("api_session_list"), body, content_type="application/json")
        return body, response, time.monotonic() - began

    # Redis up: the worker scores each reading as it arrives.
    for index, enrolment in enumerate(enrolments):
        assert submit(enrolment, 0, 2 + index)[1].status_code == 201
    wait_for(lambda: not scoring.unprocessed_sessions().exists(), timeout=30, what="poäng medan Redis är uppe")

    # Redis stopped: every reading is still stored and acknowledged.
    broker.stop()
    stopped_at = time.monotonic()
    during = []
    for index, enrolment in enumerate(enrolments):
        during.append(submit(enrolment, 90, 6 + index))
    outage_seconds = time.monotonic() - stopped_at
    assert [response.status_code for _, response, _ in during] == [201] * len(during)
    assert {response.json()["client_uuid"] for _, response, _ in during} == {
        body["client_uuid"] for body, _, _ in during
    }
    stored = set(AssessmentSession.objects.values_list("client_uuid", flat=True))
    assert {uuid.UUID(body["client_uuid"]) for body, _, _ in during} <= stored
    assert scoring.unprocessed_sessions().count() == len(during)  # none scored while Redis was away

    # Redis back: the beat's sweep (sent the way beat sends it) reaches the worker, which reconnects.
    broker.start()
    back_at = time.monotonic()
    celery_app.send_task("progression.tasks.progression_sweep")
    wait_for(lambda: not scoring.unprocessed_sessions().exists(), timeout=60, what="svepet poängsatte allt")
    catch_up_seconds = time.monotonic() - back_at
    # The nightly completion, as a rebuild runs it too: a key's unusable norm may have more baselines.
    scoring.norms_complete_and_reclassify()

    incremental = derived_tables()
    assert all(incremental[model._meta.db_table] for model in DERIVED)
    clear_derived(keep_reference=True)  # the norms stay, as a rebuild without --recompute-reference keeps them
    progression_rebuild_inline(report=lambda _line: None)
    assert table_differences(derived_tables(), incremental) == []
    print(
        f"\nRedis: {len(during)} POST medan Redis var stoppad ({outage_seconds:.1f} s), alla 201, "
        f"längsta svar {max(seconds for *_, seconds in during):.2f} s; ifatt {catch_up_seconds:.1f} s efter "
        f"omstart; {AssessmentSession.objects.count()} mätningar = omräkningen"
    )


# --- 2. A worker killed with SIGKILL in the middle of a rebuild ------------------------------------

# About 900 readings in chunks of 25: some 40 chunk tasks, a few seconds on the worker.
REBUILD_PARTICIPANTS = 80
REBUILD_CHUNK_SIZE = 25


@pytest.fixture
def rebuild_data(settings) -> None:
    """Readings loaded with COPY by the benchmark generator (bench/generate.py)."""
    from bench import generate

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    world = generate.prepare_reference_data()
    generate.generate(participants=REBUILD_PARTICIPANTS, seed=10, progress=lambda _line: None, world=world)


def watch_rebuild(job: RebuildJob, until: Callable[[RebuildJob], bool], *, timeout: float) -> RebuildJob:
    """Poll the job's row (every 5 ms) until the condition holds; a failed job fails the test."""

    def check() -> RebuildJob | None:
        current = RebuildJob.objects.get(pk=job.pk)
        assert current.phase != RebuildPhase.FAILED, current.error
        return current if until(current) else None

    return wait_for(check, timeout=timeout, what=f"omräkning {job.pk}", interval=0.005)


def finished(job: RebuildJob) -> bool:
    return job.phase == RebuildPhase.DONE


def under_way(job: RebuildJob) -> bool:
    """Some of the work is done, not all of it."""
    return not finished(job) and (job.phase != RebuildPhase.SCORES or job.chunks_done > 0)


def worker_in_a_query() -> bool:
    """Is the worker in the middle of a chunk: running a statement in this test's own database, other
    than the bookkeeping on the job's row that ends a chunk?"""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' "
            "AND pid <> pg_backend_pid() AND query NOT LIKE %s",
            [f"%{RebuildJob._meta.db_table}%"],
        )
        return cursor.fetchone()[0] > 0


@needs_redis
@pytest.mark.real_celery
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_rebuild_converges_to_the_tables_of_an_uninterrupted_rebuild(
    rebuild_data, broker, workers, tmp_path
):
    database_url = current_database_url()
    log = tmp_path / "worker.log"
    workers.append(Worker(queue="long", database_url=database_url, redis_url=broker.url, log=log))
    began = time.monotonic()
    progression_rebuild_inline(report=lambda _line: None)
    clean = derived_tables()
    clean_seconds = time.monotonic() - began
    assert all(clean.values()), {table: len(rows) for table, rows in clean.items()}
    workers[0].wait_until_ready()
    broker_keys = redis_client.Redis.from_url(broker.url)
    # Each run starts from empty derived tables but the norms, which a rebuild keeps (they were
    # computed by the clean rebuild above from the same readings).

    # The pool process is killed while it runs a chunk (as the OOM killer would): the parent puts the
    # chunk back on the queue (acks_late, reject_on_worker_lost) and the same rebuild finishes by itself.
    clear_derived(keep_reference=True)
    job = rebuild_start(chunk_size=REBUILD_CHUNK_SIZE)  # in autocommit its first phase is queued at once
    pool_killed = watch_rebuild(job, lambda j: finished(j) or under_way(j) and worker_in_a_query(), timeout=60)
    assert not finished(pool_killed), "omräkningen blev klar före avbrottet: öka REBUILD_PARTICIPANTS"
    (pool_process,) = workers[0].pool_processes()
    os.kill(pool_process, signal.SIGKILL)
    killed_at = time.monotonic()
    watch_rebuild(job, finished, timeout=60)
    pool_recovery_seconds = time.monotonic() - killed_at
    assert "WorkerLostError" in log.read_text()  # the chunk it was running was lost, and run again
    assert table_differences(clean, derived_tables()) == []

    # The whole worker is killed while it runs a chunk after the scores (the progression rows were all
    # deleted when that phase began): the chunk stays unacknowledged with the broker (until the
    # visibility timeout) and the job where it was. The beat task that resumes stalled phases (run
    # here at once instead of after 10 minutes) publishes the missing chunks to a new worker, and the
    # same job converges.
    clear_derived(keep_reference=True)
    job = rebuild_start(chunk_size=REBUILD_CHUNK_SIZE)
    late = (RebuildPhase.PROGRESSION, RebuildPhase.SUMMARIES)
    watch_rebuild(job, lambda j: finished(j) or j.phase in late and worker_in_a_query(), timeout=60)
    for pid in [workers[0].process.pid, *workers[0].pool_processes()]:
        os.kill(pid, signal.SIGKILL)
    workers[0].process.wait(timeout=10)
    stuck = RebuildJob.objects.get(pk=job.pk)
    assert not finished(stuck), "omräkningen blev klar före avbrottet: öka REBUILD_PARTICIPANTS"
    assert table_differences(clean, derived_tables()) != []  # the kill left the tables half rebuilt
    assert broker_keys.hlen("unacked") == 1  # the chunk it was running, never acknowledged
    killed_at = time.monotonic()
    workers.append(Worker(queue="long", database_url=database_url, redis_url=broker.url, log=log).wait_until_ready())
    assert rebuild_resume_stalled(stalled_after=timedelta(0)) == 1
    watch_rebuild(job, finished, timeout=60)
    wait_for(lambda: broker_keys.llen("long") == 0, timeout=30, what="long-kön tömd")
    rerun_seconds = time.monotonic() - killed_at
    assert table_differences(clean, derived_tables()) == []
    assert broker_keys.hlen("unacked") == 1  # the lost chunk comes back after the visibility timeout: a no-op
    print(
        f"\nOmräkning: {AssessmentSession.objects.count()} mätningar, {len(clean['progression_dimensionscore'])} "
        f"dimensionspoäng, {len(clean['progression_progression'])} stegförflyttningar, ren omräkning (inline) "
        f"{clean_seconds:.1f} s. SIGKILL av poolprocessen mitt i en chunk ({pool_killed.phase} "
        f"{pool_killed.chunks_done}/{pool_killed.chunks_total}): chunken kördes igen och jobbet blev klart "
        f"{pool_recovery_seconds:.1f} s senare. SIGKILL av hela "
        f"arbetaren ({stuck.phase} {stuck.chunks_done}/{stuck.chunks_total}, 1 obekräftad chunk kvar i Redis): "
        f"ny arbetare och den återupptagna fasen klara {rerun_seconds:.1f} s senare. Tabellerna lika i båda fallen."
    )


# --- 3. PostgreSQL stopped and started under gunicorn -----------------------------------------------

SEED_SCRIPT = """
import json
from datetime import date, timedelta
from django.utils import timezone
from participants.api_keys import api_key_create
from participants.models import Role
from participants.services import enrolment_create
from tests.factories import ForbundFactory, InsatsFactory, register_identified, synthetic_personnummer, user_with_role
from tests.surveys.factories import progression_consent, shipped_version, valid_answers

version = shipped_version()
insats = InsatsFactory(forbund=ForbundFactory())
mentor = user_with_role(Role.MENTOR, insats=insats)
enrolments = []
for serial in range(101, 101 + CLIENTS):
    person = synthetic_personnummer(date(1990, 4, 17), str(serial))
    participant = register_identified(forbund=insats.forbund, by=mentor, personnummer=person)
    progression_consent(participant, by=mentor, granted=True)
    start = timezone.localdate() - timedelta(days=30)
    enrolment = enrolment_create(by=mentor, participant=participant, insats=insats, start_date=start, mentor=mentor)
    enrolments.append(enrolment.pk)
token = api_key_create(user=mentor)[1]
print(json.dumps({"token": token, "enrolments": enrolments, "answers": valid_answers(version, "mentor")}))
"""
CLIENTS = 4
OUTAGE_SECONDS = 3.0
HTTP_TIMEOUT = 15.0


@dataclass
class Answered:
    client_uuid: str
    status: int | str  # the HTTP status, or the exception when there was no answer
    seconds: float
    retry_after: str | None = None
    detail: str = ""


@dataclass
class SubmittingClient:
    """Submits readings one after another, each with a new UUID; keeps what was not acknowledged."""

    port: int
    token: str
    enrolment: int
    answers: dict[str, Any]
    answered: list[Answered] = field(default_factory=list)
    unacknowledged: list[dict[str, Any]] = field(default_factory=list)
    retried: list[Answered] = field(default_factory=list)

    def post(self, body: dict[str, Any]) -> Answered:
        began = time.monotonic()
        link = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT)
        try:
            headers = {"Content-Type": "application/json", "Authorization": f"Token {self.token}"}
            link.request("POST", "/api/v1/bedomningar/", json.dumps(body), headers)
            response = link.getresponse()
            content = response.read()
            detail = json.loads(content).get("detail", "") if response.status == 503 else ""
            answer = Answered(
                body["client_uuid"],
                response.status,
                time.monotonic() - began,
                response.getheader("Retry-After"),
                detail,
            )
        except (OSError, http.client.HTTPException, ValueError) as exc:
            answer = Answered(body["client_uuid"], repr(exc), time.monotonic() - began)
        finally:
            link.close()
        return answer

    def acknowledged(self) -> int:
        return sum(answer.status in (200, 201) for answer in self.answered)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            body = reading_body(self.enrolment, self.answers, datetime.now(tz=UTC))
            self.answered.append(answer := self.post(body))
            if answer.status != 201:
                self.unacknowledged.append(body)
                time.sleep(0.2)  # a client honouring Retry-After waits longer; this keeps the outage busy

    def retry_unacknowledged(self) -> None:
        """The same readings again, with the same UUIDs."""
        self.retried = [self.post(body) for body in self.unacknowledged]


@pytest.fixture
def postgres_cluster() -> Iterator[PostgresCluster]:
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("kör som root utan användaren postgres: initdb vägrar köra som root")
    directory = Path(tempfile.mkdtemp(prefix="stegvis-pg-"))
    try:
        cluster = PostgresCluster(directory)
        cluster.start()
        yield cluster
    finally:
        if (directory / "data" / "postmaster.pid").exists():
            cluster.run("pg_ctl", "-D", cluster.data, "-w", "-m", "immediate", "stop")
        shutil.rmtree(directory, ignore_errors=True)


def count(clients: list[SubmittingClient], *statuses: int) -> int:
    return sum(answer.status in statuses for client in clients for answer in list(client.answered))


def in_threads(targets: list[Callable[[], object]]) -> list[threading.Thread]:
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    return threads


def health(port: int) -> int | None:
    link = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        link.request("GET", "/healthz")
        return link.getresponse().status
    except OSError:
        return None
    finally:
        link.close()


def manage(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@needs_redis
@needs_postgres
def test_postgresql_restarted_under_load_gives_503s_and_loses_no_acknowledged_reading(
    postgres_cluster, redis_server, tmp_path
):
    with psycopg.connect(postgres_cluster.url("postgres"), autocommit=True) as admin:
        admin.execute("CREATE DATABASE stegvis")
    env = {
        **os.environ,
        "DATABASE_URL": postgres_cluster.url("stegvis"),
        "REDIS_URL": redis_server.url,
        "HEALTHZ_REQUIRE_WORKER": "0",
        # One mentor's key on four clients submitting without pause: far beyond the API's rate limits,
        # which this test is not about (tests/config/test_throttling.py is).
        "STEGVIS_API_RATE_USER": "1000000/hour",
        "STEGVIS_API_RATE_IP": "1000000/hour",
    }

    def stop_and_start() -> None:
        postgres_cluster.stop()
        time.sleep(OUTAGE_SECONDS)
        postgres_cluster.start()

    port = free_port()
    server_log = tmp_path / "gunicorn.log"
    with server_log.open("wb") as output:  # as in the Procfile, with two workers for two cores
        server = subprocess.Popen(
            [Path(sys.executable).parent / "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
            cwd=PROJECT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    faults = {"stopp och start": stop_and_start, "omstart": postgres_cluster.restart}
    figures: list[str] = []
    try:
        manage("migrate", "-v", "0", env=env)  # while gunicorn boots
        seeded = json.loads(manage("shell", "-c", f"CLIENTS = {CLIENTS}\n{SEED_SCRIPT}", env=env).splitlines()[-1])
        wait_for(lambda: health(port) == 200, timeout=60, what="gunicorn svarade på /healthz")
        clients = [
            SubmittingClient(port, seeded["token"], enrolment, seeded["answers"]) for enrolment in seeded["enrolments"]
        ]
        stop = threading.Event()
        threads = in_threads([lambda client=client: client.run(stop) for client in clients])
        try:
            wait_for(lambda: all(c.acknowledged() >= 2 for c in clients), timeout=60, what="klienterna kom igång")
            for name, inject in faults.items():
                acknowledged, refused = count(clients, 200, 201), count(clients, 503)
                began = time.monotonic()
                inject()
                back = time.monotonic()
                wait_for(
                    lambda wanted=acknowledged + 2 * CLIENTS: count(clients, 200, 201) >= wanted,
                    timeout=30,
                    what=f"inlämningar efter {name}",
                )
                figures.append(
                    f"{name}: nere {back - began:.1f} s, {count(clients, 503) - refused} svar 503, "
                    f"inlämningar igen {time.monotonic() - back:.1f} s efter"
                )
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=HTTP_TIMEOUT + 5)
        threads += in_threads([client.retry_unacknowledged for client in clients])
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads), "en klient hängde"
    finally:
        stop_process(server)
    retries = [answer for client in clients for answer in client.retried]

    answered = [answer for client in clients for answer in client.answered]
    statuses = Counter(answer.status for answer in answered)
    unavailable = [answer for answer in answered if answer.status == 503]
    assert set(statuses) <= {200, 201, 503}, statuses
    assert unavailable, "ingen begäran märkte avbrottet"
    assert all(answer.retry_after == "30" and "kan inte nå databasen" in answer.detail for answer in unavailable)
    assert max(answer.seconds for answer in answered) < HTTP_TIMEOUT
    assert all(answer.status in (200, 201) for answer in retries), Counter(answer.status for answer in retries)
    log = server_log.read_text()
    assert log.count("Booting worker") == 2, "en gunicorn-arbetare startades om"

    acknowledged = {answer.client_uuid for answer in answered if answer.status in (200, 201)}
    submitted = {answer.client_uuid for answer in answered}
    with psycopg.connect(postgres_cluster.url("stegvis")) as database:
        stored = Counter(
            str(row[0]) for row in database.execute("SELECT client_uuid FROM surveys_assessmentsession").fetchall()
        )
        answers_per_reading = set(
            row[0]
            for row in database.execute(
                "SELECT COUNT(a.id) FROM surveys_assessmentsession s "
                "LEFT JOIN surveys_answer a ON a.session_id = s.id GROUP BY s.id"
            ).fetchall()
        )
    assert acknowledged <= set(stored)
    assert set(stored) == submitted  # every reading, 503'd ones retried, and nothing else
    assert set(stored.values()) == {1}
    assert answers_per_reading == {len(seeded["answers"])}
    print(
        f"\nPostgreSQL under {CLIENTS} klienter mot gunicorn: {'; '.join(figures)}. {len(answered)} svar: "
        f"{dict(statuses)}; längsta svar {max(a.seconds for a in answered):.2f} s; {len(retries)} 503:or skickade "
        f"igen: {dict(Counter(a.status for a in retries))}; {len(stored)} mätningar lagrade, var och en en gång"
    )
