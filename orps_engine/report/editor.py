"""What an editor shows of a test run or a refine, as plain text and line numbers.

The language server turns these into diagnostics, inlay hints, lenses and hovers; keeping the
wording and the arithmetic here means it is tested without an editor (and reads the same as
the CLI).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from .. import units
from ..problem import FunctionTarget, Problem, TestCase
from ..problem.target import def_line, target_line
from ..results import ExecutionResult, SuiteResult, Verdict
from ..search import RefineResult
from ..text import one_line, printable
from .refine import refine_line

NEAR_LIMIT = 0.8  # a test using this share of a limit earns a note
SHORT = 60  # characters of a value shown in a one-line message
_NAMED = {Verdict.TLE: "time limit exceeded", Verdict.MLE: "memory limit exceeded",
          Verdict.OLE: "output limit exceeded", Verdict.RE: "runtime error", Verdict.WA: "wrong answer",
          Verdict.HARNESS: "could not be judged"}


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFORMATION = "information"
    HINT = "hint"


class NoteCode(str, Enum):
    """What a note is about; editors show it as the diagnostic's code."""

    TEST = "test"  # a test's verdict, a runtime error, or a figure of the last run
    REFINEMENT = "refinement"  # the outcome of the last refine
    TESTS_FILE = "tests-file"  # the tests file itself is malformed


@dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    """A message for one place: ``path`` and 1-based ``line``. The message quotes runs (what the
    code raised or printed, bounded by ``judge``) and the model: its control characters are
    escaped here, once for every note (``text.printable``), so an editor shows them as text."""

    path: Path
    line: int
    message: str
    severity: Severity
    code: NoteCode = NoteCode.TEST
    test_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", printable(self.message))


def suite_line(suite: SuiteResult) -> str:
    """``12/12 passed, 1.3 ms, 12.0 MB``: the slowest CPU time and the largest peak."""
    cpu = max((r.cpu_ms for r in suite.results if r.cpu_ms is not None), default=None)
    peak = max((r.peak_kb for r in suite.results if r.peak_kb is not None), default=None)
    return f"{suite.passed}/{suite.total} passed, {units.ms(cpu)}, {units.kb(peak)}"


def result_label(result: ExecutionResult) -> str:
    return f"{result.verdict.value} {units.ms(result.cpu_ms)}"


def failure_text(result: ExecutionResult) -> str:
    """One line for one failed test: ``test 3 expected 5, got 4`` or ``test 3: TLE (...)``."""
    if result.verdict is Verdict.WA and result.expected is not None and result.actual is not None:
        expected, actual = _short(result.expected), _short(result.actual)
        if expected == actual:  # they differ only in whitespace: show it
            expected, actual = repr(result.expected)[:SHORT], repr(result.actual)[:SHORT]
        return f"test {result.test_id} expected {expected}, got {actual}"
    if result.error is not None:
        return f"test {result.test_id}: {result.error}"
    name = _NAMED.get(result.verdict, result.verdict.value)
    detail = f" ({result.detail})" if result.detail else ""
    return f"test {result.test_id}: {result.verdict.value}, {name}{detail}"


def summary(suite: SuiteResult) -> str:
    """``2 of 12 tests fail: test 3 expected 5, got 4``."""
    return _summary(suite.results)


def _summary(results: tuple[ExecutionResult, ...] | list[ExecutionResult]) -> str:
    failed = [r for r in results if not r.verdict.passed]
    if not failed:
        return f"all {len(results)} tests pass"
    return f"{len(failed)} of {len(results)} tests fail: {failure_text(failed[0])}"


def failure_notes(problem: Problem, suite: SuiteResult) -> list[Note]:
    """Errors at each failing test's line (sidecar or doctest), the summary on the ``def`` line,
    and runtime errors at the line of the user's file where they were raised."""
    tests = {t.id: t for t in problem.tests}
    notes: list[Note] = []
    for result in suite.results:
        if result.verdict.passed:
            continue
        test = tests.get(result.test_id)
        path, line = _where(problem, test)
        if test is not None and test.path is not None and result.failed_at is not None:
            line = result.failed_at  # the failing assertion, not the test's def
        notes.append(Note(path=path, line=line, message=failure_text(result), severity=Severity.ERROR,
                          test_id=result.test_id))
        if result.error is not None and result.error.line is not None:
            notes.append(Note(path=problem.path, line=result.error.line, severity=Severity.ERROR,
                              test_id=result.test_id, message=f"{_error_text(result)} (test {result.test_id})"))
    notes += _summaries(problem, suite)
    return notes


def _summaries(problem: Problem, suite: SuiteResult) -> list[Note]:
    """The summary on the target's ``def``; for a whole file whose tests name the functions they
    call, one per such function with a failing test, on its own ``def``."""
    if not suite.failed:
        return []
    tests = {t.id: t for t in problem.tests}
    by_function: dict[str, list[ExecutionResult]] = {}
    for result in suite.results:
        test = tests.get(result.test_id)
        for name in test.exercises if test is not None else ():
            by_function.setdefault(name, []).append(result)
    if isinstance(problem.target, FunctionTarget) or not by_function:
        return [Note(path=problem.path, line=def_line(problem), message=summary(suite), severity=Severity.ERROR)]
    return [Note(path=problem.path, line=target_line(problem.source, FunctionTarget(name)),
                 message=f"{name}: {_summary(results)}", severity=Severity.ERROR)
            for name, results in sorted(by_function.items()) if not all(r.verdict.passed for r in results)]


def tested_functions(problem: Problem) -> list[str]:
    """The functions of the file that have tests: the target, or every function the project's
    tests call (for lenses on each)."""
    if isinstance(problem.target, FunctionTarget):
        return [problem.target.qualname]
    names = {name for test in problem.tests for name in test.exercises}
    return sorted(n for n in names if not _dunder(n.rpartition(".")[2]))  # __init__ & co: no lens of their own


def _dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def efficiency_notes(problem: Problem, suite: SuiteResult) -> list[Note]:
    """Where efficiency matters: tests near the time or memory limit, and the slowest test where it
    stands out (every passing function would otherwise carry a "slowest test: 1")."""
    tests = {t.id: t for t in problem.tests}
    notes = []
    limit_ms, limit_kb = problem.time_limit_s * 1000, problem.memory_limit_mb * 1024
    for result in suite.results:
        path, line = _where(problem, tests.get(result.test_id))
        if result.verdict.passed and result.cpu_ms is not None and result.cpu_ms >= NEAR_LIMIT * limit_ms:
            notes.append(Note(path=path, line=line, severity=Severity.INFORMATION, test_id=result.test_id,
                              message=f"test {result.test_id} uses {result.cpu_ms / limit_ms:.0%} of the "
                                      f"{problem.time_limit_s:g} s time limit ({units.ms(result.cpu_ms)})"))
        if result.verdict.passed and result.peak_kb is not None and result.peak_kb >= NEAR_LIMIT * limit_kb:
            notes.append(Note(path=path, line=line, severity=Severity.INFORMATION, test_id=result.test_id,
                              message=f"test {result.test_id} uses {result.peak_kb / limit_kb:.0%} of the "
                                      f"{problem.memory_limit_mb} MB memory limit"))
    timed = [r for r in suite.results if r.cpu_ms is not None]
    if len(timed) > 1 and _stands_out(timed):
        slowest = max(timed, key=lambda r: r.cpu_ms or 0.0)
        notes.append(Note(path=problem.path, line=def_line(problem), severity=Severity.HINT, test_id=slowest.test_id,
                          message=f"slowest test: {slowest.test_id} ({units.ms(slowest.cpu_ms)} CPU)"))
    return notes


SLOWEST_FACTOR = 2.0  # the slowest test is named only where it takes this many times the others' median CPU
SLOWEST_FLOOR_MS = 10.0  # and more than this: below it every test is fast, and the hint is noise


def _stands_out(timed: list[ExecutionResult]) -> bool:
    """Is one test's CPU time worth a hint: well above the others' and above the noise?"""
    *others, slowest = sorted(r.cpu_ms or 0.0 for r in timed)
    return slowest > SLOWEST_FLOOR_MS and slowest >= SLOWEST_FACTOR * statistics.median(others)


def _error_text(result: ExecutionResult) -> str:
    assert result.error is not None
    return f"{result.error.type}: {result.error.message}" if result.error.message else result.error.type


def _where(problem: Problem, test: TestCase | None) -> tuple[Path, int]:
    if test is not None and test.path is not None and test.line is not None:
        return test.path, test.line
    return problem.path, def_line(problem)


def _short(text: str) -> str:
    return one_line(text, SHORT) or "(empty)"


def refinement_note(problem: Problem, result: RefineResult) -> Note:
    """The refine's outcome, on the ``def`` line of its target in ``problem``'s (current) source."""
    return Note(path=problem.path, line=target_line(problem.source, result.problem.target), severity=Severity.HINT,
                code=NoteCode.REFINEMENT, message=refine_line(result))


def file_error_note(path: Path, line: int | None, message: str) -> Note:
    """A malformed tests file: an error at the line the error names."""
    return Note(path=path, line=line or 1, message=message, severity=Severity.ERROR, code=NoteCode.TESTS_FILE)


def hover_markdown(problem: Problem, suite: SuiteResult, critique: str | None = None) -> str:
    rows = ["| test | verdict | CPU | memory |", "|---|---|---|---|"]
    rows += [f"| {r.test_id} | {r.verdict.value} | {units.ms(r.cpu_ms)} | {units.kb(r.peak_kb)} |"
             for r in suite.results]
    parts = [f"**orps**: {suite_line(suite)}", "\n".join(rows)]
    if critique:
        parts.append("**Latest ORPS critique**\n\n" + critique.strip())
    return printable("\n\n".join(parts))
