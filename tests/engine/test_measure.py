"""Repeated measurements: their spread, whether a change is real, and single-run comparisons."""

from __future__ import annotations

import pytest

from orps_engine.measure import MIN_CHANGE, NOISE_FLOOR_MS, NOISE_REL, Spread, cheaper, compare


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
