"""The progression engine: dimension scores, reference statistics, progression with reliable change,
and insats summaries. Set-based: every step is a handful of SQL statements over many rows and a
bulk upsert, never a Python loop over answers.

Definitions (DESIGN.md §4):
- score: mean of the answered items of a rating dimension asked in the session's perspective, each
  turned when reverse-coded (min + max − value) and rescaled to 0–100; missing when fewer than half
  of those items are answered.
- progression: first and latest scored reading per enrolment, instrument, dimension and perspective;
  change = latest − first.
- RCI = change / √(2 · SD₀² · (1 − r)); reliably improved when RCI ≥ 1.96, worse when ≤ −1.96.
  SD₀ is the sample SD of first readings in the reference population; r is Cronbach's α of the
  first readings (listwise complete) when the dimension has ≥ 2 items, else a configured
  test–retest value (ReliabilitySetting, default DEFAULT_TEST_RETEST).
- MID: change ≥ 0.5 · SD₀.
"""

import math
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Count, QuerySet
from django.utils import timezone

from participants.models import Enrolment
from progression.models import Classification, ReferenceStatistic, ReliabilitySetting
from surveys.models import AssessmentSession, Item, SessionStatus

ALGORITHM_VERSION = 1
RCI_THRESHOLD = 1.96
MID_FACTOR = 0.5
DEFAULT_TEST_RETEST = 0.80  # used for single-item dimensions until a förbund configures its own
REBUILD_WORK_MEM = "256MB"  # PostgreSQL work_mem for the norms' one-pass sort and hash

# Turned and rescaled answer value (0–100), in SQL that PostgreSQL and SQLite both run.
RESCALED_SQL = """
    (CASE WHEN i.reverse_coded THEN sc.min_value + sc.max_value - a.value ELSE a.value END
     - sc.min_value) * 100.0 / (sc.max_value - sc.min_value)
"""


# --- Scores ------------------------------------------------------------------------------------

# Items asked per (session, dimension) in the session's perspective, the answered ones' count and
# mean, written in the same statement. {sessions} selects the readings (an id list or an id range)
# and {answered} the same readings' answers, so that PostgreSQL reads them in one range instead of
# one index probe per reading and item.
SCORES_SQL = f"""
    INSERT INTO progression_dimensionscore (session_id, dimension_id, items, answered, score, algorithm_version)
    SELECT s.id, d.id, COUNT(i.id), COUNT(a.value),
           CASE WHEN COUNT(a.value) * 2 >= COUNT(i.id)
                THEN AVG(CASE WHEN a.value IS NULL THEN NULL ELSE {RESCALED_SQL} END) END,
           %s
    FROM surveys_assessmentsession s
    JOIN surveys_item i ON i.version_id = s.version_id
    JOIN surveys_dimension d ON d.id = i.dimension_id AND d.is_rating
    JOIN surveys_scale sc ON sc.id = i.scale_id AND sc.kind = 'ladder'
    LEFT JOIN (SELECT session_id, item_id, value FROM surveys_answer WHERE {{answered}}) a
           ON a.session_id = s.id AND a.item_id = i.id
    WHERE {{sessions}} AND (i.applies_to = 'both' OR i.applies_to = s.perspective)
    GROUP BY s.id, d.id
    ON CONFLICT (session_id, dimension_id) DO UPDATE
    SET score = excluded.score, answered = excluded.answered, items = excluded.items,
        algorithm_version = excluded.algorithm_version
"""  # noqa: S608 - module constants only

SCORINGS_SQL = """
    INSERT INTO progression_sessionscoring (session_id, algorithm_version, scored_at)
    SELECT s.id, %s, %s FROM surveys_assessmentsession s WHERE {sessions}
    ON CONFLICT (session_id) DO UPDATE
    SET algorithm_version = excluded.algorithm_version, scored_at = excluded.scored_at
"""


def _score(ids: str, params: list[object], *, also: str = "") -> int:
    """Score the readings whose id matches `ids` (SQL with {column} for the id column, and its
    params) and the condition `also` on the readings s."""
    sessions = ids.format(column="s.id") + also
    answered = ids.format(column="session_id")
    with connection.cursor() as cursor:
        cursor.execute(SCORES_SQL.format(answered=answered, sessions=sessions), [ALGORITHM_VERSION, *params, *params])
        written = cursor.rowcount
        cursor.execute(SCORINGS_SQL.format(sessions=sessions), [ALGORITHM_VERSION, timezone.now(), *params])
    return written


@transaction.atomic
def sessions_score(*, session_ids: list[int]) -> int:
    """Compute and store the dimension scores of these readings; returns score rows written."""
    if not session_ids:
        return 0
    return _score(f"{{column}} IN ({','.join(['%s'] * len(session_ids))})", list(session_ids))


@transaction.atomic
def sessions_score_range(*, first_session_id: int, last_session_id: int) -> int:
    """Score the submitted and superseded readings whose ids fall in the range (a rebuild chunk)."""
    statuses = "', '".join(SCORED_STATUSES)
    return _score(
        "{column} BETWEEN %s AND %s", [first_session_id, last_session_id], also=f" AND s.status IN ('{statuses}')"
    )


# --- First and latest readings ------------------------------------------------------------------

# One row per progression key (enrolment, instrument, dimension, perspective): how many scored
# readings, the first and the latest. {where} narrows the readings (an enrolment range or list).
READINGS_SQL = """
    SELECT enrolment_id, instrument_id, dimension_code, perspective, n,
           first_session, first_score, latest_session, latest_score, latest_at
    FROM (
        SELECT s.enrolment_id, v.instrument_id, d.code AS dimension_code, s.perspective,
               COUNT(*) OVER w AS n,
               FIRST_VALUE(s.id) OVER w AS first_session,
               FIRST_VALUE(ds.score) OVER w AS first_score,
               LAST_VALUE(s.id) OVER w AS latest_session,
               LAST_VALUE(ds.score) OVER w AS latest_score,
               LAST_VALUE(s.occurred_at) OVER w AS latest_at,
               ROW_NUMBER() OVER w AS position
        FROM progression_dimensionscore ds
        JOIN surveys_assessmentsession s ON s.id = ds.session_id
        JOIN surveys_instrumentversion v ON v.id = s.version_id
        JOIN surveys_dimension d ON d.id = ds.dimension_id
        WHERE ds.score IS NOT NULL AND s.status = 'submitted' AND NOT s.consent_withdrawn {where}
        WINDOW w AS (PARTITION BY s.enrolment_id, v.instrument_id, d.code, s.perspective
                     ORDER BY s.occurred_at, s.id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
    ) readings
    WHERE position = 1
"""


# --- Reference statistics ------------------------------------------------------------------------

# The first scored reading per progression key, derived once into a temporary table (with planner
# statistics) that the norms and Cronbach's α are computed from.
FIRST_READINGS_SQL = """
    CREATE TEMPORARY TABLE stegvis_first_readings AS
    SELECT enrolment_id, instrument_id, dimension_code, perspective, session_id, version_id, score
    FROM (
        SELECT s.enrolment_id, v.instrument_id, d.code AS dimension_code, s.perspective, s.id AS session_id,
               s.version_id, ds.score,
               ROW_NUMBER() OVER (PARTITION BY s.enrolment_id, v.instrument_id, d.code, s.perspective
                                  ORDER BY s.occurred_at, s.id) AS position
        FROM progression_dimensionscore ds
        JOIN surveys_assessmentsession s ON s.id = ds.session_id
        JOIN surveys_instrumentversion v ON v.id = s.version_id
        JOIN surveys_dimension d ON d.id = ds.dimension_id
        WHERE ds.score IS NOT NULL AND s.status = 'submitted' AND NOT s.consent_withdrawn
    ) readings
    WHERE position = 1
"""

BASELINES_SQL = """
    SELECT instrument_id, dimension_code, perspective, COUNT(*), SUM(score), SUM(score * score)
    FROM stegvis_first_readings
    GROUP BY instrument_id, dimension_code, perspective
"""

# Item sums of the listwise complete first readings (every ladder item of the dimension asked in
# the perspective answered), and of their totals, for every dimension and perspective at once.
ALPHA_SUMS_SQL = f"""
    WITH asked AS (
        SELECT i.version_id, d.code AS dimension_code, p.perspective, COUNT(*) AS items
        FROM surveys_item i
        JOIN surveys_dimension d ON d.id = i.dimension_id
        JOIN surveys_scale sc ON sc.id = i.scale_id AND sc.kind = 'ladder'
        CROSS JOIN (SELECT 'self' AS perspective UNION ALL SELECT 'mentor' UNION ALL SELECT 'agreed') p
        WHERE i.applies_to = 'both' OR i.applies_to = p.perspective
        GROUP BY i.version_id, d.code, p.perspective
    ),
    turned AS (
        SELECT f.instrument_id, f.dimension_code, f.perspective, f.session_id, f.version_id,
               i.code AS item_code, {RESCALED_SQL} AS x
        FROM stegvis_first_readings f
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
        JOIN complete c ON c.session_id = t.session_id AND c.instrument_id = t.instrument_id
                       AND c.dimension_code = t.dimension_code AND c.perspective = t.perspective
    )
    SELECT instrument_id, dimension_code, perspective, 'item', COUNT(*), SUM(x), SUM(x * x)
    FROM kept GROUP BY instrument_id, dimension_code, perspective, item_code
    UNION ALL
    SELECT instrument_id, dimension_code, perspective, 'total', COUNT(*), SUM(total), SUM(total * total)
    FROM (SELECT instrument_id, dimension_code, perspective, session_id, SUM(x) AS total
          FROM kept GROUP BY instrument_id, dimension_code, perspective, session_id) totals
    GROUP BY instrument_id, dimension_code, perspective
"""  # noqa: S608 - module constants only


@dataclass
class AlphaSums:
    """Count, sum and sum of squares per item, and of the per-reading totals."""

    items: list[tuple[int, float, float]]
    total: tuple[int, float, float] | None = None


def cronbach_alpha(sums: AlphaSums) -> float | None:
    """α = k/(k−1) · (1 − Σ var(item) / var(total)), sample variances; None below 2 items or 3 readings."""
    k = len(sums.items)
    if k < 2 or sums.total is None or sums.total[0] < 3:
        return None
    total_var = _variance(*sums.total)
    if total_var <= 0:
        return None
    return k / (k - 1) * (1 - sum(_variance(*item) for item in sums.items) / total_var)


def _variance(count: int, total: float, total_sq: float) -> float:
    """Sample variance from a count, a sum and a sum of squares."""
    return max(total_sq - total * total / count, 0.0) / (count - 1)


def _rating_items_asked() -> dict[tuple[int, str, str], int]:
    """Ladder items each perspective is asked per dimension (the largest count over versions)."""
    asked_items: dict[tuple[int, str, str], int] = {}
    for perspective in ("self", "mentor", "agreed"):
        asked = ["both"] if perspective == "agreed" else ["both", perspective]
        for row in (
            Item.objects.filter(dimension__is_rating=True, scale__kind="ladder", applies_to__in=asked)
            .values("version__instrument_id", "dimension__code", "version_id")
            .annotate(n=Count("id"))
        ):
            key = (row["version__instrument_id"], row["dimension__code"], perspective)
            asked_items[key] = max(asked_items.get(key, 0), row["n"])
    return asked_items


def _large_work_memory(cursor: CursorWrapper) -> None:
    """Let PostgreSQL sort and hash a whole rebuild step in memory (this transaction only)."""
    if connection.vendor == "postgresql":
        cursor.execute(f"SET LOCAL work_mem = '{REBUILD_WORK_MEM}'")


@transaction.atomic
def reference_statistics_compute() -> int:
    """Recompute the norms (baseline mean and SD, α, the reliability used) from every first reading."""
    with connection.cursor() as cursor:
        _large_work_memory(cursor)
        cursor.execute("DROP TABLE IF EXISTS stegvis_first_readings")
        cursor.execute(FIRST_READINGS_SQL)
        cursor.execute("ANALYZE stegvis_first_readings")  # temporary tables are never analysed automatically
        cursor.execute(BASELINES_SQL)
        baselines = cursor.fetchall()
        cursor.execute(ALPHA_SUMS_SQL)
        alpha_sums: dict[tuple[int, str, str], AlphaSums] = {}
        for instrument_id, dimension_code, perspective, kind, count, total, total_sq in cursor.fetchall():
            sums = alpha_sums.setdefault((instrument_id, dimension_code, perspective), AlphaSums(items=[]))
            row = (int(count), float(total), float(total_sq))
            if kind == "item":
                sums.items.append(row)
            else:
                sums.total = row
        cursor.execute("DROP TABLE stegvis_first_readings")
    asked_items = _rating_items_asked()
    configured = {(r.instrument_id, r.dimension_code): r for r in ReliabilitySetting.objects.all()}
    rows = []
    for instrument_id, dimension_code, perspective, n, total, total_sq in baselines:
        key = (instrument_id, dimension_code, perspective)
        n = int(n)
        sd = math.sqrt(_variance(n, float(total), float(total_sq))) if n > 1 else None
        alpha, alpha_n = None, 0
        if asked_items.get(key, 0) >= 2 and key in alpha_sums:
            sums = alpha_sums[key]
            alpha, alpha_n = cronbach_alpha(sums), sums.total[0] if sums.total else 0
        setting = configured.get((instrument_id, dimension_code))
        if alpha is not None and alpha > 0:
            reliability, source = alpha, "cronbach"
        elif setting is not None:
            reliability, source = setting.test_retest, "configured"
        else:
            reliability, source = DEFAULT_TEST_RETEST, "default"
        rows.append(
            ReferenceStatistic(
                instrument_id=instrument_id,
                dimension_code=dimension_code,
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
    return len(rows)


# --- Progression ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReliableChange:
    rci: float | None
    classification: str
    meets_mid: bool | None


def reliable_change(*, change: float | None, baseline_sd: float | None, reliability: float | None) -> ReliableChange:
    """Classify a change against measurement error: RCI = change / √(2·SD₀²·(1−r))."""
    if change is None:
        return ReliableChange(None, Classification.INSUFFICIENT, None)
    if not baseline_sd or reliability is None or reliability >= 1:
        # No usable norm yet (too few baselines): say so rather than call the change "unchanged".
        return ReliableChange(None, Classification.INSUFFICIENT, None)
    standard_error_of_difference = math.sqrt(2 * baseline_sd**2 * (1 - reliability))
    rci = change / standard_error_of_difference
    if rci >= RCI_THRESHOLD:
        classification = Classification.IMPROVED
    elif rci <= -RCI_THRESHOLD:
        classification = Classification.WORSE
    else:
        classification = Classification.UNCHANGED
    return ReliableChange(rci, classification, change >= MID_FACTOR * baseline_sd)


def _ensure_reference_statistics() -> None:
    """The first reading ever processed computes the norms; afterwards they change only on request."""
    if not ReferenceStatistic.objects.exists():
        reference_statistics_compute()


# Progression rows of the enrolments selected by {where} (on the readings s), with the change, the
# RCI, its classification and the MID computed in SQL against the stored norms — the same rules as
# reliable_change() below, which the tests hold this statement to.
PROGRESSIONS_SQL = """
    INSERT INTO progression_progression
        (enrolment_id, instrument_id, dimension_code, perspective, n_readings, first_session_id, first_score,
         latest_session_id, latest_score, latest_on, change, baseline_sd, reliability, rci, classification,
         meets_mid, algorithm_version)
    SELECT enrolment_id, instrument_id, dimension_code, perspective, n, first_session, first_score,
           latest_session, latest_score, {latest_on}, change, sd, reliability, rci,
           CASE WHEN rci IS NULL THEN %s WHEN rci >= %s THEN %s WHEN rci <= %s THEN %s ELSE %s END,
           CASE WHEN rci IS NULL THEN NULL ELSE change >= %s * sd END,
           %s
    FROM (
        SELECT r.*, ref.sd, ref.reliability,
               CASE WHEN r.change IS NULL OR ref.sd IS NULL OR ref.sd = 0 OR ref.reliability IS NULL
                         OR ref.reliability >= 1 THEN NULL
                    ELSE r.change / SQRT(2 * ref.sd * ref.sd * (1 - ref.reliability)) END AS rci
        FROM (
            SELECT readings.*, CASE WHEN n >= 2 THEN latest_score - first_score END AS change
            FROM ({readings}) readings
        ) r
        LEFT JOIN progression_referencestatistic ref
               ON ref.instrument_id = r.instrument_id AND ref.dimension_code = r.dimension_code
              AND ref.perspective = r.perspective
    ) progressions
"""


def _progressions_store(enrolments: str, params: list[object]) -> int:
    """Replace the progression rows of the enrolments selected by `enrolments` (SQL on column
    enrolment_id, with its params); returns rows stored."""
    _ensure_reference_statistics()
    latest_on, date_params = connection.ops.datetime_cast_date_sql("latest_at", (), settings.TIME_ZONE)
    sql = PROGRESSIONS_SQL.format(latest_on=latest_on, readings=READINGS_SQL.format(where=f"AND s.{enrolments}"))
    verdicts = [
        Classification.INSUFFICIENT.value,
        RCI_THRESHOLD,
        Classification.IMPROVED.value,
        -RCI_THRESHOLD,
        Classification.WORSE.value,
        Classification.UNCHANGED.value,
        MID_FACTOR,
        ALGORITHM_VERSION,
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM progression_progression WHERE {enrolments}", params)  # noqa: S608
        # Placeholders in order: the date conversion, the verdicts, then the readings' filter.
        cursor.execute(sql, [*date_params, *verdicts, *params])
        return cursor.rowcount


@transaction.atomic
def progressions_update(*, first_enrolment_id: int, last_enrolment_id: int) -> int:
    """Recompute the progression rows of a range of enrolments (inclusive; a rebuild chunk). The
    insats summaries are left alone: the rebuild recomputes them afterwards."""
    return _progressions_store("enrolment_id BETWEEN %s AND %s", [first_enrolment_id, last_enrolment_id])


# --- Insats summaries -------------------------------------------------------------------------------

SUMMARY_COLUMNS = """
    insats_id, year, instrument_id, dimension_code, perspective, n, sum_first, sum_latest, sum_change,
    sum_change_sq, n_improved, n_unchanged, n_worse, n_mid, key_n, key_improved, key_unchanged, key_worse,
    key_mid, algorithm_version
"""
SUMMED_COLUMNS = (
    "n",
    "sum_first",
    "sum_latest",
    "sum_change",
    "sum_change_sq",
    "n_improved",
    "n_unchanged",
    "n_worse",
    "n_mid",
    "key_n",
    "key_improved",
    "key_unchanged",
    "key_worse",
    "key_mid",
)

# Sums per insats × year of the latest reading × dimension × perspective over the progression rows
# with at least two readings that {where} selects, in the summary's column order.
SUMMARY_SUMS_SQL = """
    SELECT e.insats_id AS insats_id, {year} AS year, p.instrument_id AS instrument_id,
           p.dimension_code AS dimension_code, p.perspective AS perspective,
           COUNT(*) AS n, SUM(p.first_score) AS sum_first, SUM(p.latest_score) AS sum_latest,
           SUM(p.change) AS sum_change, SUM(p.change * p.change) AS sum_change_sq,
           SUM(CASE WHEN p.classification = 'improved' THEN 1 ELSE 0 END) AS n_improved,
           SUM(CASE WHEN p.classification = 'unchanged' THEN 1 ELSE 0 END) AS n_unchanged,
           SUM(CASE WHEN p.classification = 'worse' THEN 1 ELSE 0 END) AS n_worse,
           SUM(CASE WHEN p.meets_mid THEN 1 ELSE 0 END) AS n_mid,
           SUM(e.record_key) AS key_n,
           SUM(CASE WHEN p.classification = 'improved' THEN e.record_key ELSE 0 END) AS key_improved,
           SUM(CASE WHEN p.classification = 'unchanged' THEN e.record_key ELSE 0 END) AS key_unchanged,
           SUM(CASE WHEN p.classification = 'worse' THEN e.record_key ELSE 0 END) AS key_worse,
           SUM(CASE WHEN p.meets_mid THEN e.record_key ELSE 0 END) AS key_mid,
           %s AS algorithm_version
    FROM progression_progression p
    JOIN participants_enrolment e ON e.id = p.enrolment_id
    WHERE p.n_readings >= 2 AND {where}
    GROUP BY e.insats_id, year, p.instrument_id, p.dimension_code, p.perspective
    ORDER BY e.insats_id, year, p.instrument_id, p.dimension_code, p.perspective
"""

SUMMARY_KEY_MATCH = """
    progression_insatssummary.insats_id = sums.insats_id AND progression_insatssummary.year = sums.year
    AND progression_insatssummary.instrument_id = sums.instrument_id
    AND progression_insatssummary.dimension_code = sums.dimension_code
    AND progression_insatssummary.perspective = sums.perspective
"""

# Take sums out of the summary rows they were added to.
SUMMARY_SUBTRACT_SQL = f"""
    UPDATE progression_insatssummary
    SET {", ".join(f"{column} = progression_insatssummary.{column} - sums.{column}" for column in SUMMED_COLUMNS)}
    FROM ({{sums}}) sums
    WHERE {SUMMARY_KEY_MATCH}
"""  # noqa: S608 - module constants only

# Add sums to the summary rows, creating the missing ones.
SUMMARY_ADD_SQL = f"""
    INSERT INTO progression_insatssummary ({SUMMARY_COLUMNS})
    {{sums}}
    ON CONFLICT (insats_id, year, instrument_id, dimension_code, perspective) DO UPDATE
    SET {", ".join(f"{column} = progression_insatssummary.{column} + excluded.{column}" for column in SUMMED_COLUMNS)},
        algorithm_version = excluded.algorithm_version
"""  # noqa: S608 - module constants only


def _summary_sums(*, where: str) -> tuple[str, list[object]]:
    """The sums statement and its leading params (the year expression's, the algorithm version);
    the caller appends the params of `where`."""
    year, year_params = connection.ops.date_extract_sql("year", "p.latest_on", ())
    return SUMMARY_SUMS_SQL.format(year=year, where=where), [*year_params, ALGORITHM_VERSION]


@transaction.atomic
def insats_summaries_update(*, insats_ids: list[int]) -> int:
    """Recompute the summary rows of these insatser from all their progression rows (a rebuild)."""
    if not insats_ids:
        return 0
    placeholders = ",".join(["%s"] * len(insats_ids))
    sums, sums_params = _summary_sums(where=f"e.insats_id IN ({placeholders})")
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM progression_insatssummary WHERE insats_id IN ({placeholders})", insats_ids)  # noqa: S608
        cursor.execute(
            f"INSERT INTO progression_insatssummary ({SUMMARY_COLUMNS}) {sums}",  # noqa: S608
            [*sums_params, *insats_ids],
        )
        return cursor.rowcount


class SummariesOutOfStep(Exception):
    """The insats summaries do not hold what an enrolment's old progression rows added to them."""


@transaction.atomic
def enrolments_progress(*, enrolment_ids: list[int]) -> int:
    """After readings of these enrolments changed: recompute their progression rows and move their
    insats summaries by the difference (old rows out, new rows in), so that the work is proportional
    to the enrolments, not to their insatser. Returns progression rows stored.

    The enrolment rows are locked first, so that two workers processing readings of the same
    enrolment take turns instead of both taking the old rows out of the summaries. Should the
    summaries not hold what the old rows added (a summary row missing, or smaller than the old
    rows: rebuilt halfway, rows deleted by hand), the insatser's summaries are recomputed from all
    their progression rows instead."""
    if not enrolment_ids:
        return 0
    ids = sorted(set(enrolment_ids))
    list(Enrolment.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
    placeholders = ",".join(["%s"] * len(ids))
    enrolments = f"enrolment_id IN ({placeholders})"
    sums, sums_params = _summary_sums(where=f"p.{enrolments}")
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({sums}) sums", [*sums_params, *ids])  # noqa: S608
            expected = cursor.fetchone()[0]
            cursor.execute(SUMMARY_SUBTRACT_SQL.format(sums=sums), [*sums_params, *ids])
            if cursor.rowcount != expected:
                raise SummariesOutOfStep
            stored = _progressions_store(enrolments, ids)
            cursor.execute(SUMMARY_ADD_SQL.format(sums=sums), [*sums_params, *ids])
            cursor.execute(
                "DELETE FROM progression_insatssummary WHERE n = 0 AND insats_id IN "  # noqa: S608
                f"(SELECT insats_id FROM participants_enrolment WHERE id IN ({placeholders}))",
                ids,
            )
    except (SummariesOutOfStep, IntegrityError):  # IntegrityError: a difference below zero
        stored = _progressions_store(enrolments, ids)
        insats_ids = Enrolment.objects.filter(pk__in=ids).values_list("insats_id", flat=True).distinct()
        insats_summaries_update(insats_ids=sorted(insats_ids))
    return stored


def tables_analyze(tables: tuple[str, ...]) -> None:
    """Refresh the planner statistics of tables a rebuild reads or has just rewritten (PostgreSQL's
    autovacuum gets to them only later, and a plan made for an empty table is slow on a full one).
    ANALYZE reads a sample, so this takes about a second even for the largest tables."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {table}")


def derived_tables_analyze() -> None:
    tables_analyze(DERIVED_TABLES)


# The readings a rebuild scores (they may just have been imported or restored) and what it derives.
SOURCE_TABLES = ("surveys_assessmentsession", "surveys_answer")
DERIVED_TABLES = (
    "progression_sessionscoring",
    "progression_dimensionscore",
    "progression_progression",
    "progression_insatssummary",
)


# --- The incremental path, the sweep and the rebuild ---------------------------------------------


def session_process(*, session_id: int) -> None:
    """After a reading is submitted: its scores, its enrolment's progression, its insats' summaries."""
    enrolment_id = AssessmentSession.objects.filter(pk=session_id).values_list("enrolment_id", flat=True).first()
    if enrolment_id is None:
        return
    with transaction.atomic():
        sessions_score(session_ids=[session_id])
        enrolments_progress(enrolment_ids=[enrolment_id])


SCORED_STATUSES = (SessionStatus.SUBMITTED, SessionStatus.SUPERSEDED)


def unprocessed_sessions() -> QuerySet[AssessmentSession]:
    """Readings with no scores at the current algorithm version (e.g. Redis was down at submit).

    Superseded readings are scored too, so that the incremental path and a rebuild store the same rows."""
    return AssessmentSession.objects.filter(status__in=SCORED_STATUSES).exclude(
        scoring__algorithm_version=ALGORITHM_VERSION
    )


def progression_sweep(*, limit: int = 2000) -> int:
    """Process what the incremental path missed; returns how many readings were processed."""
    pending = list(unprocessed_sessions().order_by("id").values_list("id", "enrolment_id")[:limit])
    if not pending:
        return 0
    with transaction.atomic():
        sessions_score(session_ids=[session_id for session_id, _ in pending])
        enrolments_progress(enrolment_ids=[enrolment_id for _, enrolment_id in pending])
    return len(pending)
