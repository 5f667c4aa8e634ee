"""The uncertainty of the stegförflyttning report's group figures: 95 % intervals for a mean, for
d_z and for a share, from the sums the report reads in SQL. docs/progression.md gives each formula
with its source, so that an evaluator can reproduce every interval.

Every function returns None where the figure does not exist (too few people, no spread) rather
than a number that would look like one."""

import math
from dataclasses import dataclass

from scipy import optimize, stats

LEVEL = 0.95
Z = float(stats.norm.ppf(1 - (1 - LEVEL) / 2))  # 1.959963…

# A sum of floating-point scores depends by ~1e-13 on the order its rows are added in, which the
# database's plan decides (parallel workers, another join order): a mean of exactly 15.625 was
# 15.63 by one plan and 15.62 by another, and a zero was shown as "-0.0". Rounded to this many
# decimals first, a figure rounds the same way whatever the order.
ORDER_NOISE_DIGITS = 9


def stable_round(value: float, digits: int) -> float:
    """round(value, digits), the same for every order of the sums behind it, and never -0.0."""
    return round(round(value, ORDER_NOISE_DIGITS), digits) + 0.0


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    def rounded(self, digits: int) -> "Interval":
        return Interval(stable_round(self.low, digits), stable_round(self.high, digits))

    def as_json(self) -> list[float]:
        return [self.low, self.high]


def sample_sd(n: int, total: float, total_sq: float) -> float | None:
    """The sample SD (n − 1) of n values from their sum and sum of squares; None below two values."""
    if n < 2:
        return None
    return math.sqrt(max(0.0, (total_sq - total * total / n) / (n - 1)))


def mean_interval(n: int, total: float, total_sq: float) -> Interval | None:
    """mean ± t(n − 1, 0.975) · SD / √n."""
    sd = sample_sd(n, total, total_sq)
    if sd is None:
        return None
    half = float(stats.t.ppf(1 - (1 - LEVEL) / 2, n - 1)) * sd / math.sqrt(n)
    mean = total / n
    return Interval(mean - half, mean + half)


def d_z_value(n: int, total: float, total_sq: float) -> float | None:
    """d_z = mean change ÷ SD of the changes (Lakens 2013); None without spread."""
    sd = sample_sd(n, total, total_sq)
    if not sd or sd < 1e-9:
        return None
    return (total / n) / sd


def d_z_interval(d_z: float | None, n: int) -> Interval | None:
    """The exact interval of d_z from the noncentral t distribution: t = d_z·√n has n − 1 degrees of
    freedom and noncentrality δ = d_z·√n; the bounds are the δ for which the observed t lies at the
    97.5th and the 2.5th percentile, divided by √n."""
    if d_z is None or n < 3:
        return None
    observed, df = d_z * math.sqrt(n), n - 1

    def bound(probability: float) -> float | None:
        """δ with nct.cdf(observed; df, δ) = probability. The cdf falls as δ grows, so the bound for
        a high probability lies below the observed t: walk out from it in doubling steps until the
        cdf passes the probability, then solve between the last two points (the cdf's far tails are
        not computable, so the walk starts close)."""

        def excess(delta: float) -> float:
            return float(stats.nct.cdf(observed, df, delta)) - probability

        direction = -1.0 if probability > 0.5 else 1.0
        # Start at half the approximate interval's half-width (Lakens 2013, in units of δ), so that
        # the first step or two bracket the bound.
        near, step = observed, 0.5 * Z * math.sqrt(1 + d_z * d_z / 2)
        while step <= 64 * (1 + abs(observed)):
            far = observed + direction * step
            value = excess(far)
            if math.isnan(value):
                return None
            if (value >= 0) == (direction < 0):
                return optimize.brentq(excess, min(near, far), max(near, far), xtol=1e-10)
            near, step = far, step * 2
        return None

    low, high = bound(1 - (1 - LEVEL) / 2), bound((1 - LEVEL) / 2)
    if low is None or high is None:
        return None
    return Interval(low / math.sqrt(n), high / math.sqrt(n))


def wilson_interval(part: int | None, whole: int | None) -> Interval | None:
    """Wilson's score interval for part of whole, in percent (Wilson 1927; good at 0 %, 100 % and
    small n, where the usual p ± 1.96·√(p(1 − p)/n) is not)."""
    if part is None or not whole:
        return None
    p = min(part, whole) / whole
    denominator = 1 + Z * Z / whole
    centre = (p + Z * Z / (2 * whole)) / denominator
    half = Z * math.sqrt(p * (1 - p) / whole + Z * Z / (4 * whole * whole)) / denominator
    return Interval(100 * max(0.0, centre - half), 100 * min(1.0, centre + half))


def reliable_change_threshold(error_variance: float | None) -> float | None:
    """The smallest change in points classified as reliable: the engine's RCI cut (1.96) · S_diff,
    S_diff = √2 · SEM and SEM² = SD₀² · (1 − r) the error variance (Jacobson & Truax 1991). The
    report and the Normer page both print this, so it is the classification's own rule."""
    from progression.scoring import RCI_THRESHOLD

    if error_variance is None:
        return None
    return RCI_THRESHOLD * math.sqrt(2 * max(0.0, error_variance))


# --- The embedded database ---------------------------------------------------------------------------


class SqliteMedian:
    """MEDIAN for the embedded SQLite database (sqlite3.Connection.create_aggregate); PostgreSQL
    has percentile_cont (definitions.PROGRESSION_FIGURES_SQL)."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: float | None) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        if not self.values:
            return None
        ordered = sorted(self.values)
        middle = len(ordered) // 2
        return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
