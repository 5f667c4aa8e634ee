"""The benchmark functions. Each returns plain numbers; bench/main.py runs them and prints the table."""

import csv
import http.client
import itertools
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.db import connection

from bench.generate import World

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

BENCH_NORMS_REASON = "Benchmark: nya normer ur de genererade läsningarna"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0–100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


# --- Processes and memory --------------------------------------------------------------------------


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return 0


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(child) for child in handle.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        pass
    return found


def process_tree(pid: int) -> list[int]:
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        queue += _children(current)
    return pids


class RssSampler:
    """Samples the RSS of a process tree every `interval` seconds; keeps the peaks (MiB)."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid, self.interval = pid, interval
        self.peak_tree_mib = 0.0
        self.peak_process_mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            sizes = [_rss_kib(p) for p in process_tree(self.pid)]
            self.peak_tree_mib = max(self.peak_tree_mib, sum(sizes) / 1024)
            self.peak_process_mib = max(self.peak_process_mib, max(sizes, default=0) / 1024)
            self._stop.wait(self.interval)


class Service:
    """A child process (Celery worker, gunicorn) stopped by its own pid when the bench ends."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.log = name, log
        self._log = log.open("wb")
        self.process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def celery_worker(*, queue: str, concurrency: int, env: dict[str, str], log: Path) -> Service:
    """A worker as in the Procfile (long: concurrency 1, prefetch 1)."""
    service = Service(
        f"celery-{queue}",
        [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queue,
            "--concurrency",
            str(concurrency),
            "--prefetch-multiplier",
            "1",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "WARNING",
            "--hostname",
            f"bench-{queue}-{os.getpid()}@%h",
        ],
        env,
        log,
    )
    from celery import Celery

    from config.celery import app

    deadline = time.monotonic() + 60
    # Ask through the worker's own broker (env's REDIS_URL), which need not be this process's.
    with Celery(broker=env.get("REDIS_URL") or app.conf.broker_url, set_as_current=False) as control:
        while not control.control.ping(destination=[f"bench-{queue}-{os.getpid()}@{os.uname().nodename}"], timeout=0.5):
            if not service.alive() or time.monotonic() > deadline:
                service.stop()
                raise RuntimeError(f"Celery-arbetaren ({queue}) startade inte; se {log}")
    return service


# --- 1 and 6. Full rebuild --------------------------------------------------------------------------


@dataclass
class RebuildResult:
    seconds: float
    peak_tree_mib: float = 0.0
    peak_process_mib: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)


def rebuild_via_worker(worker: Service, *, chunk_size: int, timeout: float = 4 * 3600) -> RebuildResult:
    """rebuild_start on the long queue; wall time until the RebuildJob is done, worker RSS sampled."""
    from progression.models import RebuildJob, RebuildPhase
    from progression.rebuild import rebuild_start

    phases: dict[str, float] = {}
    with RssSampler(worker.pid) as sampler:
        started = time.perf_counter()
        job = rebuild_start(new_norms_reason=BENCH_NORMS_REASON, chunk_size=chunk_size)
        phase = str(RebuildPhase.SCORES)
        phase_started = started
        while True:
            time.sleep(0.25)
            job = RebuildJob.objects.get(pk=job.pk)
            if job.phase != phase:
                now = time.perf_counter()
                phases[phase] = now - phase_started
                phase, phase_started = job.phase, now
            if job.phase in (RebuildPhase.DONE, RebuildPhase.FAILED, RebuildPhase.SUPERSEDED):
                break
            failed = "raised unexpected" in worker.log.read_text(errors="replace") or "TimeLimitExceeded" in (
                worker.log.read_text(errors="replace")
            )
            if failed or not worker.alive() or time.perf_counter() - started > timeout:
                raise RuntimeError(f"Omräkningen blev inte klar: {job}; se {worker.log}")
        seconds = time.perf_counter() - started
    if job.phase != RebuildPhase.DONE:
        raise RuntimeError(f"Omräkningen blev inte klar: {job} {job.error}")
    return RebuildResult(seconds, sampler.peak_tree_mib, sampler.peak_process_mib, phases)


def rebuild_inline(*, chunk_size: int) -> RebuildResult:
    """progression_rebuild_inline in this process (informational)."""
    from progression.rebuild import progression_rebuild_inline

    started = time.perf_counter()
    progression_rebuild_inline(new_norms_reason=BENCH_NORMS_REASON, chunk_size=chunk_size, report=lambda _line: None)
    return RebuildResult(time.perf_counter() - started)


# --- 2. Incremental ----------------------------------------------------------------------------------


def answers_for(world: World, perspective: str, rng: random.Random) -> dict[str, int]:
    """A complete, valid set of answers for one perspective (ladder 1–10, hours, prognosis)."""
    answers = {}
    for item in world.items:
        if perspective not in item.asked_in:
            continue
        if item.kind == "rating":
            answers[item.code] = rng.randint(3, 9)
        elif item.kind == "hours":
            answers[item.code] = rng.randint(0, 30)
        else:
            answers[item.code] = rng.randint(1, 4)
    return answers


def open_enrolments(count: int, rng: random.Random) -> list[int]:
    """Open enrolments of identified (consenting) participants, a seeded random sample."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT e.id FROM participants_enrolment e JOIN participants_participant p ON p.id = e.participant_id
            WHERE e.end_date IS NULL AND NOT p.is_anonymous ORDER BY e.id
            """
        )
        ids = [row[0] for row in cursor.fetchall()]
    return rng.sample(ids, min(count, len(ids)))


@dataclass
class IncrementalResult:
    median_ms: float
    p95_ms: float
    submit_median_ms: float
    process_median_ms: float
    samples: int


def incremental(world: World, *, samples: int = 20, seed: int = 7) -> IncrementalResult:
    """session_submit + session_process for one reading, until its progression row points at it and
    its insats' summary is recomputed. The on-commit hook is switched off meanwhile so that only the
    timed call processes the reading."""
    from django.contrib.auth import get_user_model

    from participants.models import Enrolment
    from progression.models import InsatsSummary, Progression
    from progression.scoring import session_process
    from surveys import hooks
    from surveys.models import InstrumentVersion
    from surveys.sessions import session_submit

    rng = random.Random(seed)
    version = InstrumentVersion.objects.get(pk=world.version_id)
    mentor = get_user_model().objects.get(pk=world.mentor_id)
    chosen = list(Enrolment.objects.filter(pk__in=open_enrolments(samples + 3, rng)).select_related("participant"))
    enrolments = [chosen[n % len(chosen)] for n in range(samples + 3)]
    saved = list(hooks.SESSION_SUBMITTED_HANDLERS)
    hooks.SESSION_SUBMITTED_HANDLERS[:] = []
    totals, submits, processes = [], [], []
    try:
        for number, enrolment in enumerate(enrolments):
            perspective = "self" if number % 2 else "mentor"
            started = time.perf_counter()
            session, created = session_submit(
                client_uuid=uuid.uuid4(),
                enrolment=enrolment,
                version=version,
                perspective=perspective,
                answers=answers_for(world, perspective, rng),
                recorded_by=mentor,
            )
            submitted = time.perf_counter()
            session_process(session_id=session.pk)
            done = time.perf_counter()
            current = (
                created
                and Progression.objects.filter(enrolment=enrolment, latest_session=session).exists()
                and InsatsSummary.objects.filter(insats_id=enrolment.insats_id, year=session.occurred_at.year).exists()
            )
            if not current:
                raise RuntimeError(f"Bedömning {session.pk}: stegförflyttning eller sammanställning inte aktuell")
            if number >= 3:  # the first three warm the caches
                totals.append((done - started) * 1000)
                submits.append((submitted - started) * 1000)
                processes.append((done - submitted) * 1000)
    finally:
        hooks.SESSION_SUBMITTED_HANDLERS[:] = saved
    return IncrementalResult(
        statistics.median(totals),
        percentile(totals, 95),
        statistics.median(submits),
        statistics.median(processes),
        len(totals),
    )


# --- HTTP: the server, the report API, submissions ----------------------------------------------------


# Every request still goes through the API's rate limits (their cost is part of what is measured), but
# at rates no benchmark reaches: a few clients send thousands of requests a minute as one user.
UNLIMITED_RATES = {"STEGVIS_API_RATE_USER": "100000000/hour", "STEGVIS_API_RATE_IP": "100000000/hour"}


def gunicorn(*, port: int, env: dict[str, str], log: Path, workers: int = 3) -> Service:
    """gunicorn as in the Procfile (sync workers), with the bench URL conf (a trivial view)."""
    env = {**env, **UNLIMITED_RATES}
    service = Service(
        "gunicorn",
        [
            PYTHON,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ],
        env,
        log,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            status, _ = request(port, "GET", "/bench/trivial/", token=None)
            if status in (200, 401, 403):
                return service
        except OSError:
            pass
        if not service.alive() or time.monotonic() > deadline:
            service.stop()
            raise RuntimeError(f"gunicorn startade inte; se {log}")
        time.sleep(0.2)


def request(
    port: int, method: str, path: str, *, token: str | None, body: object = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """One request on a new connection; `headers` add to or replace the defaults (a page's Accept, a Cookie)."""
    connection_ = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Accept": "application/json", **(headers or {})}
    if token:
        headers["Authorization"] = f"Token {token}"
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        connection_.request(method, path, body=payload, headers=headers)
        response = connection_.getresponse()
        return response.status, response.read()
    finally:
        connection_.close()


def latencies(port: int, path: str, token: str, *, count: int, warmup: int = 3) -> list[float]:
    """Sequential GETs (one client); milliseconds per request, warm-up excluded. Raises on non-200."""
    times = []
    for number in range(warmup + count):
        started = time.perf_counter()
        status, body = request(port, "GET", path, token=token)
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            raise RuntimeError(f"GET {path} gav {status}: {body[:300]!r}")
        if number >= warmup:
            times.append(elapsed)
    return times


def throughput_get(port: int, path: str, token: str, *, clients: int, requests_per_client: int) -> tuple[float, int]:
    """Requests per second with `clients` concurrent clients; returns (rps, errors)."""
    errors = 0
    lock = threading.Lock()

    def client() -> None:
        nonlocal errors
        for _ in range(requests_per_client):
            status, _ = request(port, "GET", path, token=token)
            if status != 200:
                with lock:
                    errors += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return clients * requests_per_client / (time.perf_counter() - started), errors


@dataclass
class SubmissionResult:
    posts_per_second: float
    created_per_second: float
    posts: int
    created: int
    resubmits: int
    errors: int
    duplicates: int
    lost: int
    error_samples: list[str]


def submissions(
    port: int, token: str, world: World, *, clients: int, per_client: int, seed: int = 11
) -> SubmissionResult:
    """POST /api/v1/bedomningar/ from `clients` concurrent clients. Each client sends new readings and,
    like a tablet whose connection dropped, sends some again: its own last one (15 %) or one another
    client already sent (5 %). Every response must be 201 (new) or 200 (known UUID, same reading), and
    the database must hold exactly one session per UUID."""
    from surveys.models import AssessmentSession

    rng = random.Random(seed)
    enrolments = open_enrolments(clients * 8, rng)
    sent: list[tuple[str, dict]] = []
    lock = threading.Lock()
    counts = {"posts": 0, "created": 0, "resubmits": 0, "errors": 0}
    samples: list[str] = []

    def post(body: dict, expect_new: bool) -> None:
        status, raw = request(port, "POST", "/api/v1/bedomningar/", token=token, body=body)
        with lock:
            counts["posts"] += 1
            ok = status == 201 if expect_new else status == 200
            if ok:
                returned = json.loads(raw).get("client_uuid")
                ok = returned == body["client_uuid"]
            if not ok:
                counts["errors"] += 1
                if len(samples) < 5:
                    samples.append(f"{status} {raw[:200]!r}")
            elif expect_new:
                counts["created"] += 1
            else:
                counts["resubmits"] += 1

    def client(number: int) -> None:
        own = random.Random(seed * 1000 + number)
        mine = enrolments[number::clients] or enrolments
        for index in range(per_client):
            perspective = ("self", "mentor")[index % 2]
            body = {
                "client_uuid": str(uuid.UUID(int=own.getrandbits(128), version=4)),
                "enrolment": mine[index % len(mine)],
                "perspective": perspective,
                "answers": answers_for(world, perspective, own),
            }
            post(body, expect_new=True)
            with lock:
                sent.append((body["client_uuid"], body))
            roll = own.random()
            if roll < 0.15:
                post(body, expect_new=False)
            elif roll < 0.20:
                with lock:
                    _, other = own.choice(sent)
                post(other, expect_new=False)

    threads = [threading.Thread(target=client, args=(number,)) for number in range(clients)]
    before = AssessmentSession.objects.count()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    uuids = {u for u, _ in sent}
    stored = AssessmentSession.objects.filter(client_uuid__in=list(uuids)).count()
    new_rows = AssessmentSession.objects.count() - before
    return SubmissionResult(
        counts["posts"] / elapsed,
        counts["created"] / elapsed,
        counts["posts"],
        counts["created"],
        counts["resubmits"],
        counts["errors"],
        new_rows - len(uuids),
        len(uuids) - stored,
        samples,
    )


def wait_for_queue(*, queue: str, timeout: float = 600) -> float:
    """Seconds until the Redis queue is empty (the worker has taken every task)."""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)
    started = time.perf_counter()
    while client.llen(queue) and time.perf_counter() - started < timeout:
        time.sleep(0.2)
    return time.perf_counter() - started


# --- 5. CSV export ----------------------------------------------------------------------------------------

COPY_EXPORT_SQL = """
SELECT e.participant_id, e.id, f.code, i.code, p.kon, p.birth_year, e.start_date, e.end_date, er.code,
       ib.code, e.income_before_extent, ia.code, e.income_after_extent, ed.code, e.years_in_public_support,
       (s.occurred_at AT TIME ZONE 'UTC')::date, s.perspective, ins.code, v.number, d.code,
       ROUND(ds.score::numeric, 4), ds.answered, ds.items
FROM progression_dimensionscore ds
JOIN surveys_assessmentsession s ON s.id = ds.session_id
JOIN surveys_instrumentversion v ON v.id = s.version_id
JOIN surveys_instrument ins ON ins.id = v.instrument_id
JOIN surveys_dimension d ON d.id = ds.dimension_id
JOIN participants_enrolment e ON e.id = s.enrolment_id
JOIN participants_participant p ON p.id = e.participant_id
JOIN participants_insats i ON i.id = e.insats_id
JOIN participants_forbund f ON f.id = i.forbund_id
LEFT JOIN participants_exitreason er ON er.id = e.exit_reason_id
LEFT JOIN participants_incomesource ib ON ib.id = e.income_before_id
LEFT JOIN participants_incomesource ia ON ia.id = e.income_after_id
LEFT JOIN participants_educationlevel ed ON ed.id = e.education_id
WHERE e.insats_id = ANY(%(insatser)s) AND e.start_date <= %(date_to)s
  AND (e.end_date IS NULL OR e.end_date >= %(date_from)s)
  AND (er.excluded_from_reports IS NOT TRUE)
  AND (SELECT c.granted FROM participants_consent c WHERE c.participant_id = e.participant_id
       AND c.purpose = 'research' ORDER BY c.recorded_at DESC, c.id DESC LIMIT 1)
  AND s.status = 'submitted' AND NOT s.consent_withdrawn
ORDER BY s.enrolment_id, s.occurred_at, ds.session_id, d."order"
LIMIT %(limit)s
"""


@dataclass
class ExportResult:
    rows: int
    seconds: float
    copy_rows: int
    copy_seconds: float


def export_csv(*, forbund_code: str, limit: int, directory: Path) -> ExportResult:
    """progression.analysis.long_rows + write_csv (the analysis export, streamed) for up to `limit`
    rows of one förbund, against COPY (same rows, same order) TO a CSV file."""
    from participants.models import Forbund, Insats, MeasurementMode
    from progression import analysis
    from progression.reports.filters import ReportFilter

    forbund = Forbund.objects.get(code=forbund_code)
    insatser = tuple(
        Insats.objects.filter(forbund=forbund, measurement_mode=MeasurementMode.PER_PERSON).order_by("name")
    )
    filters = ReportFilter(
        forbund=forbund,
        insatser=insatser,
        date_from=date(2000, 1, 1),
        date_to=date.today(),  # noqa: DTZ011
    )
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "analysis.csv"
    started = time.perf_counter()
    with path.open("w", encoding="utf-8", newline="") as handle:
        rows = analysis.write_csv(
            itertools.islice(
                analysis.long_rows(filters, analysis.new_key(), analysis.AnonymityPlan(analysis.FINEST, 0, 0)),
                limit + 1,
            ),
            handle,
        )
    seconds = time.perf_counter() - started
    path.unlink()
    copy_path = directory / "copy.csv"
    params = {
        "insatser": [i.pk for i in insatser],
        "date_from": filters.date_from,
        "date_to": filters.date_to,
        "limit": limit,
    }
    started = time.perf_counter()
    with connection.cursor() as cursor:
        query = cursor.mogrify(COPY_EXPORT_SQL, params)
        with (
            copy_path.open("wb") as handle,
            cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, DELIMITER ';', HEADER true)") as copy,
        ):
            for block in copy:
                handle.write(block)
    copy_seconds = time.perf_counter() - started
    with copy_path.open() as handle:
        copy_rows = sum(1 for _ in csv.reader(handle, delimiter=";")) - 1
    copy_path.unlink()
    return ExportResult(rows, seconds, copy_rows, copy_seconds)


def timed(function: Callable[[], object]) -> tuple[object, float]:
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started
