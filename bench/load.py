"""The load test: concurrent clients mixing reads and submissions against gunicorn, a Celery worker,
PostgreSQL and Redis for a fixed time, then checks that every reading was stored once and scored.

Started by bench/load, which sets DATABASE_URL (the database stegvis_bench_load, created and dropped
here), REDIS_URL (database 12, flushed at the start) and DJANGO_SETTINGS_MODULE=bench.settings.
tests/bench/test_load_smoke.py runs the same code at a tiny size; docs/reliability.md has the figures.

Each client acts as one person at a tablet, without think time: a mentor of its own (assigned
mentor of an equal share of the open enrolments, a member of their insatser) who also holds a
coordinator account of their förbund for the report API. The API allows 2 000 requests an hour per
user, so one shared account would be throttled (429) where 64 people would not be.
"""

import argparse
import http.client
import json
import os
import random
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from importlib import import_module
from pathlib import Path
from urllib.parse import quote

import django

from bench.main import RESULTS, WORK, database_name, drop_database, free_port, machine, recreate_database, render, say

CLIENTS = 64
SECONDS = 60
# What a client does next, by weight.
MIX = {"report": 10, "api": 35, "page": 30, "submit": 25}
REPORTS = ("participant-flow", "progression", "income-sources", "exits", "background")
# After a new reading the tablet sends the same client UUID again (each a share of new readings):
RESEND_AFTER = 0.15  # right after, having lost the answer: 200
REPLAY_OLDER = 0.05  # later, from its offline queue, one of its earlier readings: 200
DOUBLE = 0.05  # at the same moment as the first (a double tap, a retry while the first is under way): one 201, one 200
KINDS = {
    "report": "Report API as a coordinator (GET rapporter/{name}/, 5 reports, last full year)",
    "api": "Mentor API reads (enrolments, participants, readings, scores, progression)",
    "page": "Mentor pages (start, insats, participant, conversation, form, journey)",
    "submit": "New reading (POST bedomningar/, expects 201)",
    "resend": "Same UUID again, after the answer or from the offline queue (expects 200)",
    "double": "Same UUID twice at once (expects one 201 and one 200)",
}
MENTOR_PREFIX = "bench-load-handledare"
COORDINATOR_PREFIX = "bench-load-samordnare"
NO_ANSWER = 0  # the status recorded when no HTTP answer came (refused, reset, timed out)


@dataclass
class Case:
    enrolment: int
    insats: str
    pseudonym: str  # quoted for a URL path (SCÖ-…)
    readings: list[str]  # client UUIDs of readings stored before the run


@dataclass
class Persona:
    mentor_token: str
    coordinator_token: str
    session_cookie: str
    forbund: str
    cases: list[Case]


# --- Data -----------------------------------------------------------------------------------------


def prepare(*, participants: int, clients: int, fast: bool, seed: int = 2026) -> dict:
    """Reference data, `participants` synthetic participants with every reading scored (the product's
    rebuild, norms included, so the data is as the product keeps it), and one persona per client."""
    from django.db import connection

    from bench import generate, measure

    world = generate.prepare_reference_data()
    stats = generate.generate(participants=participants, seed=seed, fast=fast, progress=say, world=world)
    with connection.cursor() as cursor:
        # Without statistics on the freshly loaded tables the rebuild's plans are 10–20 × slower.
        cursor.execute("ANALYZE")
    say("Poängsätter de genererade bedömningarna (progression_rebuild_inline)")
    rebuilt = measure.rebuild_inline(chunk_size=2000)
    personas = personas_create(clients=clients)
    return {
        "world": world,
        "personas": personas,
        "data": {
            "participants": stats.participants,
            "enrolments": stats.enrolments,
            "sessions": stats.sessions,
            "answers": stats.answers,
            "open_enrolments_used": sum(len(p.cases) for p in personas),
            "load_seconds": round(stats.seconds["total"], 1),
            "rebuild_seconds": round(rebuilt.seconds, 1),
        },
    }


def personas_create(*, clients: int) -> list[Persona]:
    """A mentor and a coordinator for every client. The open enrolments of identified participants
    are dealt out in turn; each mentor becomes their assigned mentor and a member of their insatser,
    each coordinator a coordinator of the förbund of its mentor's first enrolment."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.hashers import make_password

    from participants.api_keys import api_key_create
    from participants.models import Enrolment, Membership, MentorAssignment, Role
    from surveys.models import AssessmentSession, SessionStatus

    enrolments = list(
        Enrolment.objects.filter(end_date__isnull=True, participant__is_anonymous=False)
        .select_related("insats__forbund", "participant")
        .order_by("id")
    )
    if len(enrolments) < clients:
        raise RuntimeError(f"{len(enrolments)} öppna inskrivningar räcker inte till {clients} klienter")
    shares = [enrolments[number::clients] for number in range(clients)]
    users = get_user_model()
    mentors = users.objects.bulk_create(
        [
            users(username=f"{MENTOR_PREFIX}-{number:03d}", first_name="Last", password=make_password(None))
            for number in range(clients)
        ]
    )
    coordinators = users.objects.bulk_create(
        [
            users(username=f"{COORDINATOR_PREFIX}-{number:03d}", first_name="Last", password=make_password(None))
            for number in range(clients)
        ]
    )
    Membership.objects.bulk_create(
        [
            Membership(user=mentor, role=Role.MENTOR, insats_id=insats_id)
            for mentor, share in zip(mentors, shares, strict=True)
            for insats_id in sorted({e.insats_id for e in share})
        ]
        + [
            Membership(user=coordinator, role=Role.COORDINATOR, forbund_id=share[0].insats.forbund_id)
            for coordinator, share in zip(coordinators, shares, strict=True)
        ]
    )
    MentorAssignment.objects.bulk_create(
        [
            MentorAssignment(enrolment=enrolment, mentor=mentor, start_date=enrolment.start_date)
            for mentor, share in zip(mentors, shares, strict=True)
            for enrolment in share
        ]
    )
    # After the memberships: a key made before them would not carry them (participants/api_keys.py).
    tokens = {user.pk: api_key_create(user=user)[1] for user in [*mentors, *coordinators]}
    readings: dict[int, list[str]] = {}
    for enrolment_id, client_uuid in (
        AssessmentSession.objects.filter(enrolment__in=enrolments, status=SessionStatus.SUBMITTED)
        .order_by("id")
        .values_list("enrolment_id", "client_uuid")
    ):
        readings.setdefault(enrolment_id, []).append(str(client_uuid))
    session_store = import_module(settings.SESSION_ENGINE).SessionStore
    personas = []
    for mentor, coordinator, share in zip(mentors, coordinators, shares, strict=True):
        # The login session django.contrib.auth.login leaves (without its signals and their log lines).
        session = session_store()
        session.update(
            {
                SESSION_KEY: str(mentor.pk),
                BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: mentor.get_session_auth_hash(),
            }
        )
        session.create()
        personas.append(
            Persona(
                mentor_token=tokens[mentor.pk],
                coordinator_token=tokens[coordinator.pk],
                session_cookie=f"{settings.SESSION_COOKIE_NAME}={session.session_key}",
                forbund=share[0].insats.forbund.code,
                cases=[
                    Case(e.pk, e.insats.code, quote(e.participant.pseudonym), readings.get(e.pk, [])[-5:])
                    for e in share
                ],
            )
        )
    return personas


# --- The clients ----------------------------------------------------------------------------------


@dataclass
class Tally:
    """Every response by kind and endpoint: latencies (ms), and the unexpected ones by status."""

    latencies: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    errors: Counter = field(default_factory=Counter)  # (kind, endpoint, status) -> count
    error_samples: list[str] = field(default_factory=list)
    sent: set[str] = field(default_factory=set)  # new client UUIDs sent
    confirmed: set[str] = field(default_factory=set)  # client UUIDs answered 201 or 200
    crashed: list[str] = field(default_factory=list)  # clients that stopped on an exception
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, endpoint: str, answer: "Answer", ok: bool) -> None:
        with self.lock:
            self.latencies.setdefault((kind, endpoint), []).append(answer.ms)
            if not ok:
                self.errors[(kind, endpoint, answer.status)] += 1
                if len(self.error_samples) < 10:
                    self.error_samples.append(f"{kind} {answer.path} → {answer.status}: {answer.body[:300]!r}")


@dataclass
class Answer:
    path: str
    status: int
    body: bytes
    ms: float


def _send(port: int, method: str, path: str, **kwargs: object) -> Answer:
    from bench import measure

    started = time.perf_counter()
    try:
        status, body = measure.request(port, method, path, **kwargs)
    except (OSError, http.client.HTTPException) as exc:
        status, body = NO_ANSWER, repr(exc).encode()
    return Answer(path, status, body, (time.perf_counter() - started) * 1000)


def _echoes(answer: Answer, client_uuid: str) -> bool:
    try:
        return json.loads(answer.body).get("client_uuid") == client_uuid
    except (ValueError, AttributeError):
        return False


class LoadClient:
    """One person: picks the next action by MIX and sends it, until the deadline."""

    def __init__(self, number: int, persona: Persona, world: object, port: int, tally: Tally, seed: int) -> None:
        self.persona, self.world, self.port, self.tally = persona, world, port, tally
        self.rng = random.Random(seed * 1000 + number)
        self.mine: list[dict] = []  # bodies of this client's confirmed readings
        self.year = date.today().year - 1  # noqa: DTZ011 - the last full year, as for an årsredovisning

    def run(self, deadline: float) -> None:
        actions, weights = list(MIX), list(MIX.values())
        try:
            while time.perf_counter() < deadline:
                getattr(self, f"_{self.rng.choices(actions, weights)[0]}")(self.rng.choice(self.persona.cases))
        except Exception as exc:  # a bug in the client: count it, so that the run cannot pass with fewer clients
            with self.tally.lock:
                self.tally.crashed.append(repr(exc))
            raise

    def _get(self, kind: str, endpoint: str, path: str, **kwargs: object) -> None:
        answer = _send(self.port, "GET", path, **kwargs)
        self.tally.add(kind, endpoint, answer, answer.status == 200)

    def _report(self, case: Case) -> None:
        name = self.rng.choice(REPORTS)
        path = f"/api/v1/rapporter/{name}/?forbund={self.persona.forbund}&period=helar&ar={self.year}"
        self._get("report", f"GET rapporter/{name}/", path, token=self.persona.coordinator_token)

    def _api(self, case: Case) -> None:
        readings = case.readings + [b["client_uuid"] for b in self.mine if b["enrolment"] == case.enrolment]
        reading = self.rng.choice(readings) if readings else None
        choices = [
            ("GET insatser/{code}/inskrivningar/", f"/api/v1/insatser/{case.insats}/inskrivningar/?open=1"),
            ("GET deltagare/", "/api/v1/deltagare/"),
            ("GET deltagare/{pseudonym}/", f"/api/v1/deltagare/{case.pseudonym}/"),
            ("GET bedomningar/?enrolment=", f"/api/v1/bedomningar/?enrolment={case.enrolment}"),
            ("GET inskrivningar/{id}/stegforflyttning/", f"/api/v1/inskrivningar/{case.enrolment}/stegforflyttning/"),
        ]
        if reading:
            choices += [
                ("GET bedomningar/{uuid}/", f"/api/v1/bedomningar/{reading}/"),
                ("GET bedomningar/{uuid}/poang/", f"/api/v1/bedomningar/{reading}/poang/"),
            ]
        endpoint, path = self.rng.choice(choices)
        self._get("api", endpoint, path, token=self.persona.mentor_token)

    def _page(self, case: Case) -> None:
        endpoint, path = self.rng.choice(
            [
                ("/mentor/", "/mentor/"),
                ("/insatser/{code}/", f"/insatser/{case.insats}/"),
                ("/deltagare/{pseudonym}/", f"/deltagare/{case.pseudonym}/"),
                ("/samtal/{id}/", f"/samtal/{case.enrolment}/"),
                ("/samtal/{id}/bedomning/", f"/samtal/{case.enrolment}/bedomning/"),
                ("/resa/{id}/", f"/resa/{case.enrolment}/"),
            ]
        )
        headers = {"Accept": "text/html", "Cookie": self.persona.session_cookie}
        self._get("page", endpoint, path, token=None, headers=headers)

    def _post(self, body: dict) -> Answer:
        return _send(self.port, "POST", "/api/v1/bedomningar/", token=self.persona.mentor_token, body=body)

    def _submit(self, case: Case) -> None:
        from bench.measure import answers_for

        perspective = self.rng.choice(("self", "mentor"))
        body = {
            "client_uuid": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "enrolment": case.enrolment,
            "perspective": perspective,
            "answers": answers_for(self.world, perspective, self.rng),
        }
        with self.tally.lock:
            self.tally.sent.add(body["client_uuid"])
        roll = self.rng.random()
        if roll < DOUBLE:
            self._double(body)
        else:
            answer = self._post(body)
            ok = answer.status == 201 and _echoes(answer, body["client_uuid"])
            self.tally.add("submit", "POST bedomningar/", answer, ok)
            if ok:
                self._confirm(body)
            if roll < DOUBLE + RESEND_AFTER:
                self._resend(body)
            elif roll < DOUBLE + RESEND_AFTER + REPLAY_OLDER and self.mine:
                self._resend(self.rng.choice(self.mine))

    def _confirm(self, body: dict) -> None:
        with self.tally.lock:
            self.tally.confirmed.add(body["client_uuid"])
        self.mine.append(body)

    def _resend(self, body: dict) -> None:
        answer = self._post(body)
        ok = answer.status == 200 and _echoes(answer, body["client_uuid"])
        self.tally.add("resend", "POST bedomningar/", answer, ok)

    def _double(self, body: dict) -> None:
        answers: list[Answer] = []
        threads = [threading.Thread(target=lambda: answers.append(self._post(body))) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        ok = sorted(a.status for a in answers) == [200, 201] and all(_echoes(a, body["client_uuid"]) for a in answers)
        for answer in answers:
            self.tally.add("double", "POST bedomningar/", answer, ok)
        if ok:
            self._confirm(body)


def clients_run(*, port: int, personas: list[Persona], world: object, seconds: float, seed: int) -> tuple[Tally, float]:
    """One thread per persona until `seconds` have passed (requests under way then finish); returns
    the tally and the elapsed seconds."""
    tally = Tally()
    started = time.perf_counter()
    clients = [LoadClient(n, persona, world, port, tally, seed) for n, persona in enumerate(personas)]
    threads = [threading.Thread(target=client.run, args=(started + seconds,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally, time.perf_counter() - started


# --- Afterwards -----------------------------------------------------------------------------------


def readings_check(*, tally: Tally, first_new_id: int, timeout: float = 600) -> dict:
    """One stored session per new UUID and none lost; then the seconds until the default queue is
    empty and every new reading is scored at the current algorithm version."""
    from bench import measure
    from progression.scoring import unprocessed_sessions
    from surveys.models import AssessmentSession

    new = AssessmentSession.objects.filter(pk__gte=first_new_id)
    stored = set(map(str, new.filter(client_uuid__in=tally.sent).values_list("client_uuid", flat=True)))
    started = time.perf_counter()
    measure.wait_for_queue(queue="default", timeout=timeout)
    unscored = unprocessed_sessions().filter(client_uuid__in=stored)
    while unscored.exists() and time.perf_counter() - started < timeout:
        time.sleep(0.2)
    return {
        "new_uuids_sent": len(tally.sent),
        "confirmed": len(tally.confirmed),
        "stored": len(stored),
        "duplicates": new.count() - len(stored),
        "lost": len(tally.confirmed - stored),
        "unscored": unscored.count(),
        "queue_drained_after_seconds": round(time.perf_counter() - started, 1),
    }


def summarise(latencies: list[float], errors: int, elapsed: float) -> dict:
    from bench.measure import percentile

    return {
        "requests": len(latencies),
        "per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "max_ms": round(max(latencies), 1),
        "errors": errors,
    }


def run(
    *,
    world: object,
    personas: list[Persona],
    seconds: float,
    env: dict[str, str],
    logs: Path,
    seed: int = 11,
    drain_timeout: float = 600,
) -> dict:
    """A Celery worker for the default queue and gunicorn as in the Procfile, the clients, the checks."""
    from bench import measure
    from surveys.models import AssessmentSession

    logs.mkdir(parents=True, exist_ok=True)
    services: list[measure.Service] = []
    started = time.perf_counter()
    try:
        worker = measure.celery_worker(queue="default", concurrency=2, env=env, log=logs / "celery-default.log")
        services.append(worker)
        port = free_port()
        services.append(measure.gunicorn(port=port, env=env, log=logs / "gunicorn.log"))
        services_seconds = time.perf_counter() - started
        first_new_id = (AssessmentSession.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        load_before = os.getloadavg()
        say(f"{len(personas)} klienter i {seconds:g} s mot gunicorn på port {port}")
        tally, elapsed = clients_run(port=port, personas=personas, world=world, seconds=seconds, seed=seed)
        load_after = os.getloadavg()
        say("Väntar på kön och kontrollerar bedömningarna")
        readings = readings_check(tally=tally, first_new_id=first_new_id, timeout=drain_timeout)
    finally:
        for service in reversed(services):
            service.stop()
    worker_log = (logs / "celery-default.log").read_text(errors="replace")
    readings["task_failures"] = worker_log.count("raised unexpected") + worker_log.count("TimeLimitExceeded")
    kinds: dict[str, dict] = {}
    for kind in KINDS:
        times = [ms for (k, _), values in tally.latencies.items() if k == kind for ms in values]
        if times:
            kinds[kind] = summarise(times, sum(n for (k, _, _), n in tally.errors.items() if k == kind), elapsed)
    endpoints = {
        f"{kind} {endpoint}": summarise(
            times, sum(n for (k, e, _), n in tally.errors.items() if (k, e) == (kind, endpoint)), elapsed
        )
        for (kind, endpoint), times in sorted(tally.latencies.items())
    }
    return {
        "clients": len(personas),
        "seconds": seconds,
        "elapsed_seconds": round(elapsed, 1),
        "services_start_seconds": round(services_seconds, 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "kinds": kinds,
        "total": summarise(
            [ms for values in tally.latencies.values() for ms in values], sum(tally.errors.values()), elapsed
        ),
        "endpoints": endpoints,
        "errors_by_status": {f"{k} {e} → {s}": n for (k, e, s), n in sorted(tally.errors.items())},
        "error_samples": tally.error_samples,
        "clients_crashed": tally.crashed,
        "readings": readings,
    }


def clean(results: dict) -> bool:
    r = results["readings"]
    failures = r["duplicates"] or r["lost"] or r["unscored"] or r["task_failures"] or results["clients_crashed"]
    return results["total"]["errors"] == 0 and not failures


# --- The table ------------------------------------------------------------------------------------


def build_table(results: dict) -> str:
    """The result table (Markdown), from a results dict as stored in bench/results/load.json."""
    header = ["Kind", "What", "Requests", "Req/s", "p50 ms", "p95 ms", "Max ms", "Errors"]
    rows = [
        [k, KINDS[k], s["requests"], s["per_second"], s["p50_ms"], s["p95_ms"], s["max_ms"], s["errors"]]
        for k, s in results["kinds"].items()
    ]
    t = results["total"]
    rows.append(["all", "", t["requests"], t["per_second"], t["p50_ms"], t["p95_ms"], t["max_ms"], t["errors"]])
    endpoint_rows = [
        [name, s["requests"], s["p50_ms"], s["p95_ms"], s["max_ms"], s["errors"]]
        for name, s in results["endpoints"].items()
    ]
    d, m, r = results["data"], results["machine"], results["readings"]
    lines = [
        f"Load: {results['clients']} clients for {results['seconds']:g} s ({results['elapsed_seconds']} s until the "
        f"last answer), no think time, against gunicorn (3 sync workers) + Celery (default queue, concurrency 2) + "
        f"PostgreSQL + Redis, all on this machine. Data: {d['participants']} participants, {d['enrolments']} "
        f"enrolments, {d['sessions']} sessions (all scored), {d['open_enrolments_used']} open enrolments dealt to "
        f"the mentors. {m['cpu']}, {m['memory']}, Python {m['python']}, PostgreSQL {m['postgresql']}. "
        f"Run {m['when']}.",
        "",
        render(rows, header),
        "",
        f"- Readings: {r['new_uuids_sent']} new client UUIDs sent, {r['confirmed']} confirmed, {r['stored']} stored "
        f"(one session each); duplicates {r['duplicates']}, lost {r['lost']}, unscored {r['unscored']}, failed "
        f"tasks {r['task_failures']}. The default queue was empty and every new reading scored "
        f"{r['queue_drained_after_seconds']} s after the last answer.",
        "- Errors by status: "
        + (", ".join(f"{k}: {n}" for k, n in results["errors_by_status"].items()) or "none")
        + ".",
        f"- Without think time every client waits its turn at gunicorn's 3 workers, so latency is mostly queue: "
        f"clients ÷ throughput = {results['clients']} ÷ {t['per_second']}/s = "
        f"{results['clients'] / t['per_second']:.2f} s, against a p50 of {t['p50_ms'] / 1000:.2f} s.",
        f"- Load average (1, 5, 15 min) when the clients started {results['load_average_before']}, when they stopped "
        f"{results['load_average_after']} (2 cores; the clients run on the same machine).",
        "",
        render(endpoint_rows, ["Endpoint", "Requests", "p50 ms", "p95 ms", "Max ms", "Errors"]),
    ]
    if results["clients_crashed"]:
        lines += ["", "Clients that stopped on an exception:", *(f"- {c}" for c in results["clients_crashed"])]
    if results["error_samples"]:
        lines += ["", "First errors:", *(f"- {sample}" for sample in results["error_samples"])]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description="Stegvis load test")
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument(
        "--scale", choices=["tiny", "S", "M", "L"], default="S", help="As bench/run (S: 2 000 participants)."
    )
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep-db", action="store_true", help="Leave the database for inspection.")
    parser.add_argument("--render", action="store_true", help="Only print the table saved in bench/results/load.json.")
    args = parser.parse_args()
    if args.render:
        print(build_table(json.loads((RESULTS / "load.json").read_text())))
        return 0

    say(f"Skala {args.scale}: databas {database_name()}, Redis {os.environ['REDIS_URL']}")
    recreate_database()
    django.setup()
    import redis
    from django.core.management import call_command
    from django.db import connection

    from bench.generate import SCALES

    try:
        redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()  # the load test's own database
        say("Migrerar och laddar instrument, organisationer och data")
        call_command("migrate", verbosity=0)
        prepared = prepare(participants=SCALES[args.scale], clients=args.clients, fast=True)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # as bench/run does after its load: a settled database
        results = {"scale": args.scale, "machine": machine(), "data": prepared["data"]}
        results |= run(
            world=prepared["world"],
            personas=prepared["personas"],
            seconds=args.seconds,
            env={**os.environ},
            logs=WORK / "load-logs",
            seed=args.seed,
        )
    finally:
        if not args.keep_db:
            drop_database()
    table = build_table(results)
    print(table)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "load.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    (RESULTS / "load.md").write_text(table + "\n")
    return 0 if clean(results) else 1


if __name__ == "__main__":
    sys.exit(main())
