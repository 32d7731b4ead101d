"""How a program's output is compared with the expected output, as the judges' standard checkers do,
as one typed record; and the default when the tests do not say.

``tokens`` (the default): the whitespace-separated words, as most judges' default checker.
``lines``: line by line, each line's words (Codeforces' ``lcmp``): inner runs of spaces do not
matter, line breaks do; trailing empty lines do not. ``exact``: byte for byte. ``float[:TOL]``: the
words, numbers within an absolute or relative tolerance (default 1e-6, as Codeforces' ``rcmp6``).
``{"checker": "checker.py"}`` (``checker:PATH`` on the command line): a program of the user's, run in
the sandbox as ``checker INPUT ACTUAL EXPECTED`` (three files in its working directory), decides:
exit 0 accepts, 1 or 2 (testlib's WA and PE) is a wrong answer with its message, anything else is
the checker's failure, never blamed on the solution.
Competitive Companion never sends a mode: where the expected outputs hold non-integer numbers,
the default is ``float`` (``Comparison.inferred`` says the tests did not choose it).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

DEFAULT_TOLERANCE = 1e-6
RULE = 'expected tokens, lines, exact, float[:tolerance] (e.g. float:1e-9) or {"checker": "checker.py"}'
_FLOAT_MODE = re.compile(r"^float(?::((?:\d+(?:\.\d*)?|\.\d+)(?:e-?\d+)?))?$")
_NON_INTEGER = re.compile(r"^[+-]?(?:\d+\.\d*|\.\d+|\d+(?:\.\d*)?[eE][+-]?\d+)$")


class CompareKind(str, Enum):
    TOKENS = "tokens"
    LINES = "lines"
    EXACT = "exact"
    FLOAT = "float"
    CHECKER = "checker"


@dataclass(frozen=True, slots=True)
class Comparison:
    kind: CompareKind = CompareKind.TOKENS
    tolerance: float = DEFAULT_TOLERANCE  # FLOAT only
    inferred: bool = False  # chosen by orps from the expected outputs, not by the tests
    checker: Path | None = None  # CHECKER only: the checker program (an absolute path)

    @property
    def label(self) -> str:
        """As a tests file writes it."""
        if self.kind is CompareKind.FLOAT:
            return "float" if self.tolerance == DEFAULT_TOLERANCE else f"float:{self.tolerance:g}"
        if self.kind is CompareKind.CHECKER:
            return f"checker:{self.checker}"
        return str(self.kind.value)

    def matches(self, expected: str, actual: str) -> bool:
        """Compare as the mode says (not a checker's: the judge runs that program in the sandbox)."""
        if self.kind is CompareKind.CHECKER:
            raise ValueError("a checker is a program: the judge runs it")
        if self.kind is CompareKind.EXACT:
            return expected == actual
        if self.kind is CompareKind.LINES:
            return _line_words(expected) == _line_words(actual)
        if self.kind is CompareKind.FLOAT:
            return _floats_match(expected.split(), actual.split(), self.tolerance)
        return expected.split() == actual.split()


TOKENS = Comparison()


def parse_comparison(value: object, base: Path | None = None) -> Comparison | None:
    """``value`` as a tests file or the command line writes it, or None if it is not one (RULE). A
    checker's path is taken from ``base`` (the tests file's folder; None: the current folder) and must
    be a file."""
    if (isinstance(value, dict) and set(value) == {"checker"}) or (isinstance(value, str)
                                                                   and value.startswith("checker:")):
        where = _checker_file(value, base)
        return Comparison(CompareKind.CHECKER, checker=where.resolve()) if where and where.is_file() else None
    if not isinstance(value, str):
        return None
    text = value
    for kind in (CompareKind.TOKENS, CompareKind.LINES, CompareKind.EXACT):
        if text == kind.value:
            return Comparison(kind)
    match = _FLOAT_MODE.match(text)
    if match is None:
        return None
    tolerance = float(match.group(1)) if match.group(1) else DEFAULT_TOLERANCE
    if not math.isfinite(tolerance):
        return None
    return Comparison(CompareKind.FLOAT, tolerance)


def _checker_file(value: object, base: Path | None) -> Path | None:
    """The file a checker's ``value`` names (``{"checker": PATH}`` or ``checker:PATH``), from ``base``
    (None: the current folder); None where it names none."""
    path = value.get("checker") if isinstance(value, dict) else (
        value.removeprefix("checker:") if isinstance(value, str) and value.startswith("checker:") else None)
    if not isinstance(path, str) or not path:
        return None
    return (base or Path.cwd()) / Path(path).expanduser()


def missing_checker(value: object, base: Path | None) -> str | None:
    """Why ``value``, a checker's, is not one: its file is not there (None: not a checker, or fine)."""
    where = _checker_file(value, base)
    return None if where is None or where.is_file() else f"the checker {where} is not a file"


def inferred_comparison(expected_outputs: Iterable[str | None]) -> Comparison:
    """The default where the tests chose none: ``float`` with the default tolerance if an expected
    output holds a non-integer number (``0.5``, ``1e-3``), as problems with real answers accept any
    answer within 1e-6; else ``tokens``."""
    for output in expected_outputs:
        if output and any(_NON_INTEGER.match(word) for word in output.split()):
            return Comparison(CompareKind.FLOAT, DEFAULT_TOLERANCE, inferred=True)
    return Comparison(CompareKind.TOKENS, inferred=True)


def _line_words(text: str) -> list[list[str]]:
    lines = [line.split() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _floats_match(expected: list[str], actual: list[str], tolerance: float) -> bool:
    if len(expected) != len(actual):
        return False
    for want, got in zip(expected, actual):
        if want == got:
            continue
        try:
            a, b = float(want), float(got)
        except ValueError:
            return False
        if not (math.isfinite(a) and math.isfinite(b)) or not math.isclose(a, b, rel_tol=tolerance,
                                                                               abs_tol=tolerance):
            return False
    return True
