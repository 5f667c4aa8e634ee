"""The interval functions of the stegförflyttning report at their edges (progression/reports/statistics.py);
their values on real data are held to scipy in test_scores_reference.py."""

import math

import numpy as np
import pytest
from scipy import stats

from progression.reports.statistics import (
    SqliteMedian,
    d_z_interval,
    d_z_value,
    mean_interval,
    reliable_change_threshold,
    stable_round,
    wilson_interval,
)


def test_wilson_stays_inside_0_and_100_and_is_never_a_point_at_the_edges():
    for whole in (1, 5, 30, 500):
        none, every = wilson_interval(0, whole), wilson_interval(whole, whole)
        assert none.low == pytest.approx(0, abs=1e-12) and 0 < none.high < 100
        assert every.high == pytest.approx(100) and 0 < every.low < 100
        for part in range(0, whole + 1, max(1, whole // 7)):
            interval = stats.binomtest(part, whole).proportion_ci(0.95, method="wilson")
            assert wilson_interval(part, whole).as_json() == pytest.approx([100 * interval.low, 100 * interval.high])
    assert wilson_interval(3, 0) is None and wilson_interval(None, 10) is None


@pytest.mark.parametrize(("d_z", "n"), [(0.0, 3), (0.4, 12), (-0.9, 40), (2.5, 6), (4.0, 200), (-6.0, 8)])
def test_the_d_z_interval_puts_the_observed_t_at_the_two_tails(d_z, n):
    interval = d_z_interval(d_z, n)
    assert interval is not None and interval.low < d_z < interval.high
    observed = d_z * math.sqrt(n)
    assert stats.nct.cdf(observed, n - 1, interval.low * math.sqrt(n)) == pytest.approx(0.975, abs=1e-6)
    assert stats.nct.cdf(observed, n - 1, interval.high * math.sqrt(n)) == pytest.approx(0.025, abs=1e-6)


def test_no_interval_without_the_data_for_one():
    assert d_z_interval(None, 30) is None and d_z_interval(0.5, 2) is None
    assert mean_interval(1, 5.0, 25.0) is None
    assert d_z_value(4, 8.0, 16.0) is None  # four equal changes: no spread, no d_z
    assert reliable_change_threshold(None) is None


def test_mean_interval_and_d_z_from_sums_equal_numpy():
    changes = np.array([12.5, -3.0, 7.25, 20.0, 0.0, 5.5])
    n, total, squares = len(changes), float(changes.sum()), float((changes**2).sum())
    low, high = stats.ttest_1samp(changes, 0).confidence_interval(0.95)
    assert mean_interval(n, total, squares).as_json() == pytest.approx([low, high])
    assert d_z_value(n, total, squares) == pytest.approx(changes.mean() / changes.std(ddof=1))
    assert reliable_change_threshold(36.0 * (1 - 0.8)) == pytest.approx(1.96 * math.sqrt(2) * 6 * math.sqrt(0.2))


def test_the_embedded_databases_median_is_the_middle_value_or_the_mean_of_the_two():
    def median(values):  # noqa: ANN001, ANN202
        aggregate = SqliteMedian()
        for value in values:
            aggregate.step(value)
        return aggregate.finalize()

    assert median([]) is None and median([None]) is None
    assert median([3.0, None, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5


def test_a_figure_rounds_the_same_way_whatever_order_its_sum_was_added_in():
    """Sixteen changes adding up to exactly 250 in one order gave 250.00000000000003 in another (the
    reviewer's sco 2025 line): the mean of 15.625 must not be 15.63 by one plan and 15.62 by the other."""
    changes = [100 / 9 * k for k in (1, 2, 4, 5, 7, 8, 10, 11)] + [-100 / 9 * k for k in (1, 2, 4, 5)]
    changes += [250 - math.fsum(changes)] + [0.0, 0.0, 0.0]
    orders = [changes, list(reversed(changes)), sorted(changes), sorted(changes, key=abs)]
    sums = {sum(order) for order in orders}
    assert len(sums) > 1  # the orders do give different floating-point sums

    assert {stable_round(total / 16, 2) for total in sums} == {15.62}
    assert str(stable_round(-1e-15, 1)) == "0.0"  # never "-0.0"
    assert stable_round(-0.04, 1) == 0.0
    assert stable_round(2.345678, 3) == 2.346
