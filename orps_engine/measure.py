"""Repeated measurements, their noise, and whether a change is real. Pure functions over numbers.

A refine's efficiency claim rests on these: the original and the pick are run again, interleaved,
several times, and a change counts only if the two sets of runs do not overlap at all and the
medians differ by more than ``MIN_CHANGE``; otherwise it is reported as no significant change.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

MIN_CHANGE = 0.03
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
    ratio: float | None  # before / after: 2.0 means half the cost
    significant: bool


def compare(before: list[float], after: list[float]) -> Change:
    b, a = Spread.of(before), Spread.of(after)
    ratio = b.median / a.median if a.median > 0 else None
    separated = a.high < b.low or a.low > b.high
    big_enough = ratio is not None and abs(ratio - 1.0) > MIN_CHANGE
    return Change(before=b, after=a, ratio=ratio, significant=separated and big_enough)


def cheaper(cost: float, than: float) -> bool:
    """Is ``cost`` lower than ``than`` by more than single-run noise?"""
    return cost < than * (1 - NOISE_REL) and than - cost > NOISE_FLOOR_MS
