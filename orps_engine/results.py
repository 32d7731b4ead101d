"""Verdicts and execution records: the only results of running code that the rest of orps reads.

A figure that could not be measured is ``None``, never 0. The raw run (exit status, rusage,
bytes) stays inside ``sandbox``; what leaves is an ``ExecutionResult``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Verdict(str, Enum):
    AC = "AC"  # accepted
    WA = "WA"  # wrong answer
    TLE = "TLE"  # time limit exceeded
    MLE = "MLE"  # memory limit exceeded
    RE = "RE"  # runtime error
    OLE = "OLE"  # output limit exceeded
    HARNESS = "HARNESS"  # our failure (or the test's own); never blamed on the solution

    @property
    def passed(self) -> bool:
        return self is Verdict.AC


@dataclass(frozen=True, slots=True, kw_only=True)
class RunError:
    """An error raised by the solution: exception type, message, and the line in the user's file."""

    type: str
    message: str
    line: int | None = None
    path: str | None = None

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line is not None else ""
        return f"{self.type}: {self.message}{where}" if self.message else f"{self.type}{where}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Call:
    """One call a test made into the code under test, as the checker saw it. Values are
    *descriptions* (plain JSON that compares like the value; see ``orps_engine.behaviour``)."""

    label: str  # how the test reached the callable: ``mean``, ``Stats().spread``
    returned: Any
    raised: str | None  # the exception's type name
    mutated: tuple[Any, ...]  # the arguments it changed in place, after the call
    printed: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Behaviour:
    calls: tuple[Call, ...]
    truncated: bool = False  # the test made more calls than were recorded


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionResult:
    test_id: str
    verdict: Verdict
    wall_ms: float | None
    cpu_ms: float | None
    peak_kb: int | None
    instructions: int | None
    # Bytecode instructions the code executed, from a counted run of its own (``judge.run_test``'s
    # ``count_bytecodes``): the same on every run of the same code and input; None where not counted.
    bytecodes: int | None = None
    expected: str | None = None
    actual: str | None = None
    error: RunError | None = None
    detail: str | None = None  # a one-line explanation of the verdict, for people
    failed_at: int | None = None  # the line of the test's file where it failed (an assertion), if known
    behaviour: Behaviour | None = None  # what the code under test did (function tests)
    stdout: str = ""  # what the solution printed (function problems: debugging output only)
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True, kw_only=True)
class SuiteResult:
    results: tuple[ExecutionResult, ...]
    notes: tuple[str, ...] = ()
    # A program's: the CPU the interpreter's start-up takes, which a judge's time for ``python3 prog.py``
    # includes and the runs' figures (forked from a warm interpreter) do not. None for function tests.
    startup_cpu_ms: float | None = None

    def judge_cpu_ms(self, result: ExecutionResult) -> float | None:
        """A run's CPU time as a judge would show it: the start-up included."""
        if result.cpu_ms is None or self.startup_cpu_ms is None:
            return None
        return result.cpu_ms + self.startup_cpu_ms

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def passed(self) -> int:
        return sum(1 for r in self.results if r.verdict.passed)

    @property
    def failed(self) -> int:
        return self.total - self.passed

    @property
    def all_passed(self) -> bool:
        return self.total > 0 and self.passed == self.total

    @property
    def pass_fraction(self) -> float:
        return self.passed / self.total if self.total else 0.0

    @property
    def total_cpu_ms(self) -> float:
        """CPU time summed over the tests: the cost the final pick minimises (unmeasured: 0)."""
        return sum(r.cpu_ms or 0.0 for r in self.results)

    @property
    def max_peak_kb(self) -> int:
        """The largest peak memory of any test (unmeasured: 0)."""
        return max((r.peak_kb or 0 for r in self.results), default=0)

    @property
    def total_bytecodes(self) -> int | None:
        """Bytecodes summed over the tests, or None unless every test was counted."""
        counts = [r.bytecodes for r in self.results]
        if not counts or any(c is None for c in counts):
            return None
        return sum(c for c in counts if c is not None)

    @property
    def total_instructions(self) -> int | None:
        """Instructions summed over the tests, or None unless every test was counted."""
        counts = [r.instructions for r in self.results]
        if not counts or any(c is None for c in counts):
            return None
        return sum(c for c in counts if c is not None)
