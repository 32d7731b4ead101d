"""The execution score the beam ranks by (search.score): its formula, and that it rewards passing
more tests, cheaper runs and smaller, simpler code. Pure: no model, no sandbox."""

from __future__ import annotations

import pytest

from orps_engine.results import ExecutionResult, SuiteResult, Verdict
from orps_engine.search import execution_score

SOURCE = "def total(xs):\n    out = 0\n    for x in xs:\n        out += x\n    return out\n"


def _result(test_id: str, verdict: Verdict = Verdict.AC, cpu_ms: float | None = 5.0,
            peak_kb: int | None = 100) -> ExecutionResult:
    return ExecutionResult(test_id=test_id, verdict=verdict, wall_ms=cpu_ms, cpu_ms=cpu_ms, peak_kb=peak_kb,
                           instructions=None)


def _suite(verdicts: list[Verdict], cpu_ms: float = 5.0, peak_kb: int = 100) -> SuiteResult:
    return SuiteResult(results=tuple(_result(str(i + 1), v, cpu_ms, peak_kb) for i, v in enumerate(verdicts)))


def test_execution_score_formula_by_hand() -> None:
    code = "def f(x):\n    return x\n"  # 2 lines, complexity 1
    suite = _suite([Verdict.AC, Verdict.WA], cpu_ms=50.0, peak_kb=1024)  # cost 100 ms in all, peak 1024 KB
    static = (1 / (1 + 2 / 40) + 1 / (1 + 1 / 10)) / 2
    dynamic = (1 / (1 + 100 / 100) + 1 / (1 + 1024 / (16 * 1024))) / 2
    assert execution_score(code, suite) == pytest.approx(0.5 * (1 + 0.5 * static + 0.5 * dynamic))


def test_execution_score_is_zero_when_nothing_passes() -> None:
    assert execution_score(SOURCE, _suite([Verdict.WA, Verdict.RE, Verdict.TLE])) == 0.0
    assert execution_score(SOURCE, SuiteResult(results=())) == 0.0


def test_execution_score_is_monotonic() -> None:
    all_pass = _suite([Verdict.AC] * 4)
    score = execution_score(SOURCE, all_pass)
    assert 1.0 < score <= 2.0
    # more tests passing is better
    assert execution_score(SOURCE, _suite([Verdict.AC] * 3 + [Verdict.WA])) < score
    # faster is better, and lighter is better
    assert execution_score(SOURCE, _suite([Verdict.AC] * 4, cpu_ms=1.0)) > score
    assert execution_score(SOURCE, _suite([Verdict.AC] * 4, cpu_ms=500.0)) < score
    assert execution_score(SOURCE, _suite([Verdict.AC] * 4, peak_kb=10)) > score
    assert execution_score(SOURCE, _suite([Verdict.AC] * 4, peak_kb=100_000)) < score
    # smaller and simpler is better
    assert execution_score("def total(xs):\n    return sum(xs)\n", all_pass) > score
    branchy = "def total(xs):\n" + "".join(f"    if xs == {i}:\n        return {i}\n" for i in range(20)) + \
        "    return sum(xs)\n"
    assert execution_score(branchy, all_pass) < score


def test_unmeasured_figures_do_not_break_the_score() -> None:
    suite = SuiteResult(results=(_result("1", cpu_ms=None, peak_kb=None),))
    assert execution_score(SOURCE, suite) > 1.0
