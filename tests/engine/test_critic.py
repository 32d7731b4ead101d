"""The critic package: static figures, the report the model reads, reply
parsing, and prompts that stay within their character budget. Pure: no model, no sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from orps_engine.critic import (
    Attempt,
    critic_messages,
    hint,
    parse_critic,
    parse_programmer,
    programmer_messages,
    render_report,
    static_metrics,
)
from orps_engine.critic.prompts import CRITIC_SYSTEM, PROGRAMMER_SYSTEM, STRATEGY_HINTS
from orps_engine.problem import FunctionTarget, Problem, ProblemKind, WholeFile
from orps_engine.problem import TestCase as Case  # aliased: pytest would collect a Test* class
from orps_engine.problem import TestKind as Kind
from orps_engine.results import ExecutionResult, RunError, SuiteResult, Verdict

TOTAL = FunctionTarget("total")
SOURCE = '''"""Sums."""


def total(xs):
    """The sum of xs."""
    out = 0
    for x in xs:
        out += x
    return out
'''


def _problem(source: str = SOURCE, tests: int = 3) -> Problem:
    cases = tuple(Case(id=str(i + 1), kind=Kind.ASSERT, source=f"assert total([{i}, 1]) == {i + 1}")
                  for i in range(tests))
    return Problem(path=Path("/nowhere/sums.py"), source=source, kind=ProblemKind.MODULE,
                   target=FunctionTarget("total"), tests=cases, module="sums")


def _result(test_id: str, verdict: Verdict = Verdict.AC, cpu_ms: float | None = 5.0, peak_kb: int | None = 100,
            **extra: object) -> ExecutionResult:
    return ExecutionResult(test_id=test_id, verdict=verdict, wall_ms=cpu_ms, cpu_ms=cpu_ms, peak_kb=peak_kb,
                           instructions=None, **extra)  # type: ignore[arg-type]


def _suite(verdicts: list[Verdict], cpu_ms: float = 5.0, peak_kb: int = 100) -> SuiteResult:
    return SuiteResult(results=tuple(_result(str(i + 1), v, cpu_ms, peak_kb) for i, v in enumerate(verdicts)))


# -- static figures ---------------------------------------------------------------------------------


def test_lines_of_code_skip_blanks_and_comments() -> None:
    code = "# a header comment\n\ndef f(x):\n    # inside\n\n    y = x + 1  # trailing comment counts\n    return y\n"
    assert static_metrics(code).lines_of_code == 3


def test_straight_line_code_has_complexity_one() -> None:
    assert static_metrics("def f(x):\n    return x + 1\n").complexity == 1


@pytest.mark.parametrize(("code", "complexity"), [
    ("def f(x):\n    if x:\n        return 1\n    elif x > 2:\n        return 2\n    return 3\n", 3),
    ("def f(x):\n    for i in x:\n        while i:\n            i -= 1\n", 3),
    ("def f(a, b, c):\n    return a and b and c\n", 3),  # one BoolOp with three values: two decisions
    ("def f(a, b, c):\n    return (a and b) or c\n", 3),
    ("def f(x):\n    return [y for y in x if y]\n", 2),
    ("def f(x):\n    return {a: b for a in x for b in x}\n", 3),
    ("def f(x):\n    return 1 if x else 2\n", 2),
    ("def f(x):\n    try:\n        return 1 / x\n    except ZeroDivisionError:\n        return 0\n", 2),
])
def test_complexity_counts_branches_bool_ops_and_comprehensions(code: str, complexity: int) -> None:
    assert static_metrics(code).complexity == complexity


def test_unparsable_code_still_counts_lines() -> None:
    metrics = static_metrics("def f(:\n    return\n")
    assert (metrics.lines_of_code, metrics.complexity) == (2, 1)


# -- the report -------------------------------------------------------------------------------------


def test_report_shows_pass_rate_each_test_and_what_went_wrong() -> None:
    problem = _problem()
    suite = SuiteResult(results=(
        _result("1"),
        _result("2", Verdict.WA, expected="2", actual="3", detail="values differ"),
        _result("3", Verdict.RE, error=RunError(type="ZeroDivisionError", message="division by zero", line=7)),
    ))
    report = render_report(problem, SOURCE, suite)
    assert "Pass rate: 1/3 (33%)" in report
    assert "Test 1: PASS" in report
    assert "Test 2: FAIL (WA)" in report
    assert "Test 3: FAIL (RE)" in report
    assert "expected: 2" in report and "actual: 3" in report and "detail: values differ" in report
    assert "error: ZeroDivisionError: division by zero (line 7)" in report
    assert "input: assert total([1, 1]) == 2" in report  # the failing test's input
    assert "input: assert total([0, 1]) == 1" not in report  # passing tests show no detail
    assert "Lines of code:" in report and "cyclomatic complexity: 2" in report
    assert "Total CPU time:" in report and "peak memory:" in report


def test_report_of_a_stdio_problem_shows_the_input() -> None:
    problem = Problem(path=Path("/nowhere/p.py"), source="print(int(input()) * 2)\n", kind=ProblemKind.PROGRAM,
                      target=WholeFile(),
                      tests=(Case(id="a", kind=Kind.STDIO, input="21\n", expected="42\n"),))
    suite = SuiteResult(results=(_result("a", Verdict.WA, expected="42\n", actual="41\n"),))
    report = render_report(problem, problem.source, suite)
    assert "Pass rate: 0/1 (0%)" in report
    assert "input: 21" in report and "expected: 42" in report and "actual: 41" in report


def test_report_clips_long_fields() -> None:
    suite = SuiteResult(results=(_result("1", Verdict.WA, expected="x" * 5000, actual="y" * 5000),))
    report = render_report(_problem(tests=1), SOURCE, suite)
    assert "x" * 5000 not in report and "..." in report
    assert max(len(line) for line in report.splitlines()) < 400


# -- parsing the programmer -------------------------------------------------------------------------


def test_programmer_reply_takes_the_last_python_block() -> None:
    reply = ("First idea:\n```python\ndef total(xs):\n    return 0\n```\nBetter:\n"
             "```python\ndef total(xs):\n    return sum(xs)\n```\nDone.")
    parsed = parse_programmer(reply, TOTAL, SOURCE)
    assert parsed.problem is None
    assert parsed.code == "def total(xs):\n    return sum(xs)\n"
    assert "First idea" in parsed.reasoning and "Done." in parsed.reasoning
    assert "return sum" not in parsed.reasoning


@pytest.mark.parametrize("fence", ["```python", "```py", "```Python3", "```"])
def test_programmer_reply_accepts_common_fences(fence: str) -> None:
    parsed = parse_programmer(f"ok\n{fence}\ndef total(xs):\n    return sum(xs)\n```\n", TOTAL, SOURCE)
    assert parsed.problem is None and parsed.code is not None and "sum(xs)" in parsed.code


def test_programmer_reply_without_a_block() -> None:
    parsed = parse_programmer("def total(xs): return sum(xs)", TOTAL, SOURCE)
    assert parsed.code is None
    assert parsed.problem == "no code block"


def test_programmer_reply_with_a_syntax_error() -> None:
    parsed = parse_programmer("```python\ndef total(xs)\n    return sum(xs)\n```", TOTAL, SOURCE)
    assert parsed.problem is not None and parsed.problem.startswith("syntax error")
    assert "line 1" in parsed.problem


def test_programmer_reply_that_misses_the_target() -> None:
    parsed = parse_programmer("```python\ndef add_all(xs):\n    return sum(xs)\n```", TOTAL, SOURCE)
    assert parsed.problem == "the code does not define total"


def test_programmer_reply_may_assign_a_target_the_file_binds_by_assignment() -> None:
    bound = "total = sum\n"
    assert parse_programmer("```python\ntotal = sum\n```", TOTAL, bound).problem is None
    assert parse_programmer("```python\ndef total(xs):\n    return sum(xs)\n```", TOTAL, bound).problem is None


def test_programmer_reply_must_define_a_def_target_as_a_def() -> None:
    assert parse_programmer("```python\ntotal = sum\n```", TOTAL, SOURCE).problem == (
        "the code assigns total instead of defining it: keep it a plain def (not async)")
    assert parse_programmer("```python\nclass total:\n    pass\n```", TOTAL, SOURCE).problem == (
        "the code defines total as a class, but it is a plain def (not async): keep it a plain def (not async)")


def test_programmer_reply_for_a_program_needs_no_function() -> None:
    assert parse_programmer("```python\nprint(input())\n```", WholeFile(), "print(1)\n").problem is None


# -- parsing the critic -----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "score"), [
    ("Looks fine.\nScore: 4", 4),
    ("score = 3/5", 3),
    ("**Score:** 5", 5),
    ("Overall the score is 2 out of 5.", 2),
    ("Score: 1\n...on reflection...\nScore: 3", 3),  # the last one counts
    ("SCORE:2", 2),
    ("Score: 9", None),  # out of range
    ("Nothing to grade here.", None),
])
def test_critic_score_variants(text: str, score: int | None) -> None:
    assert parse_critic(text).score == score


@pytest.mark.parametrize(("text", "final"), [
    ("Score: 5\nFinal: yes", True),
    ("Score: 5\n**Final:** yes", True),
    ("Score: 5\nfinal = true", True),
    ("Score: 5\nFinal: no", False),
    ("Score: 5\nFinally, yes, it is fast.", False),
    ("Score: 5", False),
])
def test_critic_final_marker(text: str, final: bool) -> None:
    assert parse_critic(text).final is final


def test_critic_critique_is_kept_and_bounded() -> None:
    reply = parse_critic("  Use a set.\nScore: 3  ")
    assert reply.critique == "Use a set.\nScore: 3"
    assert len(parse_critic("x" * 10_000).critique) <= 4000


# -- prompts and their budget -----------------------------------------------------------------------


def _size(messages: list[dict[str, str]]) -> int:
    return sum(len(m["content"]) for m in messages)


def test_first_round_prompt_has_task_code_tests_and_strategy() -> None:
    messages = programmer_messages(_problem(), [], hint(0), 24_000)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[0]["content"] == PROGRAMMER_SYSTEM
    user = messages[1]["content"]
    assert "The sum of xs." in user and "def total(xs):" in user
    assert "assert total([2, 1]) == 3" in user
    assert hint(0) in user


def _attempts(count: int, size: int) -> list[Attempt]:
    return [Attempt(code=f"def total(xs):  # ATTEMPT-{i:02d}\n" + "    pass\n" * (size // 9),
                    report=f"Pass rate: 0/3 (0%) REPORT-{i:02d}\n" + "r" * size,
                    critique=f"CRITIQUE-{i:02d} " + "c" * size + "\nScore: 2") for i in range(count)]


@pytest.mark.parametrize(("budget", "size"), [(4_000, 300), (24_000, 1500)])
def test_programmer_prompt_drops_the_oldest_attempts_first(budget: int, size: int) -> None:
    trajectory = _attempts(20, size)
    messages = programmer_messages(_problem(), trajectory, hint(3), budget)
    assert _size(messages) <= budget
    user = messages[-1]["content"]
    assert "ATTEMPT-19" in user and "REPORT-19" in user and "CRITIQUE-19" in user  # the latest stays
    assert "ATTEMPT-00" not in user  # the oldest goes first
    assert "omitted" in user
    kept = [i for i in range(20) if f"ATTEMPT-{i:02d}" in user]
    assert len(kept) >= 2
    assert hint(3) in user  # the instruction after the history survives
    assert kept == list(range(kept[0], 20))  # a suffix of the trajectory: nothing from the middle dropped
    assert f"### Attempt {kept[0] + 1}\n" in user  # attempts keep their numbers


def test_programmer_prompt_keeps_the_whole_trajectory_when_it_fits() -> None:
    messages = programmer_messages(_problem(), _attempts(3, 50), hint(1), 24_000)
    user = messages[-1]["content"]
    assert all(f"ATTEMPT-{i:02d}" in user for i in range(3))
    assert "omitted" not in user
    assert hint(1) in user


def test_programmer_prompt_with_one_huge_attempt_stays_within_budget() -> None:
    messages = programmer_messages(_problem(), _attempts(1, 60_000), hint(0), 6_000)
    assert _size(messages) <= 6_000
    assert "ATTEMPT-00" in messages[-1]["content"]


def test_programmer_prompt_with_one_huge_attempt_keeps_the_instruction() -> None:
    messages = programmer_messages(_problem(), _attempts(1, 60_000), hint(0), 6_000)
    assert hint(0) in messages[-1]["content"]


def test_critic_prompt_stays_within_budget() -> None:
    problem = _problem(tests=200)
    code = "def total(xs):\n" + "    x = 1\n" * 5000
    report = "Pass rate: 0/200 (0%)\n" + "Test 1: FAIL (WA)\n" * 5000
    for budget in (3_000, 24_000):
        messages = critic_messages(problem, code, report, budget)
        assert _size(messages) <= budget
        assert messages[0]["content"] == CRITIC_SYSTEM
        assert "## Candidate" in messages[-1]["content"]


def test_critic_prompt_contains_candidate_and_report_when_small() -> None:
    messages = critic_messages(_problem(), "def total(xs):\n    return sum(xs)\n", "Pass rate: 3/3 (100%)", 24_000)
    user = messages[-1]["content"]
    assert "return sum(xs)" in user and "Pass rate: 3/3 (100%)" in user and "Review the candidate." in user


def test_strategy_hints_are_many_distinct_and_cycle() -> None:
    assert len(set(STRATEGY_HINTS)) >= 12
    assert len(set(STRATEGY_HINTS)) == len(STRATEGY_HINTS)
    count = len(STRATEGY_HINTS)
    assert [hint(i) for i in range(count)] == list(STRATEGY_HINTS)
    assert hint(count) == hint(0) and hint(count + 5) == hint(5) and hint(3 * count - 1) == hint(count - 1)
