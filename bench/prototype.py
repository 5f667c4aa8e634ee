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
        cursor.execute("ANALYZE bench_readings")
        cursor.execute("DELETE FROM progression_progression")
        cursor.execute(PROGRESSIONS, {"tz": settings.TIME_ZONE})
        seconds["progression"] = time.perf_counter() - started
        started = time.perf_counter()
        summaries_all()
        seconds["summaries"] = time.perf_counter() - started
    seconds["total"] = sum(seconds.values())
    return seconds


# The first scored reading per enrolment, instrument, dimension and perspective, derived once.
FIRSTS = """
CREATE TEMP TABLE bench_firsts ON COMMIT DROP AS
SELECT DISTINCT ON (s.enrolment_id, v.instrument_id, d.code, s.perspective)
       s.enrolment_id, v.instrument_id, d.code AS dimension_code, s.perspective, s.id AS session_id,
       s.version_id, ds.score
FROM progression_dimensionscore ds
JOIN surveys_assessmentsession s ON s.id = ds.session_id
JOIN surveys_instrumentversion v ON v.id = s.version_id
JOIN surveys_dimension d ON d.id = ds.dimension_id
WHERE ds.score IS NOT NULL AND s.status = 'submitted' AND NOT s.consent_withdrawn
ORDER BY s.enrolment_id, v.instrument_id, d.code, s.perspective, s.occurred_at, s.id
"""

GROUPS = """
SELECT instrument_id, dimension_code, perspective, COUNT(*), SUM(score), SUM(score * score)
FROM bench_firsts GROUP BY instrument_id, dimension_code, perspective
"""

# Item-level sums of the listwise complete first readings, for every dimension and perspective at once.
ALPHA_SUMS = f"""
WITH asked AS (
    SELECT i.version_id, d.code AS dimension_code, p.perspective, COUNT(*) AS items
    FROM surveys_item i
    JOIN surveys_dimension d ON d.id = i.dimension_id
    JOIN surveys_scale sc ON sc.id = i.scale_id AND sc.kind = 'ladder'
    CROSS JOIN (VALUES ('self'), ('mentor'), ('agreed')) p(perspective)
    WHERE i.applies_to = 'both' OR i.applies_to = p.perspective
    GROUP BY i.version_id, d.code, p.perspective
),
turned AS (
    SELECT f.instrument_id, f.dimension_code, f.perspective, f.session_id, f.version_id, i.code AS item_code,
           {RESCALED_SQL} AS x
    FROM bench_firsts f
    JOIN surveys_item i ON i.version_id = f.version_id
    JOIN surveys_dimension d ON d.id = i.dimension_id AND d.code = f.dimension_code
    JOIN surveys_scale sc ON sc.id = i.scale_id AND sc.kind = 'ladder'
    JOIN surveys_answer a ON a.session_id = f.session_id AND a.item_id = i.id AND a.value IS NOT NULL
    WHERE i.applies_to = 'both' OR i.applies_to = f.perspective
),
complete AS (
    SELECT t.instrument_id, t.dimension_code, t.perspective, t.session_id
    FROM turned t
    JOIN asked k ON k.version_id = t.version_id AND k.dimension_code = t.dimension_code
                AND k.perspective = t.perspective
    GROUP BY t.instrument_id, t.dimension_code, t.perspective, t.session_id, k.items
    HAVING COUNT(*) = k.items
),
kept AS (
    SELECT t.* FROM turned t
    JOIN complete c ON c.session_id = t.session_id AND c.dimension_code = t.dimension_code
                   AND c.perspective = t.perspective AND c.instrument_id = t.instrument_id
)
SELECT instrument_id, dimension_code, perspective, 'item', item_code, COUNT(*), SUM(x), SUM(x * x)
FROM kept GROUP BY instrument_id, dimension_code, perspective, item_code
UNION ALL
SELECT instrument_id, dimension_code, perspective, 'total', '', COUNT(*), SUM(total), SUM(total * total)
FROM (SELECT instrument_id, dimension_code, perspective, session_id, SUM(x) AS total FROM kept
      GROUP BY instrument_id, dimension_code, perspective, session_id) totals
GROUP BY instrument_id, dimension_code, perspective
"""  # noqa: S608 - module constants only


def reference_statistics_set_based() -> float:
    """The norms of progression.scoring.reference_statistics_compute (same definitions, same rows),
    with the first readings derived once instead of once per dimension and perspective; seconds."""
    import math

    from django.db.models import Count

    from progression.models import ReferenceStatistic, ReliabilitySetting
    from progression.scoring import DEFAULT_TEST_RETEST, _variance
    from surveys.models import Item

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(FIRSTS)
        cursor.execute("ANALYZE bench_firsts")  # temporary tables are never analysed automatically
        cursor.execute(GROUPS)
        groups = cursor.fetchall()
        cursor.execute(ALPHA_SUMS)
        sums: dict[tuple, dict] = {}
        for instrument_id, code, perspective, kind, _item, count, total, total_sq in cursor.fetchall():
            entry = sums.setdefault((instrument_id, code, perspective), {"items": [], "total": None})
            row = (int(count), float(total), float(total_sq))
            if kind == "item":
                entry["items"].append(row)
            else:
                entry["total"] = row
        rating_items: dict[tuple[int, str, str], int] = {}
        for perspective_asked in ("self", "mentor", "agreed"):
            asked = ["both"] if perspective_asked == "agreed" else ["both", perspective_asked]
            for row in (
                Item.objects.filter(dimension__is_rating=True, scale__kind="ladder", applies_to__in=asked)
                .values("version__instrument_id", "dimension__code", "version_id")
                .annotate(n=Count("id"))
            ):
                key = (row["version__instrument_id"], row["dimension__code"], perspective_asked)
                rating_items[key] = max(rating_items.get(key, 0), row["n"])
        configured = {(r.instrument_id, r.dimension_code): r for r in ReliabilitySetting.objects.all()}
        rows = []
        for instrument_id, code, perspective, n, total, total_sq in groups:
            n = int(n)
            sd = math.sqrt(_variance(n, float(total), float(total_sq))) if n > 1 else None
            alpha, alpha_n = None, 0
            if rating_items.get((instrument_id, code, perspective), 0) >= 2:
                entry = sums.get((instrument_id, code, perspective), {"items": [], "total": None})
                k, alpha_n = len(entry["items"]), entry["total"][0] if entry["total"] else 0
                if k >= 2 and alpha_n >= 3:
                    total_var = _variance(alpha_n, entry["total"][1], entry["total"][2])
                    if total_var > 0:
                        item_vars = sum(_variance(c, s, q) for c, s, q in entry["items"])
                        alpha = k / (k - 1) * (1 - item_vars / total_var)
            setting = configured.get((instrument_id, code))
            if alpha is not None and alpha > 0:
                reliability, source = alpha, "cronbach"
            elif setting is not None:
                reliability, source = setting.test_retest, "configured"
            else:
                reliability, source = DEFAULT_TEST_RETEST, "default"
            rows.append(
                ReferenceStatistic(
                    instrument_id=instrument_id,
                    dimension_code=code,
                    perspective=perspective,
                    n=n,
                    mean=float(total) / n,
                    sd=sd,
                    alpha=alpha,
                    alpha_n=alpha_n,
                    reliability=reliability,
                    reliability_source=source,
                    algorithm_version=ALGORITHM_VERSION,
                )
            )
        ReferenceStatistic.objects.all().delete()
        ReferenceStatistic.objects.bulk_create(rows)
    return time.perf_counter() - started
