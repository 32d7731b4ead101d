"""A test's time and memory limits as people write them (milliseconds, megabytes), checked and
converted in one place, so a tests file and an editor setting mean the same by the same number.
"""

from __future__ import annotations

import math
from typing import TypeGuard

MAX_TIME_LIMIT_MS = 24 * 3600 * 1000  # a day
MAX_MEMORY_LIMIT_MB = 1024 * 1024  # a terabyte
TIME_LIMIT_RULE = f"expected a positive number of milliseconds, at most {MAX_TIME_LIMIT_MS}"
MEMORY_LIMIT_RULE = f"expected a positive number of megabytes, at most {MAX_MEMORY_LIMIT_MB}"
OUTPUT_LIMIT_RULE = MEMORY_LIMIT_RULE


def time_limit_s(milliseconds: object) -> float | None:
    """The limit in seconds, or None if ``milliseconds`` is not a valid limit (TIME_LIMIT_RULE)."""
    return float(milliseconds) / 1000 if _within(milliseconds, MAX_TIME_LIMIT_MS) else None


def memory_limit_mb(megabytes: object) -> int | None:
    """The limit in whole megabytes, rounded up (0.5 MB is a limit, not none at all), or None if
    ``megabytes`` is not a valid limit (MEMORY_LIMIT_RULE)."""
    return math.ceil(megabytes) if _within(megabytes, MAX_MEMORY_LIMIT_MB) else None


def _within(value: object, maximum: int) -> TypeGuard[int | float]:
    """A positive number up to ``maximum``: JSON's NaN, Infinity and huge values would reach the
    rlimits and deadlines as numbers they cannot hold."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= maximum
