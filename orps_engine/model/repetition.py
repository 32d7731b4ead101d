"""Is a reply stuck in a loop? A pure test on the text streamed so far.

Small models fall into loops that run until the context is full (6,000-8,000 tokens of the same
lines). The client cuts a reply once its tail is one *unit* repeated back to back:

* the unit is 1 to ``MAX_UNIT`` characters long (a line, a block of lines, part of a line);
* it repeats at least ``MIN_REPEATS`` times in a row, and the repeats cover at least
  ``MIN_SPAN`` characters.

The span is what keeps real code safe. Code repeats short lines (``pass``, ``}``, ``)``), rows of
a literal (an 8x8 board of ``[0, 0, 0, 0, 0, 0, 0, 0],`` is 240 characters) and separator
comments (80 ``#``), but not a kilobyte of the same thing back to back; a loop does that within
a few hundred tokens. A false cut costs a retry, a missed loop costs at most ``max_tokens``, so
the rule errs on the side of not cutting: similar lines that differ (``case 1:`` ``case 2:`` ...)
never count, only exact repeats.
"""

from __future__ import annotations

MIN_REPEATS = 4
MIN_SPAN = 1000  # characters the repeats cover, at least (about 300 tokens)
MAX_UNIT = 2000  # the longest unit looked for (a whole function said again)
_WINDOW = MAX_UNIT * MIN_REPEATS  # the tail that is enough to decide
_PROBE = 12  # characters at the very end that each candidate unit must also end with


def repeats_needed(unit: int) -> int:
    """How many back-to-back copies of a ``unit``-character chunk make a loop."""
    return max(MIN_REPEATS, -(-MIN_SPAN // unit))


def repeating(text: str) -> bool:
    """True if ``text`` ends with one chunk repeated back to back (see the module docstring).

    Candidate unit lengths are the distances back to earlier occurrences of the last few
    characters (found with ``str.rfind``, in C), each checked by one string comparison, so a
    call costs little even on a long reply.
    """
    tail = text[-_WINDOW:]
    n = len(tail)
    if n < MIN_SPAN:
        return False
    probe = tail[-_PROBE:]
    end = n - 1  # an occurrence of the probe must end before the text does
    while True:
        start = tail.rfind(probe, 0, end)
        if start < 0:
            return False
        unit = n - (start + len(probe))
        if unit > MAX_UNIT or unit * MIN_REPEATS > n:
            return False  # longer units need more text than there is
        span = unit * repeats_needed(unit)
        if span <= n and tail[n - span:] == tail[n - unit:] * (span // unit):
            return True
        end = start + len(probe) - 1
