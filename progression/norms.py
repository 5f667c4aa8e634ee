"""The norms reliable change rests on, as versioned norm sets (docs/progression.md, "Normerna").

Per instrument version, dimension and perspective, from the first scored reading of every enrolment
(the baselines): n, their dates, mean and sample SD (SD₀), Cronbach's α of the listwise complete
baselines with its 95 % CI (Feldt), and the reliability used with its source:

1. a configured test–retest value (ReliabilitySetting, with its citation): what Jacobson & Truax
   assume, and the only source for a single-item dimension;
2. else α, if at least minimum_n complete baselines give α ≥ RELIABILITY_FLOOR;
3. else none: the key classifies nothing ("för få för att bedöma"), rather than borrow a number.

A norm is usable with at least the set's minimum_n baselines, SD₀ > 0 and a reliability below 1.
Demo participants' baselines are left out as soon as any real participant has one.

A new norm set is an explicit act with a reason (norm_set_create: the norms page, or
`manage.py rebuild_progression --recompute-reference --reason …`). The system creates a set itself
in two cases only, both logged with their reason and neither changing a usable norm: the first set,
when progression is computed the first time, and a completion (norms_complete, nightly and after a
rebuild) that adds or updates the norms of keys that have none usable yet, copying the others.
"""

import math
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Count, Max, Q
from scipy.stats import f  # imported with the module: ~1 s the first time, not in a worker's first rebuild

from progression.models import Norm, NormSet, Progression, ReliabilitySetting, ReliabilitySource
from surveys.models import InstrumentVersion, Item
from surveys.selectors import area_labels

RELIABILITY_FLOOR = 0.50  # Cronbach's α below this is not used as a reliability
CONFIDENCE = 0.95
FIRST_SET_REASON = "Första normerna: beräknade när stegförflyttning räknades första gången."

# The same rescaling as the scores (progression.scoring.RESCALED_SQL), repeated here as text so
# that this module does not import the engine that imports it.
RESCALED_SQL = """
    (CASE WHEN i.reverse_coded THEN sc.min_value + sc.max_value - a.value ELSE a.value END
     - sc.min_value) * 100.0 / (sc.max_value - sc.min_value)
"""

# The first scored reading per progression key, with its instrument version, date and whether it is
# demo data, derived once into a temporary table (with planner statistics) the norms are computed from.
BASELINES_TABLE_SQL = """
    CREATE TEMPORARY TABLE stegvis_baselines AS
    SELECT enrolment_id, dimension_code, perspective, session_id, version_id, occurred_on, score, is_demo
    FROM (
        SELECT s.enrolment_id, v.instrument_id, d.code AS dimension_code, s.perspective, s.id AS session_id,
               s.version_id, {occurred_on} AS occurred_on, ds.score, p.is_demo,
               ROW_NUMBER() OVER (PARTITION BY s.enrolment_id, v.instrument_id, d.code, s.perspective
                                  ORDER BY s.occurred_at, s.id) AS position
        FROM progression_dimensionscore ds
        JOIN surveys_assessmentsession s ON s.id = ds.session_id
        JOIN surveys_instrumentversion v ON v.id = s.version_id
        JOIN surveys_dimension d ON d.id = ds.dimension_id
        JOIN participants_enrolment e ON e.id = s.enrolment_id
        JOIN participants_participant p ON p.id = e.participant_id
        WHERE ds.score IS NOT NULL AND s.status = 'submitted' AND NOT s.consent_withdrawn
    ) readings
    WHERE position = 1
"""

BASELINE_SUMS_SQL = """
    SELECT version_id, dimension_code, perspective, COUNT(*), SUM(score), SUM(score * score),
           MIN(occurred_on), MAX(occurred_on)
    FROM stegvis_baselines
    GROUP BY version_id, dimension_code, perspective
"""

# Item sums of the listwise complete baselines (every ladder item of the dimension asked in the
# perspective answered), and of their totals, for every key at once.
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
        SELECT b.version_id, b.dimension_code, b.perspective, b.session_id, i.code AS item_code,
               {RESCALED_SQL} AS x
        FROM stegvis_baselines b
        JOIN surveys_item i ON i.version_id = b.version_id
        JOIN surveys_dimension d ON d.id = i.dimension_id AND d.code = b.dimension_code
        JOIN surveys_scale sc ON sc.id = i.scale_id AND sc.kind = 'ladder'
        JOIN surveys_answer a ON a.session_id = b.session_id AND a.item_id = i.id AND a.value IS NOT NULL
        WHERE i.applies_to = 'both' OR i.applies_to = b.perspective
    ),
    complete AS (
        SELECT t.version_id, t.dimension_code, t.perspective, t.session_id
        FROM turned t
        JOIN asked k ON k.version_id = t.version_id AND k.dimension_code = t.dimension_code
                    AND k.perspective = t.perspective
        GROUP BY t.version_id, t.dimension_code, t.perspective, t.session_id, k.items
        HAVING COUNT(*) = k.items
    ),
    kept AS (
        SELECT t.* FROM turned t
        JOIN complete c ON c.session_id = t.session_id AND c.version_id = t.version_id
                       AND c.dimension_code = t.dimension_code AND c.perspective = t.perspective
    )
    SELECT version_id, dimension_code, perspective, 'item', COUNT(*), SUM(x), SUM(x * x)
    FROM kept GROUP BY version_id, dimension_code, perspective, item_code
    UNION ALL
    SELECT version_id, dimension_code, perspective, 'total', COUNT(*), SUM(total), SUM(total * total)
    FROM (SELECT version_id, dimension_code, perspective, session_id, SUM(x) AS total
          FROM kept GROUP BY version_id, dimension_code, perspective, session_id) totals
    GROUP BY version_id, dimension_code, perspective
"""  # noqa: S608 - module constants only

# Every table the norms read, however small: a plan made without statistics for the few rows of the
# item, scale and dimension tables joined to millions of answers is a nested loop (docs/performance.md).
NORM_SOURCE_TABLES = (
    "surveys_assessmentsession",
    "surveys_answer",
    "surveys_instrumentversion",
    "surveys_dimension",
    "surveys_item",
    "surveys_scale",
    "participants_enrolment",
    "participants_participant",
    "progression_dimensionscore",
)
REBUILD_WORK_MEM = "256MB"  # PostgreSQL work_mem for the norms' one-pass sort and hash

Key = tuple[int, str, str]  # instrument version id, dimension code, perspective


@dataclass
class AlphaSums:
    """Count, sum and sum of squares per item, and of the per-reading totals."""

    items: list[tuple[int, float, float]]
    total: tuple[int, float, float] | None = None


def variance(count: int, total: float, total_sq: float) -> float:
    """Sample variance from a count, a sum and a sum of squares."""
    return max(total_sq - total * total / count, 0.0) / (count - 1)


def cronbach_alpha(sums: AlphaSums) -> float | None:
    """α = k/(k−1) · (1 − Σ var(item) / var(total)), sample variances; None below 2 items or 3 readings."""
    k = len(sums.items)
    if k < 2 or sums.total is None or sums.total[0] < 3:
        return None
    total_var = variance(*sums.total)
    if total_var <= 0:
        return None
    return k / (k - 1) * (1 - sum(variance(*item) for item in sums.items) / total_var)


def feldt_interval(alpha: float, n: int, k: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Feldt's confidence interval for Cronbach's α of n readings of k items:
    1 − (1 − α)·F(1 − γ/2; n − 1, (n − 1)(k − 1)) … 1 − (1 − α)·F(γ/2; …), γ = 1 − confidence."""
    tail = (1 - confidence) / 2
    first, second = n - 1, (n - 1) * (k - 1)
    return 1 - (1 - alpha) * f.ppf(1 - tail, first, second), 1 - (1 - alpha) * f.ppf(tail, first, second)


def fmt(value: float, digits: int = 2) -> str:
    """A number as Swedish text (decimal comma)."""
    return f"{value:.{digits}f}".replace(".", ",").replace("-", "−")


def _rating_items_asked() -> dict[Key, int]:
    """Ladder items of each rating dimension each perspective is asked, per instrument version."""
    asked_items: dict[Key, int] = {}
    for perspective in ("self", "mentor", "agreed"):
        asked = ["both"] if perspective == "agreed" else ["both", perspective]
        for row in (
            Item.objects.filter(dimension__is_rating=True, scale__kind="ladder", applies_to__in=asked)
            .values("version_id", "dimension__code")
            .annotate(n=Count("id"))
        ):
            asked_items[(row["version_id"], row["dimension__code"], perspective)] = row["n"]
    return asked_items


def tables_analyze(tables: tuple[str, ...]) -> None:
    """Refresh PostgreSQL's planner statistics of these tables (autovacuum gets to new or small
    tables only later, and a plan made for an empty table is slow on a full one). ANALYZE reads a
    sample, so this takes about a second even for the largest tables."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {table}")


@dataclass
class Computed:
    """The norms the data give now, before they are stored in a set."""

    norms: dict[Key, Norm]
    demo_excluded: bool


def norms_compute(*, minimum_n: int) -> Computed:
    """The norm of every key with baselines, from the data as they are now (unsaved Norm rows)."""
    tables_analyze(NORM_SOURCE_TABLES)
    occurred_on, date_params = connection.ops.datetime_cast_date_sql("s.occurred_at", (), settings.TIME_ZONE)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SET LOCAL work_mem = '{REBUILD_WORK_MEM}'")
        cursor.execute("DROP TABLE IF EXISTS stegvis_baselines")
        cursor.execute(BASELINES_TABLE_SQL.format(occurred_on=occurred_on), date_params)
        cursor.execute("SELECT COUNT(*) FROM stegvis_baselines WHERE NOT is_demo")
        demo_excluded = cursor.fetchone()[0] > 0
        if demo_excluded:
            cursor.execute("DELETE FROM stegvis_baselines WHERE is_demo")
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE stegvis_baselines")  # temporary tables are never analysed automatically
        cursor.execute(BASELINE_SUMS_SQL)
        baselines = cursor.fetchall()
        cursor.execute(ALPHA_SUMS_SQL)
        alpha_sums: dict[Key, AlphaSums] = {}
        for version_id, dimension_code, perspective, kind, count, total, total_sq in cursor.fetchall():
            sums = alpha_sums.setdefault((version_id, dimension_code, perspective), AlphaSums(items=[]))
            row = (int(count), float(total), float(total_sq))
            if kind == "item":
                sums.items.append(row)
            else:
                sums.total = row
        cursor.execute("DROP TABLE stegvis_baselines")
    asked_items = _rating_items_asked()
    configured = {
        (setting.instrument_id, setting.dimension_code): setting for setting in ReliabilitySetting.objects.all()
    }
    instrument_of = dict(InstrumentVersion.objects.values_list("id", "instrument_id"))
    norms = {}
    for version_id, dimension_code, perspective, n, total, total_sq, first_on, last_on in baselines:
        key = (version_id, dimension_code, perspective)
        n = int(n)
        norm = Norm(
            version_id=version_id,
            dimension_code=dimension_code,
            perspective=perspective,
            n=n,
            baseline_from=_as_date(first_on),
            baseline_to=_as_date(last_on),
            mean=float(total) / n,
            sd=math.sqrt(variance(n, float(total), float(total_sq))) if n > 1 else None,
        )
        items = asked_items.get(key, 0)
        if items >= 2 and key in alpha_sums:
            sums = alpha_sums[key]
            norm.alpha = cronbach_alpha(sums)
            norm.alpha_n = sums.total[0] if sums.total else 0
            if norm.alpha is not None:
                norm.alpha_low, norm.alpha_high = feldt_interval(norm.alpha, norm.alpha_n, items)
        _choose_reliability(norm, items, configured.get((instrument_of[version_id], dimension_code)), minimum_n)
        norm.usable = bool(n >= minimum_n and norm.sd and norm.reliability is not None and norm.reliability < 1)
        norms[key] = norm
    return Computed(norms, demo_excluded)


def _as_date(value: str | date) -> date:
    """SQLite returns the cast date as text."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def _choose_reliability(norm: Norm, items: int, setting: ReliabilitySetting | None, minimum_n: int) -> None:
    """The reliability a norm uses, with its source in words (see the module's docstring)."""
    if setting is not None:
        norm.reliability, norm.reliability_source = setting.test_retest, ReliabilitySource.TEST_RETEST
        norm.reliability_note = f"Test–retest {fmt(setting.test_retest)} ({setting.source})"
        return
    norm.reliability, norm.reliability_source = None, ReliabilitySource.NONE
    if items < 2:
        norm.reliability_note = "En fråga: α finns inte. Ange en test–retest-reliabilitet med källa."
    elif norm.alpha is None:
        norm.reliability_note = "α kunde inte beräknas (för få fullständiga baslinjer eller ingen spridning)."
    elif norm.alpha_n < minimum_n:
        norm.reliability_note = (
            f"α = {fmt(norm.alpha)} bygger på {norm.alpha_n} fullständiga baslinjer, färre än {minimum_n}."
        )
    elif norm.alpha < RELIABILITY_FLOOR:
        norm.reliability_note = f"α = {fmt(norm.alpha)} ligger under golvet {fmt(RELIABILITY_FLOOR)}."
    else:
        if norm.alpha_low is None or norm.alpha_high is None:  # norms_compute sets them with α
            raise ValueError("Cronbach's α without its Feldt interval")
        norm.reliability, norm.reliability_source = norm.alpha, ReliabilitySource.CRONBACH
        norm.reliability_note = (
            f"Cronbachs α = {fmt(norm.alpha)} (n = {norm.alpha_n}, 95 % KI "
            f"{fmt(norm.alpha_low)}–{fmt(norm.alpha_high)}, Feldt)"
        )


def current_norm_set() -> NormSet | None:
    return NormSet.objects.order_by("-version").first()


def _store(norms: list[Norm], *, by: User | None, reason: str, minimum_n: int, demo_excluded: bool) -> NormSet:
    from progression.scoring import ALGORITHM_VERSION

    # Two sets made at once would both take the next version: the unique version refuses the second.
    latest = NormSet.objects.aggregate(latest=Max("version"))["latest"] or 0
    norm_set = NormSet.objects.create(
        version=latest + 1,
        created_by=by,
        reason=reason,
        minimum_n=minimum_n,
        demo_excluded=demo_excluded,
        algorithm_version=ALGORITHM_VERSION,
    )
    for norm in norms:
        norm.pk, norm.norm_set = None, norm_set
    Norm.objects.bulk_create(norms)
    return norm_set


@transaction.atomic
def norm_set_create(*, by: User | None, reason: str, minimum_n: int | None = None) -> NormSet:
    """A new norm set from the data as they are now: the explicit act (the caller reclassifies).
    minimum_n defaults to settings.NORM_MINIMUM_N (30)."""
    if not reason.strip():
        raise ValueError("Ange skälet till nya normer.")
    minimum_n = minimum_n or settings.NORM_MINIMUM_N
    computed = norms_compute(minimum_n=minimum_n)
    return _store(
        list(computed.norms.values()),
        by=by,
        reason=reason.strip(),
        minimum_n=minimum_n,
        demo_excluded=computed.demo_excluded,
    )


def norm_set_for_progression() -> NormSet:
    """The norm set progression is computed with; the first one is created when there is none."""
    current = current_norm_set()
    if current is not None:
        return current
    with transaction.atomic():
        if (current := NormSet.objects.select_for_update().order_by("-version").first()) is not None:
            return current
        return norm_set_create(by=None, reason=FIRST_SET_REASON)


@transaction.atomic
def norms_complete() -> tuple[NormSet | None, list[Key]]:
    """Replace every norm when the set in force rests on demo data and real baselines exist now. Else
    add the norms of keys the current set has none for (a perspective, instrument version or
    dimension that appeared after it was made), and replace the unusable norms whose baselines have
    changed (so that their n says how many there are now, and they are used once there are enough,
    with a reliability), copying every usable norm unchanged, as a new logged set. Unusable norms
    classify nothing, so replacing them moves no one's classification but the keys' own. Returns the
    set (None if nothing changed) and the keys whose norms changed, whose progression rows the
    caller reclassifies."""
    current = current_norm_set()
    if current is None:
        return norm_set_for_progression(), []
    computed = norms_compute(minimum_n=current.minimum_n)
    kept = {(n.version_id, n.dimension_code, n.perspective): n for n in current.norms.all()}
    if computed.demo_excluded and not current.demo_excluded:
        # Real baselines have arrived while the set in force rests on demo data: every norm is
        # replaced by one without it (a förbund's own data never gets demo norms).
        norm_set = _store(
            list(computed.norms.values()),
            by=None,
            reason="Demodata utesluten: det finns nu riktiga mätningar, och normerna räknas bara på dem.",
            minimum_n=current.minimum_n,
            demo_excluded=True,
        )
        return norm_set, sorted(set(kept) | set(computed.norms))
    changed = [
        key
        for key, norm in computed.norms.items()
        if key not in kept or (not kept[key].usable and (norm.usable or norm.n != kept[key].n))
    ]
    if not changed:
        return None, []
    newly_usable = sum(computed.norms[key].usable for key in changed)
    areas = area_labels()
    whose = {"self": "deltagaren", "mentor": "handledaren", "agreed": "gemensam"}
    names = ", ".join(
        sorted(
            {f"{areas.get(code, code)} ({whose.get(perspective, perspective)})" for _v, code, perspective in changed}
        )
    )
    norms = [norm for key, norm in kept.items() if key not in changed] + [computed.norms[key] for key in changed]
    norm_set = _store(
        norms,
        by=None,
        reason=(
            f"Komplettering: normer för {len(changed)} nycklar utan användbar norm ({names}); "
            f"{newly_usable} av dem används nu. Användbara normer kopierade oförändrade."
        )[:500],
        minimum_n=current.minimum_n,
        demo_excluded=computed.demo_excluded,
    )
    return norm_set, changed


def enrolments_with_keys(keys: list[Key]) -> list[int]:
    """The enrolments with a progression row whose first reading's version, dimension and
    perspective is one of these keys (their rows use those keys' norms): one query."""
    if not keys:
        return []
    rows = Q()
    for version_id, dimension_code, perspective in keys:
        rows |= Q(first_version_id=version_id, dimension_code=dimension_code, perspective=perspective)
    return sorted(set(Progression.objects.filter(rows).values_list("enrolment_id", flat=True)))
