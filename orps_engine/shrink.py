"""Smaller variants of a failing input, for ``orps stress`` to try: delta debugging on its text.

Pure: it proposes candidates and knows nothing of programs. Each candidate is strictly smaller
than the text it came from by ``size`` (fewer characters, else smaller integers), so a reducer
that keeps only failing candidates ends. The cuts, biggest first: blocks of lines, blocks of a
line's tokens, then each integer toward 0. Many inputs start with a count of what follows
(``n``, then ``n`` numbers): a cut of ``k`` lines or tokens is also tried with the input's first
integer, and the first integer of the line above the cut, lowered by ``k``, and that consistent
variant comes first.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_INTEGER = re.compile(r"^[+-]?\d+$")


def size(text: str) -> tuple[int, int]:
    """How big an input is: its characters, then the sum of its integers' magnitudes."""
    return len(text), sum(abs(int(token)) for token in text.split() if _INTEGER.match(token))


def candidates(text: str) -> Iterator[str]:
    """Variants of ``text``, each smaller than it by ``size``, the biggest cuts first; no repeats."""
    seen = {text}
    limit = size(text)
    for candidate in _all(text):
        if candidate not in seen and size(candidate) < limit:
            seen.add(candidate)
            yield candidate


def _all(text: str) -> Iterator[str]:
    lines = _lines(text)
    yield from _line_cuts(lines)
    for index, line in enumerate(lines):
        yield from _token_cuts(lines, index, line)
    for index, line in enumerate(lines):
        yield from _integer_shrinks(lines, index, line)


def _lines(text: str) -> list[list[str]]:
    """Each line as its tokens, the line break kept as a last token where there is one."""
    out = []
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        out.append([*body.split(), raw[len(body):]] if raw != body else body.split())
    return out


def _join(lines: list[list[str]]) -> str:
    parts = []
    for tokens in lines:
        words = [t for t in tokens if t and not t.isspace()]
        ending = tokens[-1] if tokens and tokens[-1] and tokens[-1].isspace() else ""
        parts.append(" ".join(words) + ending)
    return "".join(parts)


def _blocks(count: int) -> Iterator[tuple[int, int]]:
    """(start, length) of every block, halving the length from ``count // 2`` (all of it first when 1)."""
    length = max(1, count // 2)
    while True:
        for start in range(0, count, length):
            yield start, min(length, count - start)
        if length == 1:
            return
        length //= 2


def _line_cuts(lines: list[list[str]]) -> Iterator[str]:
    for start, length in _blocks(len(lines)):
        kept = lines[:start] + lines[start + length:]
        yield from _with_counts(kept, [0, start - 1] if start > 0 else [], length)
        yield _join(kept)


def _token_cuts(lines: list[list[str]], index: int, line: list[str]) -> Iterator[str]:
    words = [i for i, t in enumerate(line) if not t.isspace()]
    if len(words) < 2:
        return
    for start, length in _blocks(len(words)):
        dropped = set(words[start:start + length])
        kept = [*lines[:index], [t for i, t in enumerate(line) if i not in dropped], *lines[index + 1:]]
        # the count may be the input's first integer, the line above's, or this line's own first
        rows = [row for row in (0, index - 1, index) if 0 <= row < index or (row == index and start > 0)]
        yield from _with_counts(kept, rows, length)
        yield _join(kept)


def _with_counts(kept: list[list[str]], rows: list[int], by: int) -> Iterator[str]:
    """``kept`` with the first integer of each of ``rows`` (left intact by the cut) lowered by ``by``."""
    for row in dict.fromkeys(rows):
        lowered = _lowered(kept, (row, 0), by)
        if lowered is not None:
            yield _join(lowered)


def _lowered(lines: list[list[str]], at: tuple[int, int], by: int) -> list[list[str]] | None:
    """``lines`` with the integer at ``at`` (row, token) lowered by ``by``, if there is one there and
    it stays at least 0."""
    row, column = at
    if row >= len(lines) or column >= len(lines[row]) or not _INTEGER.match(lines[row][column]):
        return None
    value = int(lines[row][column]) - by
    if value < 0:
        return None
    changed = [list(tokens) for tokens in lines]
    changed[row][column] = str(value)
    return changed


def _integer_shrinks(lines: list[list[str]], index: int, line: list[str]) -> Iterator[str]:
    for column, token in enumerate(line):
        if not _INTEGER.match(token):
            continue
        value = int(token)
        for smaller in _toward_zero(value):
            changed = [list(tokens) for tokens in lines]
            changed[index][column] = str(smaller)
            yield _join(changed)


def _toward_zero(value: int) -> list[int]:
    sign = -1 if value < 0 else 1
    magnitude = abs(value)
    steps = [0, 1, magnitude // 2, magnitude - 1]
    return [sign * step for step in dict.fromkeys(steps) if step < magnitude]
