"""Repeated measurements: their spread, whether a change is real (the rank test, the ratio's interval),
how the bytecode count combines with CPU time, and single-run comparisons."""

from __future__ import annotations

import math
import random

import pytest

from orps_engine.config import Settings
from orps_engine.measure import (
    ALPHA,
    EXACT_ARRANGEMENTS,
    MIN_CHANGE,
    NOISE_FLOOR_MS,
    NOISE_REL,
    CountUse,
    Spread,
    cheaper,
    compare,
    count_change,
    rank_test,
    ratio_interval,
    smallest_p,
)


def test_spread_median_range_and_mad_noise() -> None:
    spread = Spread.of([1.0, 2.0, 3.0, 4.0, 100.0])
    assert (spread.median, spread.low, spread.high) == (3.0, 1.0, 100.0)
    # deviations 2, 1, 0, 1, 97: MAD 1; the outlier does not inflate it
    assert spread.rel_noise == pytest.approx(1.4826 * 1.0 / 3.0)


def test_spread_of_an_even_count_and_of_identical_samples() -> None:
    assert Spread.of([4.0, 1.0, 3.0, 2.0]).median == 2.5
    same = Spread.of([7.0] * 5)
    assert (same.median, same.low, same.high, same.rel_noise) == (7.0, 7.0, 7.0, 0.0)


def test_spread_of_zero_median_has_no_relative_noise() -> None:
    assert Spread.of([0.0, 0.0, 1.0]).rel_noise == 0.0


def test_spread_of_nothing_is_refused() -> None:
    with pytest.raises(ValueError):
        Spread.of([])


def test_separated_sets_with_a_real_change_are_significant() -> None:
    change = compare([10.0, 10.2, 10.1, 10.3, 9.9], [5.0, 5.1, 4.9, 5.2, 5.0])
    assert change.significant
    assert change.ratio == pytest.approx(10.1 / 5.0)  # before / after: 2x means half the cost
    assert change.before.median == 10.1 and change.after.median == 5.0


def test_a_real_regression_is_significant_with_a_ratio_below_one() -> None:
    change = compare([5.0, 5.1, 4.9], [10.0, 10.1, 9.9])
    assert change.significant
    assert change.ratio == pytest.approx(0.5)


def test_overlapping_sets_are_not_significant_even_with_distinct_medians() -> None:
    change = compare([10.0, 11.0, 12.0, 30.0], [6.0, 7.0, 8.0, 10.5])
    assert change.ratio is not None and change.ratio > 1.5
    assert not change.significant


def test_separated_sets_within_min_change_are_not_significant() -> None:
    before = [100.0, 100.1, 100.2]
    after = [98.5, 98.6, 98.7]  # separated, but only ~1.5% apart
    change = compare(before, after)
    assert change.ratio is not None and abs(change.ratio - 1) < MIN_CHANGE
    assert not change.significant
    # the same separation with a change just over MIN_CHANGE is significant
    assert compare(before, [96.0, 96.1, 96.2]).significant


def test_identical_sets_are_not_significant() -> None:
    change = compare([3.0, 3.0, 3.0], [3.0, 3.0, 3.0])
    assert change.ratio == 1.0 and not change.significant


def test_zero_cost_after_has_no_ratio_and_no_significance() -> None:
    change = compare([5.0, 5.0], [0.0, 0.0])
    assert change.ratio is None
    assert not change.significant


def test_cheaper_beyond_relative_noise() -> None:
    assert NOISE_REL == 0.10 and NOISE_FLOOR_MS == 1.0
    assert cheaper(85.0, 100.0)
    assert not cheaper(95.0, 100.0)  # within 10%: equal
    assert not cheaper(90.0, 100.0)  # exactly 10%: not beyond the noise
    assert not cheaper(100.0, 100.0)
    assert not cheaper(120.0, 100.0)  # dearer is never cheaper


def test_cheaper_beyond_the_absolute_floor() -> None:
    assert not cheaper(0.5, 1.2)  # 58% cheaper, but only 0.7 ms apart
    assert not cheaper(2.0, 3.0)  # exactly the floor apart
    assert cheaper(2.0, 3.5)
    assert cheaper(1_000_000.0, 2_000_000.0)  # instruction counts: the floor is negligible


# -- the rank test ---------------------------------------------------------------------------------
def test_rank_test_of_separated_sets_is_its_smallest_p() -> None:
    # 5 against 5 with no overlap: 2 of the 252 arrangements are as extreme (either way round)
    assert rank_test([10.0, 10.2, 10.1, 10.3, 9.9], [5.0, 5.1, 4.9, 5.2, 5.0]) == pytest.approx(2 / 252)
    assert smallest_p(5, 5) == pytest.approx(2 / 252) and smallest_p(3, 3) == pytest.approx(0.1)


def test_rank_test_counts_the_arrangements_exactly() -> None:
    # x = ranks 1, 2, 4 against 3, 5, 6: U = 1; P(U <= 1) = 2/20 each tail
    assert rank_test([1.0, 2.0, 4.0], [3.0, 5.0, 6.0]) == pytest.approx(4 / 20)
    assert rank_test([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) == 1.0


def test_rank_test_with_ties_uses_midranks() -> None:
    assert rank_test([3.0] * 4, [3.0] * 4) == 1.0
    # one shared value: still far from significant, and never above 1
    assert 0.05 < rank_test([1.0, 2.0, 2.0], [2.0, 3.0, 4.0]) <= 1.0


def test_rank_test_on_many_runs_uses_the_normal_approximation() -> None:
    low, high = [float(i) for i in range(20)], [float(i) + 100 for i in range(20)]
    assert math.comb(40, 20) > EXACT_ARRANGEMENTS
    assert rank_test(low, high) < 1e-6
    assert rank_test(low, list(reversed(low))) == pytest.approx(1.0)


def test_more_runs_let_a_real_change_through_an_overlap() -> None:
    # 10 a side, one outlier of the faster side among the slower: non-overlap would refuse it
    before = [20.0, 20.5, 21.0, 19.8, 20.2, 20.9, 21.3, 20.1, 20.4, 20.6]
    after = [10.0, 10.2, 9.9, 10.4, 10.1, 9.8, 10.3, 10.0, 10.2, 21.5]
    change = compare(before, after)
    assert change.after.high > change.before.low  # the sets overlap
    assert change.p_value < ALPHA and change.significant


def test_a_vs_a_synthetic_samples_are_never_significant() -> None:
    rng = random.Random(7)
    calls = [compare([rng.gauss(100, 8) for _ in range(5)], [rng.gauss(100, 8) for _ in range(5)]).significant
             for _ in range(200)]
    assert sum(calls) <= 4  # p < 0.01 and over 3%: at most ~0.8% by chance, far fewer past the 3%


def test_a_real_2x_change_is_significant_with_the_default_repeats() -> None:
    rng = random.Random(11)
    repeats = Settings().repeats
    for _ in range(50):
        before = [rng.gauss(100, 8) for _ in range(repeats)]
        after = [rng.gauss(50, 4) for _ in range(repeats)]
        assert compare(before, after).significant


# -- the ratio's interval ----------------------------------------------------------------------------
def test_ratio_interval_holds_the_ratio_and_cuts_at_the_critical_u() -> None:
    before, after = [10.0, 10.2, 10.1, 10.3, 9.9], [5.0, 5.1, 4.9, 5.2, 5.0]
    low, high = ratio_interval(before, after) or (0.0, 0.0)
    ratios = sorted(b / a for b in before for a in after)
    assert (low, high) == (ratios[2], ratios[22])  # 5 against 5 at 95%: the 3rd smallest and largest
    assert low < 10.1 / 5.0 < high


def test_ratio_interval_with_few_runs_is_the_whole_range_and_none_with_a_zero() -> None:
    assert ratio_interval([2.0, 3.0], [1.0, 2.0]) == (1.0, 3.0)
    assert ratio_interval([1.0, 2.0], [0.0, 1.0]) is None


# -- the bytecode count beside CPU time ------------------------------------------------------------------
TIE = compare([10.0, 11.0, 12.0, 10.5, 11.5], [9.0, 11.5, 10.0, 10.8, 9.6])  # no significant CPU change


def test_an_equal_count_of_an_a_vs_a_decides_nothing() -> None:
    counted = count_change(TIE, 1_000_000, 1_000_000)
    assert counted.ratio == 1.0 and counted.use is CountUse.AGREES and not counted.significant


def test_a_count_inside_the_cpu_interval_decides_a_cpu_tie() -> None:
    assert not TIE.significant and TIE.interval is not None and TIE.interval[0] < 1.1 < TIE.interval[1]
    counted = count_change(TIE, 1_100_000, 1_000_000)
    assert counted.use is CountUse.DECIDES and counted.significant and counted.ratio == pytest.approx(1.1)


def test_a_count_outside_the_cpu_interval_is_not_used() -> None:
    # a count far below what the CPU runs allow: work moved into C, or a forged count
    counted = count_change(TIE, 10_000_000, 100_000)
    assert counted.use is CountUse.UNTRACKED and not counted.significant


def test_a_count_never_decides_what_cpu_time_decided() -> None:
    cpu = compare([20.0, 20.5, 21.0, 19.8, 20.2], [10.0, 10.2, 9.9, 10.4, 10.1])
    assert cpu.significant
    assert count_change(cpu, 2_000_000, 1_000_000).use is CountUse.AGREES
    assert count_change(cpu, 5_000_000, 5_000_000).use is CountUse.UNTRACKED  # list -> set: same count, less CPU


def test_a_count_within_min_change_or_missing_decides_nothing() -> None:
    assert count_change(TIE, 1_010_000, 1_000_000).use is CountUse.AGREES
    assert count_change(TIE, None, 1_000_000).use is CountUse.UNAVAILABLE
    assert count_change(TIE, 1_000_000, 0).use is CountUse.UNAVAILABLE
