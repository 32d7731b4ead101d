"""Statistics over a list of numbers: every kind of target a refine can take."""

import asyncio
import functools

SCALE = 1


def traced(fn):
    """A decorator that changes nothing: it must stay on the method it decorates."""
    @functools.wraps(fn)
    def inner(*args, **kwargs):
        return fn(*args, **kwargs)
    return inner


class Stats:
    """Numbers and what they add up to."""

    def __init__(self, values):
        self.values = list(values)

    def mean(self):
        total = 0
        for v in self.values:
            total += v
        return total / len(self.values)

    @staticmethod
    def square(x):
        return x * x

    @classmethod
    def of(cls, *values):
        return cls(values)

    @property
    def size(self):
        n = 0
        for _ in self.values:
            n += 1
        return n

    @size.setter
    def size(self, value):
        raise AttributeError("size is read-only")

    @traced
    def spread(self):
        """
        >>> Stats([1, 5, 3]).spread()
        4
        """
        return max(self.values) - min(self.values)

    class Summary:
        def line(self, stats):
            return f"{stats.size} values, mean {stats.mean()}"


async def fetch_total(values):
    await asyncio.sleep(0)
    return sum(values) * SCALE
