"""Run every benchmark at one scale against PostgreSQL and Redis and print the table.

Started by bench/run, which sets DATABASE_URL (the stegvis_bench database, created and dropped
here), REDIS_URL (database 14) and DJANGO_SETTINGS_MODULE=bench.settings."""

import argparse
import json
import os
import platform
import random
import socket
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import django
import psycopg

RESULTS = Path(__file__).resolve().parent / "results"
REPORTS = ("participant-flow", "exits", "progression", "income-sources")  # measure 3, as ?forbund=sco&period=helar
WORK = Path(os.environ.get("STEGVIS_BENCH_WORK", "/tmp/stegvis-bench"))  # noqa: S108 - scratch files
TARGETS = {
    "rebuild_in_engine": 1.5,
    "rebuild": 2.0,
    "incremental": 1.5,
    "reports": 3.0,
    "submissions": 0.3,
    "export": 2.0,
    "memory_mib": 1536.0,
}


def say(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


def database_name() -> str:
    return os.environ["DATABASE_URL"].rsplit("/", 1)[1]


def admin_url() -> str:
    return os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"


def recreate_database() -> None:
    name = database_name()
    if not name.startswith("stegvis_bench"):
        raise SystemExit(f"Vägrar att återskapa databasen {name}: bara stegvis_bench*")
    with psycopg.connect(admin_url(), autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')


def drop_database() -> None:
    from django.db import connections

    connections.close_all()
    with psycopg.connect(admin_url(), autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{database_name()}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def machine() -> dict[str, str]:
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    with psycopg.connect(admin_url()) as db:
        pg = db.execute("SHOW server_version").fetchone()[0]
        settings = {
            name: db.execute(f"SHOW {name}").fetchone()[0] for name in ("shared_buffers", "work_mem", "max_connections")
        }
    return {
        "cpu": f"{os.cpu_count()} × {cpu}",
        "memory": f"{memory:.0f} GiB",
        "python": platform.python_version(),
        "postgresql": f"{pg} ({', '.join(f'{k}={v}' for k, v in settings.items())})",
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def ratio_row(
    number: str, what: str, value: str, base: str, ratio: float | None, target: str, met: bool | None
) -> list:
    return [
        number,
        what,
        value,
        base,
        "–" if ratio is None else f"{ratio:.2f}",
        target,
        {True: "yes", False: "**NO**", None: "–"}[met],
    ]


def render(rows: list[list], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])


def main() -> int:
    parser = argparse.ArgumentParser(description="Stegvis benchmarks")
    parser.add_argument("--scale", choices=["tiny", "S", "M", "L"], default="S")
    parser.add_argument("--keep-db", action="store_true", help="Leave the stegvis_bench database for inspection.")
    parser.add_argument("--no-naive", action="store_true", help="Skip the naive ORM rebuild (run at S by default).")
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument("--render", action="store_true", help="Only print the table saved for --scale.")
    args = parser.parse_args()
    scale = args.scale
    if args.render:
        return render_saved(scale)

    say(f"Skala {scale}: databas {database_name()}, Redis {os.environ['REDIS_URL']}")
    recreate_database()
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from bench import floor, generate, measure
    from participants.api_keys import api_key_create

    services: list[measure.Service] = []
    WORK.mkdir(parents=True, exist_ok=True)
    logs = WORK / "logs"
    logs.mkdir(exist_ok=True)
    env = {**os.environ}
    results: dict = {"scale": scale, "machine": machine()}
    try:
        import redis

        redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()  # database 14: the bench's own
        say("Migrerar och laddar instrument och organisationer")
        call_command("migrate", verbosity=0)
        world = generate.prepare_reference_data()
        users = get_user_model().objects
        coordinator_token = api_key_create(user=users.get(pk=world.coordinator_id))[1]
        mentor_token = api_key_create(user=users.get(pk=world.mentor_id))[1]

        say(f"Genererar {generate.SCALES[scale]} deltagare (COPY)")
        stats = generate.generate(participants=generate.SCALES[scale], fast=True, progress=lambda m: say(m))
        started = time.perf_counter()
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        results["data"] = {
            "participants": stats.participants,
            "enrolments": stats.enrolments,
            "identity_records": stats.identities,
            "consents": stats.consents,
            "sessions": stats.sessions,
            "answers": stats.answers,
            "load_seconds": round(stats.seconds["total"], 1),
            "vacuum_analyze_seconds": round(time.perf_counter() - started, 1),
        }
        say(f"Data: {results['data']}")

        say("Golvet: DuckDB på samma rader")
        floor_result = floor.run(WORK / "floor")
        say(f"  {floor_result}")

        say("1 + 6. Full omräkning på en Celery-arbetare (kön long)")
        long_worker = measure.celery_worker(queue="long", concurrency=1, env=env, log=logs / "celery-long.log")
        services.append(long_worker)
        rebuild = measure.rebuild_via_worker(long_worker, chunk_size=args.chunk_size)
        long_worker.stop()
        services.remove(long_worker)
        say(f"  {rebuild}")
        app = floor.app_checksums()
        same = (
            app[0] == floor_result.scores
            and app[2] == floor_result.progressions
            and abs(app[1] - floor_result.scores_sum) < 1e-6 * max(1.0, abs(app[1]))
            and abs(app[3] - floor_result.change_sum) < 1e-6 * max(1.0, abs(app[3])) + 1e-6
        )
        say("   Golvet i databasen: samma rader med en sats per tabell (CREATE UNLOGGED TABLE … AS SELECT)")
        from progression.models import Progression

        norm_set_id = Progression.objects.values_list("norm_set_id", flat=True).first()
        in_engine = floor.in_engine_run(norm_set_id=norm_set_id)
        say(f"  {in_engine}")
        results["rebuild"] = {
            "in_engine_seconds": round(in_engine.seconds, 3),
            "in_engine_phases": in_engine.phases,
            "in_engine_same_result": in_engine.same_result,
            "in_engine_differences": in_engine.differences,
            "worker_seconds": round(rebuild.seconds, 2),
            "phases": {k: round(v, 2) for k, v in rebuild.phases.items()},
            "floor_seconds": round(floor_result.seconds, 3),
            "floor_export_seconds": round(floor_result.export_seconds, 2),
            "floor_parquet_seconds": round(floor_result.parquet_seconds, 2),
            "floor_same_result": same,
            "scores": app[0],
            "progressions": app[2],
            "peak_rss_tree_mib": round(rebuild.peak_tree_mib, 1),
            "peak_rss_process_mib": round(rebuild.peak_process_mib, 1),
        }
        if scale in ("tiny", "S"):
            say("   (information) samma omräkning i den här processen")
            results["rebuild"]["inline_seconds"] = round(measure.rebuild_inline(chunk_size=args.chunk_size).seconds, 2)

        say("2. Inkrementellt: session_submit + session_process")
        incremental = measure.incremental(world)
        results["incremental"] = incremental.__dict__
        say(f"  {incremental}")

        say("3 + 4. gunicorn, rapport-API och inlämningar")
        default_worker = measure.celery_worker(queue="default", concurrency=2, env=env, log=logs / "celery-default.log")
        services.append(default_worker)
        port = free_port()
        server = measure.gunicorn(port=port, env=env, log=logs / "gunicorn.log")
        services.append(server)
        year = date.today().year - 1  # noqa: DTZ011 - the last full year, as for an årsredovisning
        trivial = measure.latencies(port, "/bench/trivial/", coordinator_token, count=200)
        reports = {}
        for name in REPORTS:
            path = f"/api/v1/rapporter/{name}/?forbund=sco&period=helar&ar={year}"
            times = measure.latencies(port, path, coordinator_token, count=30)
            reports[name] = {
                "p95_ms": round(measure.percentile(times, 95), 1),
                "median_ms": round(statistics.median(times), 1),
            }
        results["reports"] = {
            "trivial_p95_ms": round(measure.percentile(trivial, 95), 2),
            "trivial_median_ms": round(statistics.median(trivial), 2),
            "year": year,
            **reports,
        }
        say(f"  {results['reports']}")
        trivial_rps, trivial_errors = measure.throughput_get(
            port, "/bench/trivial/", mentor_token, clients=32, requests_per_client=60
        )
        submitted = measure.submissions(port, mentor_token, world, clients=32, per_client=25)
        drained = measure.wait_for_queue(queue="default")
        results["submissions"] = {
            "trivial_rps": round(trivial_rps, 1),
            "trivial_errors": trivial_errors,
            **{k: (round(v, 2) if isinstance(v, float) else v) for k, v in submitted.__dict__.items()},
            "queue_drained_after_seconds": round(drained, 1),
        }
        say(f"  {results['submissions']}")
        for service in (server, default_worker):
            service.stop()
            services.remove(service)

        say("5. CSV-export (analysexport, lång form) mot COPY")
        exported = measure.export_csv(forbund_code="sco", limit=1_000_000, directory=WORK / "export")
        results["export"] = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in exported.__dict__.items()}
        say(f"  {results['export']}")

        if scale in ("tiny", "S") and not args.no_naive:
            say("   (information) naiv ORM-omräkning rad för rad")
            from bench.naive import naive_rebuild

            before = floor.app_checksums()  # the engine's rows, including the readings submitted above
            seconds, share = naive_rebuild(fraction=1.0 if scale == "tiny" else 0.05)
            results["naive_seconds"] = round(seconds / share, 1)
            results["naive_measured"] = {"seconds": round(seconds, 1), "share_of_readings": round(share, 4)}
            after = floor.app_checksums()
            results["naive_same_result"] = (
                before[0] == after[0]
                and before[2] == after[2]
                and abs(before[1] - after[1]) <= 1e-6 * max(1.0, abs(before[1]))
                and abs(before[3] - after[3]) <= 1e-6 * max(1.0, abs(before[3])) + 1e-6
            )
    finally:
        for service in reversed(services):
            service.stop()
        if not args.keep_db:
            drop_database()

    attach_s_baseline(results)
    table = build_table(results)
    print(table)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{scale}.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    (RESULTS / f"{scale}.md").write_text(table + "\n")
    return 0


def build_table(results: dict) -> str:
    """The result table (Markdown), from a results dict as stored in bench/results/SCALE.json."""
    scale = results["scale"]
    rows = []
    r = results["rebuild"]
    if "in_engine_seconds" in r:  # runs before issue #22 have no in-engine floor
        in_engine_ratio = r["worker_seconds"] / r["in_engine_seconds"]
        rows.append(
            ratio_row(
                "1",
                "Full rebuild (Celery worker, long queue) ÷ in-engine floor (PostgreSQL, one statement per table)",
                f"{r['worker_seconds']:.1f} s",
                f"{r['in_engine_seconds']:.2f} s",
                in_engine_ratio,
                "≤ 1.5",
                in_engine_ratio <= TARGETS["rebuild_in_engine"],
            )
        )
    ratio = r["worker_seconds"] / r["floor_seconds"]
    rows.append(
        ratio_row(
            "1",
            "Full rebuild (Celery worker, long queue) ÷ DuckDB floor",
            f"{r['worker_seconds']:.1f} s",
            f"{r['floor_seconds']:.2f} s",
            ratio,
            "≤ 2.0",
            ratio <= TARGETS["rebuild"],
        )
    )
    inc = results["incremental"]
    s_median = inc["median_ms"] if scale == "S" else results.get("incremental_s_median_ms")
    inc_ratio = inc["median_ms"] / s_median if s_median else None
    rows.append(
        ratio_row(
            "2",
            f"Incremental submit → progression and summaries current, median at {scale} ÷ at S",
            f"{inc['median_ms']:.1f} ms",
            f"{s_median:.1f} ms" if s_median else "–",
            inc_ratio,
            "≤ 1.5",
            None if inc_ratio is None or scale == "S" else inc_ratio <= TARGETS["incremental"],
        )
    )
    rep = results["reports"]
    for name in (n for n in REPORTS if n in rep):  # runs before exits was measured lack it
        ratio = rep[name]["p95_ms"] / rep["trivial_p95_ms"]
        rows.append(
            ratio_row(
                "3",
                f"Report API {name} p95 ÷ trivial view p95",
                f"{rep[name]['p95_ms']:.1f} ms",
                f"{rep['trivial_p95_ms']:.1f} ms",
                ratio,
                "≤ 3",
                ratio <= TARGETS["reports"],
            )
        )
    sub = results["submissions"]
    ratio = sub["posts_per_second"] / sub["trivial_rps"]
    clean = sub["errors"] == 0 and sub["duplicates"] == 0 and sub["lost"] == 0
    rows.append(
        ratio_row(
            "4",
            f"Submissions/s, 32 clients ({sub['posts']} POSTs incl. {sub['resubmits']} resubmissions; "
            f"errors {sub['errors']}, duplicates {sub['duplicates']}, lost {sub['lost']}) ÷ trivial view/s",
            f"{sub['posts_per_second']:.1f}/s",
            f"{sub['trivial_rps']:.1f}/s",
            ratio,
            "≥ 0.3, 0 errors",
            ratio >= TARGETS["submissions"] and clean,
        )
    )
    exp = results["export"]
    ratio = exp["seconds"] / exp["copy_seconds"]
    rows.append(
        ratio_row(
            "5",
            f"CSV export (analysis, long) of {exp['rows']} rows ÷ COPY TO of the same {exp['copy_rows']} rows",
            f"{exp['seconds']:.2f} s",
            f"{exp['copy_seconds']:.2f} s",
            ratio,
            "≤ 2",
            ratio <= TARGETS["export"],
        )
    )
    rows.append(
        ratio_row(
            "6",
            "Worker peak RSS during the rebuild (process tree; largest process in the base column)",
            f"{r['peak_rss_tree_mib']:.0f} MiB",
            f"{r['peak_rss_process_mib']:.0f} MiB",
            None,
            "≤ 1536 MiB",
            r["peak_rss_tree_mib"] <= TARGETS["memory_mib"],
        )
    )
    if "inline_seconds" in r:
        rows.append(
            ratio_row(
                "i",
                "(info) the same rebuild inline (progression_rebuild_inline) ÷ floor",
                f"{r['inline_seconds']:.1f} s",
                f"{r['floor_seconds']:.2f} s",
                r["inline_seconds"] / r["floor_seconds"],
                "–",
                None,
            )
        )
    if "naive_seconds" in results:
        measured = results.get("naive_measured", {"share_of_readings": 1.0})
        how = (
            "measured on all readings"
            if measured["share_of_readings"] >= 0.999
            else f"measured on {measured['share_of_readings']:.0%} of the readings, extrapolated"
        )
        rows.append(
            ratio_row(
                "i",
                f"(info) naive per-row ORM scores + progression ({how}) ÷ floor",
                f"{results['naive_seconds']:.1f} s",
                f"{r['floor_seconds']:.2f} s",
                results["naive_seconds"] / r["floor_seconds"],
                "–",
                None,
            )
        )
    d, m = results["data"], results["machine"]
    header = (
        f"Scale {scale}: {d['participants']} participants, {d['enrolments']} enrolments, {d['sessions']} sessions, "
        f"{d['answers']} answers (loaded in {d['load_seconds']} s). {m['cpu']}, {m['memory']}, Python {m['python']}, "
        f"PostgreSQL {m['postgresql']}. Run {m['when']}."
    )
    notes = [
        f"- Rebuild phases (s): {r['phases']}. Floor: COPY TO CSV {r['floor_export_seconds']} s and CSV → Parquet "
        f"{r['floor_parquet_seconds']} s, not counted; the floor's scores and changes equal the engine's: "
        f"{'yes' if r['floor_same_result'] else 'NO'} ({r['scores']} scores, {r['progressions']} progressions).",
        f"- Incremental: p95 {inc['p95_ms']:.1f} ms; session_submit {inc['submit_median_ms']:.1f} ms + session_process "
        f"{inc['process_median_ms']:.1f} ms (medians of {inc['samples']}).",
        f"- Submissions: {sub['created_per_second']:.1f} new readings/s; the default queue was empty "
        f"{sub['queue_drained_after_seconds']} s after the last response.",
        f"- Report medians (ms): trivial {rep['trivial_median_ms']}, "
        + ", ".join(f"{n} {rep[n]['median_ms']}" for n in REPORTS if n in rep)
        + f" (year {rep['year']}, förbund sco).",
    ]
    if "in_engine_seconds" in r:
        notes.insert(
            1,
            f"- In-engine floor phases (s, best of two): {r['in_engine_phases']}; its rows equal the engine's "
            f"(scores, progression, norms, summaries): {'yes' if r['in_engine_same_result'] else 'NO'} "
            f"(rows that differ: {r['in_engine_differences']}).",
        )
    if "naive_same_result" in results:
        notes.append(f"- Naive ORM writes the same rows: {'yes' if results['naive_same_result'] else 'NO'}.")
    return "\n".join(
        [header, "", render(rows, ["#", "Measure", "Value", "Floor/base", "Ratio", "Target", "Met"]), "", *notes]
    )


def render_saved(scale: str) -> int:
    """Print (and rewrite) bench/results/SCALE.md from SCALE.json."""
    results = json.loads((RESULTS / f"{scale}.json").read_text())
    attach_s_baseline(results)
    table = build_table(results)
    (RESULTS / f"{scale}.md").write_text(table + "\n")
    print(table)
    return 0


def attach_s_baseline(results: dict) -> None:
    """Metric 2 compares with S: take S's incremental median from bench/results/S.json."""
    s_result = RESULTS / "S.json"
    if results["scale"] != "S" and s_result.exists():
        results["incremental_s_median_ms"] = json.loads(s_result.read_text())["incremental"]["median_ms"]


if __name__ == "__main__":
    random.seed(0)
    sys.exit(main())
