"""A set-based sketch of the full rebuild, for information: what the rebuild costs when PostgreSQL
does all of it in a few INSERT … SELECT statements (no Python objects per row, the first readings
derived once). Same definitions and the same rows as progression/scoring.py; it is not the
product's code (bench/ never changes app code), only evidence for docs/performance.md.

It writes into the product's tables, like a rebuild does, and is followed by a check that the
rows equal the engine's."""

import time

from django.db import connection, transaction

from progression.scoring import ALGORITHM_VERSION, RESCALED_SQL

SCORES = f"""
INSERT INTO progression_dimensionscore (session_id, dimension_id, items, answered, score, algorithm_version)
SELECT s.id, d.id, COUNT(i.id), COUNT(a.value),
       CASE WHEN COUNT(a.value) * 2 >= COUNT(i.id)
            THEN AVG(CASE WHEN a.value IS NULL THEN NULL ELSE {RESCALED_SQL} END) END,
       {ALGORITHM_VERSION}
FROM surveys_assessmentsession s
JOIN surveys_item i ON i.version_id = s.version_id
JOIN surveys_dimension d ON d.id = i.dimension_id AND d.is_rating
JOIN surveys_scale sc ON sc.id = i.scale_id AND sc.kind = 'ladder'
LEFT JOIN surveys_answer a ON a.session_id = s.id AND a.item_id = i.id
WHERE s.status IN ('submitted', 'superseded')
  AND (i.applies_to = 'both' OR i.applies_to = s.perspective)
GROUP BY s.id, d.id
ON CONFLICT (session_id, dimension_id) DO UPDATE
SET score = EXCLUDED.score, answered = EXCLUDED.answered, items = EXCLUDED.items,
    algorithm_version = EXCLUDED.algorithm_version
"""  # noqa: S608 - module constants only

SCORINGS = f"""
INSERT INTO progression_sessionscoring (session_id, algorithm_version, scored_at)
SELECT id, {ALGORITHM_VERSION}, now() FROM surveys_assessmentsession WHERE status IN ('submitted', 'superseded')
ON CONFLICT (session_id) DO UPDATE SET algorithm_version = EXCLUDED.algorithm_version, scored_at = EXCLUDED.scored_at
"""  # noqa: S608 - module constants only

# First and latest per key in one pass (DISTINCT ON both ways would be two sorts; one window sort).
READINGS = """
CREATE TEMP TABLE bench_readings ON COMMIT DROP AS
SELECT enrolment_id, instrument_id, dimension_code, perspective, n, first_session, first_score,
       latest_session, latest_score, latest_at
FROM (
    SELECT s.enrolment_id, v.instrument_id, d.code AS dimension_code, s.perspective,
           COUNT(*) OVER w AS n,
           FIRST_VALUE(s.id) OVER w AS first_session, FIRST_VALUE(ds.score) OVER w AS first_score,
           LAST_VALUE(s.id) OVER w AS latest_session, LAST_VALUE(ds.score) OVER w AS latest_score,
           LAST_VALUE(s.occurred_at) OVER w AS latest_at,
           ROW_NUMBER() OVER w AS position
    FROM progression_dimensionscore ds
    JOIN surveys_assessmentsession s ON s.id = ds.session_id
    JOIN surveys_instrumentversion v ON v.id = s.version_id
    JOIN surveys_dimension d ON d.id = ds.dimension_id
    WHERE ds.score IS NOT NULL AND s.status = 'submitted' AND NOT s.consent_withdrawn
    WINDOW w AS (PARTITION BY s.enrolment_id, v.instrument_id, d.code, s.perspective
                 ORDER BY s.occurred_at, s.id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
) readings
WHERE position = 1
"""

PROGRESSIONS = f"""
INSERT INTO progression_progression
    (enrolment_id, instrument_id, dimension_code, perspective, n_readings, first_session_id, first_score,
     latest_session_id, latest_score, latest_on, change, baseline_sd, reliability, rci, classification,
     meets_mid, algorithm_version)
SELECT r.enrolment_id, r.instrument_id, r.dimension_code, r.perspective, r.n, r.first_session, r.first_score,
       r.latest_session, r.latest_score, (r.latest_at AT TIME ZONE %(tz)s)::date, c.change, ref.sd, ref.reliability,
       c.rci,
       CASE WHEN c.rci IS NULL THEN 'insufficient' WHEN c.rci >= 1.96 THEN 'improved'
            WHEN c.rci <= -1.96 THEN 'worse' ELSE 'unchanged' END,
       CASE WHEN c.rci IS NULL THEN NULL ELSE c.change >= 0.5 * ref.sd END,
       {ALGORITHM_VERSION}
FROM bench_readings r
LEFT JOIN progression_referencestatistic ref
       ON ref.instrument_id = r.instrument_id AND ref.dimension_code = r.dimension_code
      AND ref.perspective = r.perspective
CROSS JOIN LATERAL (
    SELECT CASE WHEN r.n >= 2 THEN r.latest_score - r.first_score END AS change
) ch
CROSS JOIN LATERAL (
    SELECT ch.change,
           CASE WHEN ch.change IS NULL OR ref.sd IS NULL OR ref.sd = 0 OR ref.reliability IS NULL
                     OR ref.reliability >= 1 THEN NULL
                ELSE ch.change / sqrt(2 * ref.sd * ref.sd * (1 - ref.reliability)) END AS rci
) c
"""  # noqa: S608 - module constants only


def set_based_rebuild() -> dict[str, float]:
    """Scores, then progression with the stored norms, then the summaries; seconds per step."""
    from django.conf import settings

    from progression.rebuild import summaries_all

    seconds: dict[str, float] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(SCORES)
        cursor.execute(SCORINGS)
        seconds["scores"] = time.perf_counter() - started
        started = time.perf_counter()
        cursor.execute(READINGS)
        cursor.execute("DELETE FROM progression_progression")
        cursor.execute(PROGRESSIONS, {"tz": settings.TIME_ZONE})
        seconds["progression"] = time.perf_counter() - started
        started = time.perf_counter()
        summaries_all()
        seconds["summaries"] = time.perf_counter() - started
    seconds["total"] = sum(seconds.values())
    return seconds
