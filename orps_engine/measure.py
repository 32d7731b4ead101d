"""Repeated measurements, their noise, and whether a change is real. Pure functions over numbers.

A refine's efficiency claim rests on these. The original and the pick are run again, interleaved
(in alternating order), ``repeats`` times each, and the two sets of CPU times (and of peak memory)
are compared with the Mann-Whitney rank test, exactly (every arrangement of the runs' ranks, ties
included) for the few runs a refine makes. A change is significant when the test's two-sided p is
below ``ALPHA`` and the medians differ by more than ``MIN_CHANGE`` (so a real but negligible
change is not reported as one). With too few runs for the test to reach ``ALPHA`` at all (fewer
than 5 a side; 4 against 4 cannot do better than p = 0.029) the bar is the smallest p it can give:
the two sets of runs do not overlap at all; at 3 runs a side that happens by chance one time in ten.

The runs also give a distribution-free interval for the ratio of the two costs (Hodges-Lehmann:
the ratios of every pair of runs, cut where the rank test at ``INTERVAL_ALPHA`` would cut them).

The bytecode count (``results.SuiteResult.total_bytecodes``) is deterministic, but made inside
the code's own process, and blind to work done in C. So CPU time stays the headline, and the count
is used only where the CPU runs cannot decide and it agrees with them (``count_change``): when they
show no significant change, both sides are counted (one traced run each: the count has no noise),
and a count that differs by more than ``MIN_CHANGE`` decides, if its ratio lies inside the CPU
ratio's interval. A count outside that interval (work moved into C, or a count the code tampered
with) decides nothing and is reported as not tracking CPU time. An A-vs-A comparison has exactly
equal counts, so the count never calls it a change.
"""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass
from enum import Enum

MIN_CHANGE = 0.03
ALPHA = 0.01  # the rank test's two-sided level for a significant change
INTERVAL_ALPHA = 0.05  # the ratio's interval covers the true ratio at least 95% of the time
EXACT_ARRANGEMENTS = 50_000  # above this many arrangements of the ranks, the normal approximation
# Search-time comparisons use single runs: costs within this fraction (or within
# NOISE_FLOOR_MS) of each other count as equal.
NOISE_REL = 0.10
NOISE_FLOOR_MS = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Spread:
    median: float
    low: float
    high: float
    rel_noise: float  # robust relative spread: 1.4826 * MAD / median

    @classmethod
    def of(cls, samples: list[float]) -> Spread:
        if not samples:
            raise ValueError("no samples")
        median = statistics.median(samples)
        mad = statistics.median(abs(x - median) for x in samples)
        return cls(median=median, low=min(samples), high=max(samples),
                   rel_noise=(1.4826 * mad / median) if median else 0.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    before: Spread
    after: Spread
    ratio: float | None  # before / after medians: 2.0 means half the cost
    p_value: float  # the rank test's, two-sided
    # before / after, at least 95% confidence (Hodges-Lehmann); None where a side has a zero cost
    interval: tuple[float, float] | None
    significant: bool


def compare(before: list[float], after: list[float]) -> Change:
    """The change from ``before`` to ``after``; see the module docstring for when it is significant."""
    b, a = Spread.of(before), Spread.of(after)
    ratio = b.median / a.median if a.median > 0 else None
    p = rank_test(before, after)
    level = max(ALPHA, smallest_p(len(before), len(after)))
    big_enough = ratio is not None and abs(ratio - 1.0) > MIN_CHANGE
    return Change(before=b, after=a, ratio=ratio, p_value=p, interval=ratio_interval(before, after),
                  significant=p <= level and big_enough)


def cheaper(cost: float, than: float) -> bool:
    """Is ``cost`` lower than ``than`` by more than single-run noise?"""
    return cost < than * (1 - NOISE_REL) and than - cost > NOISE_FLOOR_MS


# -- the rank test ------------------------------------------------------------------------------
def rank_test(x: list[float], y: list[float]) -> float:
    """Mann-Whitney's two-sided p that ``x`` and ``y`` come from one distribution: the share of the
    arrangements of their (mid-)ranks whose U is at least as far from its mean as the one observed;
    the normal approximation (tie-corrected, with continuity correction) past ``EXACT_ARRANGEMENTS``."""
    if not x or not y:
        raise ValueError("no samples")
    ranks = _midranks(x + y)
    n1, n2 = len(x), len(y)
    mean = n1 * n2 / 2
    observed = abs(_u(ranks[:n1], n1) - mean)
    if math.comb(n1 + n2, n1) <= EXACT_ARRANGEMENTS:
        extreme = total = 0
        for chosen in itertools.combinations(ranks, n1):
            total += 1
            extreme += abs(_u(chosen, n1) - mean) >= observed - 1e-9
        return extreme / total
    n = n1 + n2
    ties = sum(t ** 3 - t for t in _tie_sizes(x + y))
    variance = n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1)))
    if variance <= 0:
        return 1.0
    z = max(0.0, observed - 0.5) / math.sqrt(variance)
    return min(1.0, math.erfc(z / math.sqrt(2)))


def smallest_p(n1: int, n2: int) -> float:
    """The smallest two-sided p the rank test can give ``n1`` against ``n2`` runs (no overlap at all)."""
    return min(1.0, 2 / math.comb(n1 + n2, n1))


def _u(ranks: tuple[float, ...] | list[float], n1: int) -> float:
    return sum(ranks) - n1 * (n1 + 1) / 2


def _midranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for k in range(start, end + 1):
            ranks[order[k]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def _tie_sizes(values: list[float]) -> list[int]:
    counts: dict[float, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return [c for c in counts.values() if c > 1]


# -- the ratio's interval ---------------------------------------------------------------------------
def ratio_interval(before: list[float], after: list[float]) -> tuple[float, float] | None:
    """Before / after, from the ratios of every pair of runs (the Hodges-Lehmann interval, on their
    logarithms): the ratios the rank test at ``INTERVAL_ALPHA`` would not reject as a scale change,
    so the pairs' k + 1-th smallest to k + 1-th largest ratio, k its critical U. With very few runs
    (fewer than 4 a side) the test rejects nothing and the interval is the whole range of the pairs'
    ratios, which covers less than 95%."""
    if min(before + after) <= 0:
        return None
    ratios = sorted(b / a for b in before for a in after)
    k = _cut(len(before), len(after))
    return ratios[k], ratios[len(ratios) - 1 - k]


def _cut(n1: int, n2: int) -> int:
    """How many of the n1 * n2 pair ratios the interval leaves out at each end: the rank test's
    critical U at ``INTERVAL_ALPHA`` (the largest u with P(U <= u) <= INTERVAL_ALPHA / 2), exactly."""
    counts = _u_distribution(n1, n2)
    total = math.comb(n1 + n2, n1)
    below, k = 0, 0
    for u, ways in enumerate(counts):
        below += ways
        if below / total > INTERVAL_ALPHA / 2:
            break
        k = u
    return min(k, (n1 * n2 - 1) // 2)


def _u_distribution(n1: int, n2: int) -> list[int]:
    """How many arrangements of n1 and n2 distinct values give each U (0 .. n1 * n2)."""
    # ways[i][j]: the distribution for i against j, built up one value at a time
    ways: dict[tuple[int, int], list[int]] = {}
    for i in range(n1 + 1):
        for j in range(n2 + 1):
            if i == 0 or j == 0:
                ways[i, j] = [1]
                continue
            take_x, take_y = ways[i - 1, j], ways[i, j - 1]  # the largest value is x's (adds j to U) or y's
            merged = [0] * (i * j + 1)
            for u, w in enumerate(take_x):
                merged[u + j] += w
            for u, w in enumerate(take_y):
                merged[u] += w
            ways[i, j] = merged
    return ways[n1, n2]


# -- the bytecode count beside CPU time ---------------------------------------------------------------
class CountUse(str, Enum):
    """What the bytecode count did for a comparison."""

    SKIPPED = "skipped"  # the CPU runs decided: nothing was counted
    UNAVAILABLE = "unavailable"  # a side could not be counted (a note of its runs says why)
    AGREES = "agrees"  # inside the CPU ratio's interval: shown, and may decide a tie
    DECIDES = "decides"  # it agrees, the CPU runs showed no significant change, and the count did
    UNTRACKED = "untracked"  # outside the CPU ratio's interval: it does not track CPU time here, so decides nothing


@dataclass(frozen=True, slots=True, kw_only=True)
class CountChange:
    """Bytecodes, before and after: one counted run a side (deterministic: no noise to test)."""

    before: int | None
    after: int | None
    ratio: float | None  # before / after
    use: CountUse

    @property
    def significant(self) -> bool:
        return self.use is CountUse.DECIDES


def count_change(cpu: Change, before: int | None, after: int | None) -> CountChange:
    """The count beside the CPU change ``cpu`` (see the module docstring for how they combine)."""
    if before is None or after is None:
        return CountChange(before=before, after=after, ratio=None, use=CountUse.UNAVAILABLE)
    ratio = before / after if after else None
    if ratio is None or cpu.interval is None:
        return CountChange(before=before, after=after, ratio=ratio, use=CountUse.UNAVAILABLE)
    low, high = cpu.interval
    if not low <= ratio <= high:
        return CountChange(before=before, after=after, ratio=ratio, use=CountUse.UNTRACKED)
    decides = not cpu.significant and abs(ratio - 1.0) > MIN_CHANGE
    return CountChange(before=before, after=after, ratio=ratio, use=CountUse.DECIDES if decides else CountUse.AGREES)
