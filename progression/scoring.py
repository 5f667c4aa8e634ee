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
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import connection, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from progression.models import (
    Classification,
    DimensionScore,
    InsatsSummary,
    Progression,
    ReferenceStatistic,
    ReliabilitySetting,
    SessionScoring,
)
from surveys.models import AssessmentSession, Item, SessionStatus

ALGORITHM_VERSION = 1
RCI_THRESHOLD = 1.96
MID_FACTOR = 0.5
DEFAULT_TEST_RETEST = 0.80  # used for single-item dimensions until a förbund configures its own

# Turned and rescaled answer value (0–100), in SQL that PostgreSQL and SQLite both run.
RESCALED_SQL = """
    (CASE WHEN i.reverse_coded THEN sc.min_value + sc.max_value - a.value ELSE a.value END
     - sc.min_value) * 100.0 / (sc.max_value - sc.min_value)
"""


# --- Scores ------------------------------------------------------------------------------------


@transaction.atomic
def sessions_score(*, session_ids: list[int]) -> int:
    """Compute and store the dimension scores of submitted sessions; returns rows written."""
    if not session_ids:
        return 0
    placeholders = ",".join(["%s"] * len(session_ids))
    # Items asked per (session, dimension) in the session's perspective, and the answered ones'
    # count and mean, in one statement.
    sql = f"""
        SELECT s.id, d.id,
               COUNT(i.id) AS items,
               COUNT(a.value) AS answered,
               AVG(CASE WHEN a.value IS NULL THEN NULL ELSE {RESCALED_SQL} END) AS mean
        FROM surveys_assessmentsession s
        JOIN surveys_item i ON i.version_id = s.version_id
        JOIN surveys_dimension d ON d.id = i.dimension_id AND d.is_rating
        JOIN surveys_scale sc ON sc.id = i.scale_id AND sc.kind = 'ladder'
        LEFT JOIN surveys_answer a ON a.session_id = s.id AND a.item_id = i.id
        WHERE s.id IN ({placeholders})
          AND (i.applies_to = 'both'
               OR (s.perspective = 'self' AND i.applies_to = 'self')
               OR (s.perspective = 'mentor' AND i.applies_to = 'mentor'))
        GROUP BY s.id, d.id
    """  # noqa: S608 - only placeholders are interpolated
    with connection.cursor() as cursor:
        cursor.execute(sql, session_ids)
        rows = cursor.fetchall()
    scores = [
        DimensionScore(
            session_id=session_id,
            dimension_id=dimension_id,
            items=items,
            answered=answered,
            score=float(mean) if answered * 2 >= items and mean is not None else None,
            algorithm_version=ALGORITHM_VERSION,
        )
        for session_id, dimension_id, items, answered, mean in rows
    ]
    DimensionScore.objects.bulk_create(
        scores,
        update_conflicts=True,
        unique_fields=["session", "dimension"],
        update_fields=["score", "answered", "items", "algorithm_version"],
    )
    SessionScoring.objects.bulk_create(
        [SessionScoring(session_id=session_id, algorithm_version=ALGORITHM_VERSION) for session_id in session_ids],
        update_conflicts=True,
        unique_fields=["session"],
        update_fields=["algorithm_version", "scored_at"],
    )
    return len(scores)


# --- First and latest readings ------------------------------------------------------------------

# One row per progression key (enrolment, instrument, dimension, perspective): how many scored
# readings, the first and the latest. {where} narrows the readings (an enrolment range, a dimension).
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
               ROW_NUMBER() OVER (PARTITION BY s.enrolment_id, v.instrument_id, d.code, s.perspective
                                  ORDER BY s.occurred_at, s.id) AS position
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


def _readings(*, where: str = "", params: Iterable[object] = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(READINGS_SQL.format(where=where), list(params))
        return cursor.fetchall()


# --- Reference statistics ------------------------------------------------------------------------


def _cronbach_alpha(*, instrument_id: int, dimension_code: str, perspective: str) -> tuple[float | None, int]:
    """Cronbach's α of the first readings that answer every item of the dimension (listwise).

    α = k/(k−1) · (1 − Σ var(item) / var(total)), sample variances, from SQL sums."""
    firsts = READINGS_SQL.format(where="AND v.instrument_id = %s AND d.code = %s AND s.perspective = %s")
    sql = f"""
        WITH firsts AS ({firsts}),
        turned AS (
            SELECT a.session_id, i.code AS item_code, {RESCALED_SQL} AS x
            FROM firsts f
            JOIN surveys_assessmentsession s ON s.id = f.first_session
            JOIN surveys_item i ON i.version_id = s.version_id
            JOIN surveys_dimension d ON d.id = i.dimension_id AND d.code = f.dimension_code
            JOIN surveys_scale sc ON sc.id = i.scale_id AND sc.kind = 'ladder'
            JOIN surveys_answer a ON a.session_id = s.id AND a.item_id = i.id AND a.value IS NOT NULL
            WHERE i.applies_to = 'both' OR i.applies_to = f.perspective
        ),
        complete AS (
            SELECT t.session_id FROM turned t GROUP BY t.session_id
            HAVING COUNT(*) = (
                SELECT COUNT(*) FROM surveys_item i2
                JOIN surveys_dimension d2 ON d2.id = i2.dimension_id
                JOIN surveys_scale sc2 ON sc2.id = i2.scale_id AND sc2.kind = 'ladder'
                JOIN surveys_assessmentsession s2 ON s2.version_id = i2.version_id
                WHERE s2.id = t.session_id AND d2.code = %s AND (i2.applies_to = 'both' OR i2.applies_to = %s)
            )
        )
        SELECT 'item', t.item_code, COUNT(*), SUM(t.x), SUM(t.x * t.x)
        FROM turned t JOIN complete c ON c.session_id = t.session_id GROUP BY t.item_code
        UNION ALL
        SELECT 'total', '', COUNT(*), SUM(total), SUM(total * total)
        FROM (SELECT t.session_id, SUM(t.x) AS total FROM turned t JOIN complete c ON c.session_id = t.session_id
              GROUP BY t.session_id) totals
    """  # noqa: S608 - only placeholders are interpolated
    with connection.cursor() as cursor:
        cursor.execute(sql, [instrument_id, dimension_code, perspective, dimension_code, perspective])
        rows = cursor.fetchall()
    items = [row for row in rows if row[0] == "item"]
    total = next(row for row in rows if row[0] == "total")
    k, n = len(items), int(total[2])
    if k < 2 or n < 3:
        return None, n
    total_var = _variance(n, float(total[3]), float(total[4]))
    if total_var <= 0:
        return None, n
    item_vars = sum(_variance(int(row[2]), float(row[3]), float(row[4])) for row in items)
    return k / (k - 1) * (1 - item_vars / total_var), n


def _variance(count: int, total: float, total_sq: float) -> float:
    """Sample variance from a count, a sum and a sum of squares."""
    return max(total_sq - total * total / count, 0.0) / (count - 1)


@transaction.atomic
def reference_statistics_compute() -> int:
    """Recompute the norms (baseline mean and SD, α, the reliability used) from every first reading."""
    sql = f"""
        SELECT instrument_id, dimension_code, perspective, COUNT(*), SUM(first_score), SUM(first_score * first_score)
        FROM ({READINGS_SQL.format(where="")}) firsts
        GROUP BY instrument_id, dimension_code, perspective
    """  # noqa: S608 - no user input
    with connection.cursor() as cursor:
        cursor.execute(sql)
        groups = cursor.fetchall()
    # Ladder items each perspective is asked per dimension (the largest count over versions).
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
    for instrument_id, dimension_code, perspective, n, total, total_sq in groups:
        n = int(n)
        sd = math.sqrt(_variance(n, float(total), float(total_sq))) if n > 1 else None
        alpha, alpha_n = None, 0
        if rating_items.get((instrument_id, dimension_code, perspective), 0) >= 2:
            alpha, alpha_n = _cronbach_alpha(
                instrument_id=instrument_id, dimension_code=dimension_code, perspective=perspective
            )
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


def _ensure_reference_statistics() -> dict[tuple[int, str, str], ReferenceStatistic]:
    references = {(r.instrument_id, r.dimension_code, r.perspective): r for r in ReferenceStatistic.objects.all()}
    if not references:
        reference_statistics_compute()
        references = {(r.instrument_id, r.dimension_code, r.perspective): r for r in ReferenceStatistic.objects.all()}
    return references


@transaction.atomic
def progressions_update(*, first_enrolment_id: int, last_enrolment_id: int) -> int:
    """Recompute the progression rows of a range of enrolments (inclusive); returns rows stored."""
    references = _ensure_reference_statistics()
    readings = _readings(where="AND s.enrolment_id BETWEEN %s AND %s", params=[first_enrolment_id, last_enrolment_id])
    rows = []
    for (
        enrolment_id,
        instrument_id,
        dimension_code,
        perspective,
        n,
        first_session,
        first_score,
        latest_session,
        latest_score,
        latest_at,
    ) in readings:
        reference = references.get((instrument_id, dimension_code, perspective))
        baseline_sd = reference.sd if reference else None
        reliability = reference.reliability if reference else None
        change = float(latest_score) - float(first_score) if n >= 2 else None
        verdict = reliable_change(change=change, baseline_sd=baseline_sd, reliability=reliability)
        rows.append(
            Progression(
                enrolment_id=enrolment_id,
                instrument_id=instrument_id,
                dimension_code=dimension_code,
                perspective=perspective,
                n_readings=n,
                first_session_id=first_session,
                first_score=float(first_score),
                latest_session_id=latest_session,
                latest_score=float(latest_score),
                latest_on=_as_date(latest_at),
                change=change,
                baseline_sd=baseline_sd,
                reliability=reliability,
                rci=verdict.rci,
                classification=verdict.classification,
                meets_mid=verdict.meets_mid,
                algorithm_version=ALGORITHM_VERSION,
            )
        )
    Progression.objects.filter(enrolment_id__gte=first_enrolment_id, enrolment_id__lte=last_enrolment_id).delete()
    Progression.objects.bulk_create(rows)
    return len(rows)


def _as_date(value: object) -> date:
    """SQLite returns timestamps as text, PostgreSQL as datetimes; both become a local date."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value, UTC)
        return timezone.localdate(value)
    if isinstance(value, date):
        return value
    raise TypeError(f"Inget datum: {value!r}")


# --- Insats summaries -------------------------------------------------------------------------------


@transaction.atomic
def insats_summaries_update(*, insats_ids: list[int]) -> int:
    """Recompute the summary rows of these insatser from their progression rows, in one statement each."""
    if not insats_ids:
        return 0
    placeholders = ",".join(["%s"] * len(insats_ids))
    year = (
        "CAST(strftime('%%Y', p.latest_on) AS INTEGER)"
        if connection.vendor == "sqlite"
        else ("CAST(EXTRACT(YEAR FROM p.latest_on) AS INTEGER)")
    )
    sql = f"""
        SELECT e.insats_id, {year} AS year, p.instrument_id, p.dimension_code, p.perspective,
               COUNT(*), SUM(p.first_score), SUM(p.latest_score), SUM(p.change), SUM(p.change * p.change),
               SUM(CASE WHEN p.classification = 'improved' THEN 1 ELSE 0 END),
               SUM(CASE WHEN p.classification = 'unchanged' THEN 1 ELSE 0 END),
               SUM(CASE WHEN p.classification = 'worse' THEN 1 ELSE 0 END),
               SUM(CASE WHEN p.meets_mid THEN 1 ELSE 0 END)
        FROM progression_progression p
        JOIN participants_enrolment e ON e.id = p.enrolment_id
        WHERE e.insats_id IN ({placeholders}) AND p.n_readings >= 2
        GROUP BY e.insats_id, year, p.instrument_id, p.dimension_code, p.perspective
    """  # noqa: S608 - only placeholders are interpolated
    with connection.cursor() as cursor:
        cursor.execute(sql, insats_ids)
        rows = cursor.fetchall()
    summaries = [
        InsatsSummary(
            insats_id=insats_id,
            year=year,
            instrument_id=instrument_id,
            dimension_code=dimension_code,
            perspective=perspective,
            n=n,
            sum_first=sum_first,
            sum_latest=sum_latest,
            sum_change=sum_change,
            sum_change_sq=sum_change_sq,
            n_improved=improved,
            n_unchanged=unchanged,
            n_worse=worse,
            n_mid=mid,
            algorithm_version=ALGORITHM_VERSION,
        )
        for (
            insats_id,
            year,
            instrument_id,
            dimension_code,
            perspective,
            n,
            sum_first,
            sum_latest,
            sum_change,
            sum_change_sq,
            improved,
            unchanged,
            worse,
            mid,
        ) in rows
    ]
    InsatsSummary.objects.filter(insats_id__in=insats_ids).delete()
    InsatsSummary.objects.bulk_create(summaries)
    return len(summaries)


# --- The incremental path, the sweep and the rebuild ---------------------------------------------


def session_process(*, session_id: int) -> None:
    """After a reading is submitted: its scores, its enrolment's progression, its insats' summaries."""
    session = AssessmentSession.objects.select_related("enrolment").filter(pk=session_id).first()
    if session is None:
        return
    sessions_score(session_ids=[session.pk])
    progressions_update(first_enrolment_id=session.enrolment_id, last_enrolment_id=session.enrolment_id)
    insats_summaries_update(insats_ids=[session.enrolment.insats_id])


SCORED_STATUSES = (SessionStatus.SUBMITTED, SessionStatus.SUPERSEDED)


def unprocessed_sessions() -> QuerySet[AssessmentSession]:
    """Readings with no scores at the current algorithm version (e.g. Redis was down at submit).

    Superseded readings are scored too, so that the incremental path and a rebuild store the same rows."""
    return AssessmentSession.objects.filter(status__in=SCORED_STATUSES).exclude(
        scoring__algorithm_version=ALGORITHM_VERSION
    )


def progression_sweep(*, limit: int = 2000) -> int:
    """Process what the incremental path missed; returns how many readings were processed."""
    pending = list(
        unprocessed_sessions().order_by("id").values_list("id", "enrolment_id", "enrolment__insats_id")[:limit]
    )
    if not pending:
        return 0
    sessions_score(session_ids=[row[0] for row in pending])
    for enrolment_id in sorted({row[1] for row in pending}):
        progressions_update(first_enrolment_id=enrolment_id, last_enrolment_id=enrolment_id)
    insats_summaries_update(insats_ids=sorted({row[2] for row in pending}))
    return len(pending)
