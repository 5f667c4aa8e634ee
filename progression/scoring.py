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
  SD₀ and r come from the norm set in force (progression/norms.py); a key without a usable norm
  is not classified ("för få för att bedöma").
- MID: change ≥ 0.5 · SD₀.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from participants.models import Enrolment
from progression import derived_tables, norms
from progression.models import Classification
from surveys.models import AssessmentSession, SessionStatus

# A query parameter as cursor.execute() takes it (django-stubs keeps its own alias private); a list
# is a PostgreSQL array.
SqlParam = int | float | str | date | datetime | list[int] | None

ALGORITHM_VERSION = 1
RCI_THRESHOLD = 1.96
MID_FACTOR = 0.5

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
SCORES_SELECT_SQL = f"""
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
"""  # noqa: S608 - module constants only
SCORE_COLUMNS = "session_id, dimension_id, items, answered, score, algorithm_version"
SCORES_SQL = f"""
    INSERT INTO {{table}} ({SCORE_COLUMNS})
    {SCORES_SELECT_SQL}
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


def _score(ids: str, params: list[int], *, also: str = "", table: str = derived_tables.SCORES_TABLE) -> int:
    """Score the readings whose id matches `ids` (SQL with {column} for the id column, and its
    params) and the condition `also` on the readings s, into `table`."""
    sessions = ids.format(column="s.id") + also
    answered = ids.format(column="session_id")
    with connection.cursor() as cursor:
        cursor.execute(
            SCORES_SQL.format(table=table, answered=answered, sessions=sessions), [ALGORITHM_VERSION, *params, *params]
        )
        written = cursor.rowcount
        cursor.execute(SCORINGS_SQL.format(sessions=sessions), [ALGORITHM_VERSION, timezone.now(), *params])
    return written


@transaction.atomic
def sessions_score(*, session_ids: list[int]) -> int:
    """Compute and store the dimension scores of these readings; returns score rows written."""
    if not session_ids:
        return 0
    placeholders = ",".join(["%s"] * len(session_ids))
    derived_tables.catch_up_record(
        f"SELECT DISTINCT enrolment_id FROM surveys_assessmentsession WHERE id IN ({placeholders})",  # noqa: S608
        list(session_ids),
    )
    return _score(f"{{column}} IN ({placeholders})", list(session_ids))


def _scored(ids: str, params: list[int], *, table: str) -> int:
    """Score the submitted and superseded readings whose id matches `ids` into `table`."""
    statuses = "', '".join(SCORED_STATUSES)
    return _score(ids, params, also=f" AND s.status IN ('{statuses}')", table=table)


@transaction.atomic
def sessions_score_range(*, first_session_id: int, last_session_id: int) -> int:
    """Score the submitted and superseded readings whose ids fall in the range (a rebuild chunk)
    into the table the rebuild writes."""
    derived_tables.rebuild_lock()
    return _scored(
        "{column} BETWEEN %s AND %s",
        [first_session_id, last_session_id],
        table=derived_tables.rebuild_target(derived_tables.SCORES_TABLE),
    )


CATCH_UP_SESSIONS = (
    "{column} IN (SELECT id FROM surveys_assessmentsession "
    "WHERE enrolment_id IN (SELECT enrolment_id FROM progression_rebuildcatchup))"
)


def scores_catch_up(table: str) -> None:
    """Score again into `table` the readings of the enrolments the incremental path processed
    during the rebuild (derived_tables.next_swap)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {CATCH_UP_SESSIONS.format(column='session_id')}")  # noqa: S608
    _scored(CATCH_UP_SESSIONS, [], table=table)


# --- First and latest readings ------------------------------------------------------------------

# One row per progression key (enrolment, instrument, dimension, perspective): how many scored
# readings, the first and the latest. {where} narrows the readings (an enrolment range or list).
READINGS_SQL = """
    SELECT enrolment_id, instrument_id, dimension_code, perspective, n,
           first_session, first_version, first_score, first_at, latest_session, latest_version, latest_score,
           latest_at
    FROM (
        SELECT s.enrolment_id, v.instrument_id, d.code AS dimension_code, s.perspective,
               COUNT(*) OVER w AS n,
               FIRST_VALUE(s.id) OVER w AS first_session,
               FIRST_VALUE(ds.score) OVER w AS first_score,
               FIRST_VALUE(s.version_id) OVER w AS first_version,
               FIRST_VALUE(s.occurred_at) OVER w AS first_at,
               LAST_VALUE(s.id) OVER w AS latest_session,
               LAST_VALUE(s.version_id) OVER w AS latest_version,
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


# --- Progression ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReliableChange:
    rci: float | None
    classification: str
    meets_mid: bool | None


def reliable_change(*, change: float | None, baseline_sd: float | None, reliability: float | None) -> ReliableChange:
    """Classify a change against measurement error: RCI = change / √(2·SD₀²·(1−r)). baseline_sd and
    reliability are None when the row's norm is missing or not usable (too few baselines, no
    reliability): then nothing is classified."""
    if change is None:
        return ReliableChange(None, Classification.INSUFFICIENT, None)
    if not baseline_sd or reliability is None or reliability >= 1:
        return ReliableChange(None, Classification.NO_NORM, None)
    standard_error_of_difference = math.sqrt(2 * baseline_sd**2 * (1 - reliability))
    rci = change / standard_error_of_difference
    if rci >= RCI_THRESHOLD:
        classification = Classification.IMPROVED
    elif rci <= -RCI_THRESHOLD:
        classification = Classification.WORSE
    else:
        classification = Classification.UNCHANGED
    return ReliableChange(rci, classification, change >= MID_FACTOR * baseline_sd)


# Progression rows of the readings selected by {where} (on the readings s), with the change, the
# RCI, its classification and the MID computed in SQL against a norm set — the same rules as
# reliable_change() above, which the tests hold this statement to. A row uses the norm of its first
# reading's instrument version, dimension and perspective, if usable; the row keeps the norm's SD₀
# and reliability either way. The engine stores these rows (PROGRESSIONS_SQL); the stegförflyttning
# report computes them from the readings up to a period's end (progression_rows_sql).
PROGRESSION_ROWS_SQL = """
    SELECT enrolment_id, instrument_id, dimension_code, perspective, n, first_session, first_score,
           latest_session, latest_score, {latest_on} AS latest_on, {first_on} AS first_on, first_version,
           latest_version, change, sd, reliability, rci,
           CASE WHEN change IS NULL THEN %s WHEN rci IS NULL THEN %s
                WHEN rci >= %s THEN %s WHEN rci <= %s THEN %s ELSE %s END AS classification,
           CASE WHEN rci IS NULL THEN NULL ELSE change >= %s * sd END AS meets_mid,
           norm_id
    FROM (
        SELECT r.*, ref.id AS norm_id, ref.sd, ref.reliability,
               CASE WHEN r.change IS NULL OR ref.id IS NULL OR NOT ref.usable OR NOT ref.sd > 0
                         OR NOT ref.reliability < 1 THEN NULL
                    ELSE r.change / SQRT(2 * ref.sd * ref.sd * (1 - ref.reliability)) END AS rci
        FROM (
            SELECT readings.*, CASE WHEN n >= 2 THEN latest_score - first_score END AS change
            FROM ({readings}) readings
        ) r
        LEFT JOIN progression_norm ref
               ON ref.norm_set_id = %s AND ref.version_id = r.first_version
              AND ref.dimension_code = r.dimension_code AND ref.perspective = r.perspective
    ) progressions
"""
PROGRESSIONS_SQL = """
    INSERT INTO {table}
        (enrolment_id, instrument_id, dimension_code, perspective, n_readings, first_session_id, first_score,
         latest_session_id, latest_score, latest_on, first_on, first_version_id, latest_version_id, change,
         baseline_sd, reliability, rci, classification, meets_mid, norm_set_id, norm_id, algorithm_version)
    SELECT enrolment_id, instrument_id, dimension_code, perspective, n, first_session, first_score,
           latest_session, latest_score, latest_on, first_on, first_version, latest_version, change, sd,
           reliability, rci, classification, meets_mid, %s, norm_id, %s
    FROM ({rows}) rows
"""
VERDICTS: list[str | float] = [
    Classification.INSUFFICIENT.value,
    Classification.NO_NORM.value,
    RCI_THRESHOLD,
    Classification.IMPROVED.value,
    -RCI_THRESHOLD,
    Classification.WORSE.value,
    Classification.UNCHANGED.value,
    MID_FACTOR,
]


def progression_rows_sql(
    where: str, params: Sequence[SqlParam], *, norm_set_id: int | None
) -> tuple[str, list[SqlParam]]:
    """PROGRESSION_ROWS_SQL for the readings that `where` selects (SQL on the readings s, starting
    with AND, with its params), classified against the norm set; with its params in order."""
    latest_on, latest_params = connection.ops.datetime_cast_date_sql("latest_at", (), settings.TIME_ZONE)
    first_on, first_params = connection.ops.datetime_cast_date_sql("first_at", (), settings.TIME_ZONE)
    sql = PROGRESSION_ROWS_SQL.format(latest_on=latest_on, first_on=first_on, readings=READINGS_SQL.format(where=where))
    return sql, [*latest_params, *first_params, *VERDICTS, *params, norm_set_id]


def _progressions_store(enrolments: str, params: list[int], *, table: str = derived_tables.PROGRESSION_TABLE) -> int:
    """Replace the progression rows in `table` of the enrolments selected by `enrolments` (SQL on
    column enrolment_id, with its params); returns rows stored."""
    norm_set_id = norms.norm_set_for_progression().pk
    rows, rows_params = progression_rows_sql(f"AND s.{enrolments}", params, norm_set_id=norm_set_id)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {enrolments}", params)  # noqa: S608
        cursor.execute(PROGRESSIONS_SQL.format(table=table, rows=rows), [norm_set_id, ALGORITHM_VERSION, *rows_params])
        return cursor.rowcount


@transaction.atomic
def progressions_update(*, first_enrolment_id: int, last_enrolment_id: int) -> int:
    """Recompute the progression rows of a range of enrolments (inclusive; a rebuild chunk) into the
    table the rebuild writes. The insats summaries are left alone: the rebuild recomputes them
    afterwards."""
    derived_tables.rebuild_lock()
    return _progressions_store(
        "enrolment_id BETWEEN %s AND %s",
        [first_enrolment_id, last_enrolment_id],
        table=derived_tables.rebuild_target(derived_tables.PROGRESSION_TABLE),
    )


def progressions_catch_up(table: str) -> None:
    """Recompute into `table` the progression rows of the enrolments the incremental path processed
    during the rebuild (derived_tables.next_swap)."""
    _progressions_store("enrolment_id IN (SELECT enrolment_id FROM progression_rebuildcatchup)", [], table=table)


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


def summary_sums_sql(*, where: str) -> tuple[str, list[SqlParam]]:
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
    sums, sums_params = summary_sums_sql(where=f"e.insats_id IN ({placeholders})")
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
    placeholders = ",".join(["%s"] * len(ids))
    derived_tables.catch_up_record(f"SELECT id FROM participants_enrolment WHERE id IN ({placeholders})", ids)  # noqa: S608
    list(Enrolment.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
    enrolments = f"enrolment_id IN ({placeholders})"
    sums, sums_params = summary_sums_sql(where=f"p.{enrolments}")
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


@transaction.atomic
def enrolments_recompute(*, enrolment_ids: list[int]) -> None:
    """After readings of these enrolments were deleted (their old progression rows went with them,
    so the summaries cannot be moved by the difference): their progression rows and their
    insatser's summaries recomputed from what is left."""
    if not enrolment_ids:
        return
    ids = sorted(set(enrolment_ids))
    placeholders = ",".join(["%s"] * len(ids))
    enrolments = f"enrolment_id IN ({placeholders})"
    derived_tables.catch_up_record(f"SELECT id FROM participants_enrolment WHERE id IN ({placeholders})", ids)  # noqa: S608
    _progressions_store(enrolments, ids)
    insats_ids = Enrolment.objects.filter(pk__in=ids).values_list("insats_id", flat=True).distinct()
    insats_summaries_update(insats_ids=sorted(insats_ids))


# Every table a rebuild reads (the readings may just have been imported or restored; the small
# instrument tables too, or PostgreSQL plans a nested loop over them). What it derives, it analyses
# as it writes (progression.rebuild).
SOURCE_TABLES = norms.NORM_SOURCE_TABLES


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


def norms_complete_and_reclassify(*, chunk_size: int = 500) -> int:
    """Nightly, and whenever asked: complete the norm set in force (norms.norms_complete) and
    reclassify the progression rows of the keys whose norms it added. Returns the enrolments
    reclassified."""
    norm_set, keys = norms.norms_complete()
    if norm_set is None or not keys:
        return 0
    enrolment_ids = norms.enrolments_with_keys(keys)
    for start in range(0, len(enrolment_ids), chunk_size):
        enrolments_progress(enrolment_ids=enrolment_ids[start : start + chunk_size])
    return len(enrolment_ids)
