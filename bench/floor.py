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
