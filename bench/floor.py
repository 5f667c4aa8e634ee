"""The floor for the full rebuild: DuckDB computing the same per-session dimension scores and the
first/latest/change per enrolment, dimension and perspective from the same rows, exported once from
PostgreSQL with COPY TO (CSV) and converted to Parquet (neither step is timed as the floor).

The SQL follows progression/scoring.py's definitions: a ladder item's value turned when reverse
coded and rescaled to 0–100; a score only when at least half of the items asked in the session's
perspective are answered; first and latest scored reading of submitted, not withdrawn sessions,
ordered by (occurred_at, id)."""

import time
from dataclasses import dataclass
from pathlib import Path

from django.db import connection

EXPORTS = {
    "answers": "SELECT session_id, item_id, value FROM surveys_answer",
    "sessions": "SELECT id, enrolment_id, version_id, perspective, status, consent_withdrawn, occurred_at "
    "FROM surveys_assessmentsession",
    "items": "SELECT id, version_id, dimension_id, scale_id, applies_to, reverse_coded FROM surveys_item",
    "dimensions": "SELECT id, code, is_rating FROM surveys_dimension",
    "scales": "SELECT id, kind, min_value, max_value FROM surveys_scale",
    "versions": "SELECT id, instrument_id FROM surveys_instrumentversion",
}

SCORES_SQL = """
CREATE OR REPLACE TABLE scores AS
SELECT session_id, dimension_id, items, answered,
       CASE WHEN answered * 2 >= items THEN mean END AS score
FROM (
    SELECT s.id AS session_id, d.id AS dimension_id, COUNT(*) AS items, COUNT(a.value) AS answered,
           AVG(((CASE WHEN i.reverse_coded THEN sc.min_value + sc.max_value - a.value ELSE a.value END)
                - sc.min_value) * 100.0 / (sc.max_value - sc.min_value)) AS mean
    FROM read_parquet('{dir}/sessions.parquet') s
    JOIN read_parquet('{dir}/items.parquet') i ON i.version_id = s.version_id
    JOIN read_parquet('{dir}/dimensions.parquet') d ON d.id = i.dimension_id AND d.is_rating
    JOIN read_parquet('{dir}/scales.parquet') sc ON sc.id = i.scale_id AND sc.kind = 'ladder'
    LEFT JOIN read_parquet('{dir}/answers.parquet') a ON a.session_id = s.id AND a.item_id = i.id
    WHERE s.status IN ('submitted', 'superseded')
      AND (i.applies_to = 'both' OR i.applies_to = s.perspective)
    GROUP BY s.id, d.id
)
"""

PROGRESSION_SQL = """
CREATE OR REPLACE TABLE progression AS
SELECT enrolment_id, instrument_id, dimension_code, perspective, n,
       first_score, latest_score, CASE WHEN n >= 2 THEN latest_score - first_score END AS change
FROM (
    SELECT s.enrolment_id, v.instrument_id, d.code AS dimension_code, s.perspective, COUNT(*) AS n,
           arg_min(x.score, (s.occurred_at, s.id)) AS first_score,
           arg_max(x.score, (s.occurred_at, s.id)) AS latest_score
    FROM scores x
    JOIN read_parquet('{dir}/sessions.parquet') s ON s.id = x.session_id
    JOIN read_parquet('{dir}/versions.parquet') v ON v.id = s.version_id
    JOIN read_parquet('{dir}/dimensions.parquet') d ON d.id = x.dimension_id
    WHERE x.score IS NOT NULL AND s.status = 'submitted' AND NOT s.consent_withdrawn
    GROUP BY ALL
)
"""


@dataclass
class FloorResult:
    export_seconds: float
    parquet_seconds: float
    seconds: float
    scores: int
    scores_sum: float
    progressions: int
    change_sum: float


def export(directory: Path) -> float:
    """COPY TO the rows the rebuild reads, as CSV files; returns seconds."""
    directory.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for name, query in EXPORTS.items():
            with (
                (directory / f"{name}.csv").open("wb") as handle,
                cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy,
            ):
                for block in copy:
                    handle.write(block)
    return time.perf_counter() - started


def run(directory: Path, *, threads: int = 2) -> FloorResult:
    """Export, convert to Parquet, then time DuckDB's scores + progression (best of two runs)."""
    import duckdb

    export_seconds = export(directory)
    db = duckdb.connect()
    db.execute(f"SET threads = {threads}")
    started = time.perf_counter()
    for name in EXPORTS:
        source, target = directory / f"{name}.csv", directory / f"{name}.parquet"
        convert = f"COPY (SELECT * FROM read_csv_auto('{source}', header = true)) TO '{target}' (FORMAT parquet)"  # noqa: S608
        db.execute(convert)
    parquet_seconds = time.perf_counter() - started
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        db.execute(SCORES_SQL.format(dir=directory))
        db.execute(PROGRESSION_SQL.format(dir=directory))
        best = min(best, time.perf_counter() - started)
    scores, scores_sum = db.execute("SELECT COUNT(*), COALESCE(SUM(score), 0) FROM scores").fetchone()
    progressions, change_sum = db.execute("SELECT COUNT(*), COALESCE(SUM(change), 0) FROM progression").fetchone()
    db.close()
    for path in directory.glob("*.csv"):
        path.unlink()
    return FloorResult(
        export_seconds, parquet_seconds, best, scores, float(scores_sum), progressions, float(change_sum)
    )


def app_checksums() -> tuple[int, float, int, float]:
    """The same figures from the product's tables, to show the floor did the same work."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*), COALESCE(SUM(score), 0) FROM progression_dimensionscore")
        scores, scores_sum = cursor.fetchone()
        cursor.execute("SELECT COUNT(*), COALESCE(SUM(change), 0) FROM progression_progression")
        progressions, change_sum = cursor.fetchone()
    return scores, float(scores_sum), progressions, float(change_sum)


# --- The in-engine floor: PostgreSQL itself, one statement per derived table ----------------------
#
# The same derived rows the rebuild stores, each computed by PostgreSQL in one statement into a fresh
# unlogged table: the scores, the first and latest readings with change and classification, the norms'
# baseline and α sums, and the insats summaries. No chunks, no upserts, no indexes, no WAL: what the
# database can do with these rows at best, on the same machine in the same run. The statements are
# the engine's own (progression/scoring.py, progression/norms.py) pointed at the floor's tables, so
# the floor computes the same definitions; the check below holds its rows equal to the engine's.

IN_ENGINE_TABLES = (
    "bench_floor_scores",
    "bench_floor_baselines",
    "bench_floor_norm_sums",
    "bench_floor_alpha_sums",
    "bench_floor_progression",
    "bench_floor_summary",
)
# As norms_compute: demo participants' baselines count only when there are no others.
DEMO_BASELINES_OUT = (
    "DELETE FROM bench_floor_baselines WHERE is_demo AND EXISTS (SELECT 1 FROM bench_floor_baselines WHERE NOT is_demo)"
)

# Per derived table, the same columns from the floor's table and from the engine's: the rows of one
# that the other does not hold are the differences (values to 1e-9).
IN_ENGINE_CHECKS = {
    "scores": (
        "SELECT session_id, dimension_id, items, answered, ROUND(score::numeric, 9) FROM bench_floor_scores",
        "SELECT session_id, dimension_id, items, answered, ROUND(score::numeric, 9) FROM progression_dimensionscore",
    ),
    "progression": (
        "SELECT enrolment_id, instrument_id, dimension_code, perspective, n_readings, ROUND(first_score::numeric, 9), "
        "ROUND(latest_score::numeric, 9), latest_on, classification, meets_mid FROM bench_floor_progression",
        "SELECT enrolment_id, instrument_id, dimension_code, perspective, n_readings, ROUND(first_score::numeric, 9), "
        "ROUND(latest_score::numeric, 9), latest_on, classification, meets_mid FROM progression_progression",
    ),
    "norms": (
        "SELECT version_id, dimension_code, perspective, n, ROUND((total / n)::numeric, 9) FROM bench_floor_norm_sums",
        "SELECT version_id, dimension_code, perspective, n, ROUND(mean::numeric, 9) FROM progression_norm "
        "WHERE norm_set_id = %s",
    ),
    "summaries": (
        "SELECT insats_id, year, instrument_id, dimension_code, perspective, n, n_improved, n_unchanged, n_worse, "
        "n_mid, key_n, ROUND(sum_change::numeric, 6) FROM bench_floor_summary",
        "SELECT insats_id, year, instrument_id, dimension_code, perspective, n, n_improved, n_unchanged, n_worse, "
        "n_mid, key_n, ROUND(sum_change::numeric, 6) FROM progression_insatssummary",
    ),
}


@dataclass
class InEngineResult:
    seconds: float
    phases: dict[str, float]
    same_result: bool
    differences: dict[str, int]


def _in_engine_statements(norm_set_id: int) -> list[tuple[str, str, list[object]]]:
    """(phase, statement, params) in order; each phase one CREATE UNLOGGED TABLE … AS SELECT (the
    norms two: the baselines, then their sums and α sums in one statement)."""
    from django.conf import settings

    from progression import norms, scoring

    statuses = "', '".join(scoring.SCORED_STATUSES)
    scores = (
        "CREATE UNLOGGED TABLE bench_floor_scores AS SELECT * FROM ("  # noqa: S608
        + scoring.SCORES_SELECT_SQL.format(answered="TRUE", sessions=f"s.status IN ('{statuses}')")
        + f") scores ({scoring.SCORE_COLUMNS})"
    )
    occurred_on, date_params = connection.ops.datetime_cast_date_sql("s.occurred_at", (), settings.TIME_ZONE)
    baselines = (
        norms.BASELINES_TABLE_SQL.replace(
            "CREATE TEMPORARY TABLE stegvis_baselines", "CREATE UNLOGGED TABLE bench_floor_baselines"
        )
        .replace("progression_dimensionscore ds", "bench_floor_scores ds")
        .format(occurred_on=occurred_on)
    )
    norm_sums = (
        "CREATE UNLOGGED TABLE bench_floor_norm_sums AS SELECT * FROM ("  # noqa: S608
        + norms.BASELINE_SUMS_SQL.replace("stegvis_baselines", "bench_floor_baselines")
        + ") sums (version_id, dimension_code, perspective, n, total, total_sq, first_on, last_on)"
    )
    alpha_sums = (
        "CREATE UNLOGGED TABLE bench_floor_alpha_sums AS SELECT * FROM ("  # noqa: S608
        + norms.ALPHA_SUMS_SQL.replace("stegvis_baselines", "bench_floor_baselines")
        + ") sums (version_id, dimension_code, perspective, kind, n, total, total_sq)"
    )
    rows, rows_params = scoring.progression_rows_sql("", [], norm_set_id=norm_set_id)
    progression = (
        "CREATE UNLOGGED TABLE bench_floor_progression AS SELECT rows.*, rows.n AS n_readings FROM ("  # noqa: S608
        + rows.replace("progression_dimensionscore ds", "bench_floor_scores ds")
        + ") rows"
    )
    sums, sums_params = scoring.summary_sums_sql(where="TRUE")
    summary = "CREATE UNLOGGED TABLE bench_floor_summary AS " + sums.replace(
        "progression_progression p", "bench_floor_progression p"
    )
    # Each table analysed once written, as the rebuild does (a plan made without statistics for a
    # fresh table joined to the answers is a nested loop that runs for minutes).
    return [
        ("scores", scores, [scoring.ALGORITHM_VERSION]),
        ("scores", "ANALYZE bench_floor_scores", []),
        ("reference", baselines, list(date_params)),
        ("reference", DEMO_BASELINES_OUT, []),
        ("reference", "ANALYZE bench_floor_baselines", []),
        ("reference", norm_sums, []),
        ("reference", alpha_sums, []),
        ("progression", progression, rows_params),
        ("progression", "ANALYZE bench_floor_progression", []),
        ("summaries", summary, sums_params),
    ]


def in_engine_drop() -> None:
    with connection.cursor() as cursor:
        for table in IN_ENGINE_TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")


def in_engine_differences(norm_set_id: int) -> dict[str, int]:
    """Per derived table: rows in the floor's table and not in the engine's, plus the other way round."""
    differences = {}
    with connection.cursor() as cursor:
        for name, (floor_sql, engine_sql) in IN_ENGINE_CHECKS.items():
            params = [norm_set_id] if "%s" in engine_sql else []
            cursor.execute(
                f"SELECT (SELECT COUNT(*) FROM ({floor_sql} EXCEPT ALL {engine_sql}) a) "  # noqa: S608
                f"+ (SELECT COUNT(*) FROM ({engine_sql} EXCEPT ALL {floor_sql}) b)",
                [*params, *params],
            )
            differences[name] = cursor.fetchone()[0]
    return differences


def in_engine_run(*, norm_set_id: int, repeats: int = 2) -> InEngineResult:
    """Time the in-engine statements (best of `repeats`, each from fresh tables), against the norm set
    the engine's progression rows were classified with; then compare the floor's rows with the engine's."""
    from progression import norms

    statements = _in_engine_statements(norm_set_id)
    best: dict[str, float] | None = None
    for _ in range(repeats):
        in_engine_drop()
        phases: dict[str, float] = {}
        with connection.cursor() as cursor:
            cursor.execute(f"SET work_mem = '{norms.REBUILD_WORK_MEM}'")  # as the rebuild's norms phase
            for phase, sql, params in statements:
                started = time.perf_counter()
                cursor.execute(sql, params)
                phases[phase] = phases.get(phase, 0.0) + time.perf_counter() - started
            cursor.execute("RESET work_mem")
        if best is None or sum(phases.values()) < sum(best.values()):
            best = phases
    differences = in_engine_differences(norm_set_id)
    in_engine_drop()
    return InEngineResult(
        seconds=sum(best.values()),
        phases={phase: round(seconds, 3) for phase, seconds in best.items()},
        same_result=not any(differences.values()),
        differences=differences,
    )
