"""The execution report as the model reads it: pass rate, figures, and each failing test.

Unlike the reference implementation, failing tests show expected vs actual: the tests are the
user's own public tests, and the critic cannot judge a wrong answer it cannot see.
"""

from __future__ import annotations

from .. import units
from ..problem import Problem, TestCase
from ..results import SuiteResult, Verdict
from ..text import escaped_line
from .static import static_metrics

MAX_FIELD = 300


def render_report(problem: Problem, code: str, suite: SuiteResult) -> str:
    metrics = static_metrics(code)
    tests = {t.id: t for t in problem.tests}
    lines = [f"Pass rate: {suite.passed}/{suite.total} ({suite.pass_fraction:.0%})",
             f"Total CPU time: {units.ms(suite.total_cpu_ms)}; peak memory: {units.kb(suite.max_peak_kb)}",
             f"Lines of code: {metrics.lines_of_code}; cyclomatic complexity: {metrics.complexity}", ""]
    for result in suite.results:
        status = "PASS" if result.verdict is Verdict.AC else f"FAIL ({result.verdict.value})"
        lines.append(f"Test {result.test_id}: {status}, CPU {units.ms(result.cpu_ms)}, "
                     f"memory {units.kb(result.peak_kb)}")
        if result.verdict is Verdict.AC:
            continue
        test: TestCase | None = tests.get(result.test_id)
        if test is not None:
            lines.append(f"  input: {escaped_line(test.shown_input, MAX_FIELD)}")
        if result.error is not None:
            lines.append(f"  error: {escaped_line(str(result.error), MAX_FIELD)}")
            continue
        shown = (("expected", result.expected), ("actual", result.actual), ("detail", result.detail or None))
        for label, value in shown:
            if value is not None:
                lines.append(f"  {label}: {escaped_line(value, MAX_FIELD)}")
    return "\n".join(lines)
