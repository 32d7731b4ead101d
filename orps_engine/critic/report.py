"""The execution report as the model reads it, and the execution score computed from it.

Unlike the reference implementation, failing tests show expected vs actual: the tests are the
user's own public tests, and the critic cannot judge a wrong answer it cannot see.
"""

from __future__ import annotations

from ..problem import Problem, TestCase
from ..report import units
from ..results import SuiteResult, Verdict
from .static import StaticMetrics, static_metrics

MAX_FIELD = 300
# Scales of the execution score's 1/(1 + x/scale) terms: figures at their scale score 0.5.
LOC_SCALE = 40.0
COMPLEXITY_SCALE = 10.0
CPU_MS_SCALE = 100.0
PEAK_KB_SCALE = 16 * 1024.0


def pass_fraction(suite: SuiteResult) -> float:
    return suite.passed / suite.total if suite.total else 0.0


def cost_ms(suite: SuiteResult) -> float:
    """Total CPU time over the suite: the cost the final pick minimises."""
    return sum(r.cpu_ms or 0.0 for r in suite.results)


def peak_kb(suite: SuiteResult) -> int:
    return max((r.peak_kb or 0 for r in suite.results), default=0)


def instructions(suite: SuiteResult) -> int | None:
    counts = [r.instructions for r in suite.results]
    return sum(c for c in counts if c is not None) if counts and all(c is not None for c in counts) else None


def static_score(code: str) -> float:
    """The static half of the execution score: smaller, simpler code scores higher. Unlike the
    dynamic half it is free of measurement noise, so it can break ties between timings."""
    metrics = static_metrics(code)
    return (_term(metrics.lines_of_code, LOC_SCALE) + _term(metrics.complexity, COMPLEXITY_SCALE)) / 2


def execution_score(code: str, suite: SuiteResult) -> float:
    """S = p * (1 + 0.5 * static + 0.5 * dynamic): p the pass fraction, each half the mean of
    1/(1 + x/scale) over its figures, so smaller code and cheaper runs score higher."""
    static = static_score(code)
    dynamic = (_term(cost_ms(suite), CPU_MS_SCALE) + _term(peak_kb(suite), PEAK_KB_SCALE)) / 2
    return pass_fraction(suite) * (1 + 0.5 * static + 0.5 * dynamic)


def _term(value: float, scale: float) -> float:
    return 1.0 / (1.0 + max(0.0, value) / scale)


def render_report(problem: Problem, code: str, suite: SuiteResult) -> str:
    metrics: StaticMetrics = static_metrics(code)
    tests = {t.id: t for t in problem.tests}
    lines = [f"Pass rate: {suite.passed}/{suite.total} ({pass_fraction(suite):.0%})",
             f"Total CPU time: {units.ms(cost_ms(suite))}; peak memory: {units.kb(peak_kb(suite))}",
             f"Lines of code: {metrics.lines_of_code}; cyclomatic complexity: {metrics.complexity}", ""]
    for result in suite.results:
        status = "PASS" if result.verdict is Verdict.AC else f"FAIL ({result.verdict.value})"
        lines.append(f"Test {result.test_id}: {status}, CPU {units.ms(result.cpu_ms)}, "
                     f"memory {units.kb(result.peak_kb)}")
        if result.verdict is Verdict.AC:
            continue
        test: TestCase | None = tests.get(result.test_id)
        if test is not None:
            lines.append(f"  input: {_clip(test.shown_input)}")
        if result.error is not None:
            lines.append(f"  error: {_clip(str(result.error))}")
        else:
            if result.expected is not None:
                lines.append(f"  expected: {_clip(result.expected)}")
            if result.actual is not None:
                lines.append(f"  actual: {_clip(result.actual)}")
            if result.detail:
                lines.append(f"  detail: {_clip(result.detail)}")
    return "\n".join(lines)


def _clip(text: str) -> str:
    flat = text.strip().replace("\n", "\\n")
    return flat if len(flat) <= MAX_FIELD else flat[: MAX_FIELD - 3] + "..."
