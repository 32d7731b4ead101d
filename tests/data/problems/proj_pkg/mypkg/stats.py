"""Statistics over lists of numbers."""

from pathlib import Path

from . import util

WEIGHTS = (Path(__file__).parent / "data" / "weights.txt").read_text().split()


def mean(xs):
    """The arithmetic mean of xs."""
    if not xs:
        raise ValueError("mean of nothing")
    return util.total(xs) / len(xs)


def variance(xs):
    m = mean(xs)
    return util.total([(x - m) ** 2 for x in xs]) / len(xs)


def weighted():
    return [float(w) for w in WEIGHTS]


class Stats:
    def __init__(self, xs):
        self.xs = list(xs)

    def spread(self):
        return max(self.xs) - min(self.xs)
