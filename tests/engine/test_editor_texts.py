"""What an editor shows, as plain text and line numbers: ``orps_engine/report/editor.py`` and the
one-liners of ``orps_engine/report/refine.py`` (progress and the refine hint), on records built by
hand. No editor, no sandbox, no model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orps_engine.measure import CountChange, CountUse, compare, count_change
from orps_engine.model.client import Usage
from orps_engine.problem import FunctionTarget, Problem, ProblemKind, WholeFile
from orps_engine.problem import TestCase as Case  # aliased: pytest would collect a Test* class
from orps_engine.problem import TestKind as Kind
from orps_engine.report.editor import (
    NEAR_LIMIT,
    Note,
    def_line,
    efficiency_notes,
    failure_notes,
    failure_text,
    hover_markdown,
    result_label,
    suite_line,
    summary,
)
from orps_engine.report.refine import delta_table, format_refine, progress_text, refine_document, refine_line
from orps_engine.results import ExecutionResult, RunError, SuiteResult, Verdict
from orps_engine.search import ORIGINAL, Delta, Event, EventKind, Node, RefineResult

SOL = Path("/work/calc.py")
SIDECAR = Path("/work/calc.tests.json")

SOURCE = '''"""A calculator."""
import functools


def helper(x):
    return x


@functools.cache
@staticmethod
def add(a, b):
    return a + b


async def fetch():
    return 1


class Box:
    def add(self):
        return 0
'''
# 1-based lines in SOURCE
HELPER_DEF, ADD_DEF, FETCH_DEF, BOX_DEF = 5, 11, 15, 19


def problem(*, kind: ProblemKind = ProblemKind.MODULE, function: str | None = "add", source: str = SOURCE,
            tests: tuple[Case, ...] = (), **kw: Any) -> Problem:
    target = FunctionTarget(function) if function else WholeFile()
    return Problem(path=SOL, source=source, kind=kind, target=target, tests=tests, **kw)


def sidecar_test(test_id: str, line: int) -> Case:
    return Case(id=test_id, kind=Kind.ASSERT, path=SIDECAR, line=line, source=f"assert add({line}, 0) == 0")


def result(test_id: str, verdict: Verdict = Verdict.AC, *, cpu_ms: float | None = 1.0, peak_kb: int | None = 100,
           **kw: Any) -> ExecutionResult:
    return ExecutionResult(test_id=test_id, verdict=verdict, wall_ms=cpu_ms, cpu_ms=cpu_ms, peak_kb=peak_kb,
                           instructions=None, **kw)


def suite(*results: ExecutionResult) -> SuiteResult:
    return SuiteResult(results=results)


def passing(n: int, cpu_ms: float = 1.0, peak_kb: int = 100) -> list[ExecutionResult]:
    return [result(str(i), cpu_ms=cpu_ms, peak_kb=peak_kb) for i in range(1, n + 1)]


# -- def_line --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("function", "line"), [("helper", HELPER_DEF), ("fetch", FETCH_DEF), ("Box", BOX_DEF)])
def test_def_line_is_the_line_of_the_top_level_def(function: str, line: int) -> None:
    assert def_line(problem(function=function)) == line


def test_def_line_of_a_decorated_function_is_its_def_not_its_first_decorator() -> None:
    assert SOURCE.splitlines()[ADD_DEF - 1].startswith("def add")
    assert def_line(problem(function="add")) == ADD_DEF


def test_def_line_of_a_program_is_1() -> None:
    assert def_line(problem(kind=ProblemKind.PROGRAM, function=None)) == 1


@pytest.mark.parametrize("function", [None, "", "missing"])
def test_def_line_without_a_function_found_is_1(function: str | None) -> None:
    assert def_line(problem(function=function)) == 1


def test_def_line_ignores_methods_and_nested_functions_of_the_same_name() -> None:
    source = "class A:\n    def f(self):\n        pass\n\n\ndef g():\n    def f():\n        pass\n"
    assert def_line(problem(function="f", source=source)) == 1


def test_def_line_of_unparsable_source_is_1() -> None:
    assert def_line(problem(function="add", source="def add(a, b:\n    return a\n")) == 1


# -- suite_line and result_label --------------------------------------------------------------------
def test_suite_line_shows_passed_the_slowest_cpu_and_the_largest_peak() -> None:
    results = passing(12, cpu_ms=0.4, peak_kb=2048)
    results[4] = result("5", cpu_ms=1.3, peak_kb=1024)
    results[7] = result("8", cpu_ms=0.2, peak_kb=12 * 1024)
    assert suite_line(suite(*results)) == "12/12 passed, 1.3 ms, 12.0 MB"


def test_suite_line_counts_failures_and_formats_larger_figures() -> None:
    text = suite_line(suite(result("1", cpu_ms=12.4, peak_kb=900), result("2", Verdict.WA, cpu_ms=1500.0,
                                                                          peak_kb=3 * 1024 * 1024)))
    assert text == "1/2 passed, 1.50 s, 3.0 GB"


def test_suite_line_shows_unmeasured_figures_as_n_a() -> None:
    assert suite_line(suite(result("1", Verdict.HARNESS, cpu_ms=None, peak_kb=None))) == "0/1 passed, n/a, n/a"
    # one unmeasured test does not hide the others' figures
    assert suite_line(suite(result("1", cpu_ms=None, peak_kb=None), result("2", cpu_ms=2.5, peak_kb=512))) \
        == "2/2 passed, 2.5 ms, 0.50 MB"
    assert suite_line(suite()) == "0/0 passed, n/a, n/a"


def test_result_label_is_verdict_and_cpu() -> None:
    assert result_label(result("1", Verdict.TLE, cpu_ms=2000.0)) == "TLE 2.00 s"
    assert result_label(result("1", Verdict.HARNESS, cpu_ms=None)) == "HARNESS n/a"


# -- failure_text ----------------------------------------------------------------------------------
def test_wrong_answer_shows_expected_and_got() -> None:
    assert failure_text(result("3", Verdict.WA, expected="5", actual="4")) == "test 3 expected 5, got 4"


def test_wrong_answer_collapses_whitespace() -> None:
    text = failure_text(result("2", Verdict.WA, expected="1 2\n3\n", actual="  1\t2\n\n3  4\n"))
    assert text == "test 2 expected 1 2 3, got 1 2 3 4"


def test_wrong_answer_cuts_long_values_to_60_characters() -> None:
    long = " ".join(str(i) for i in range(100))
    text = failure_text(result("1", Verdict.WA, expected=long, actual="[" + "x" * 200 + "]"))
    expected, got = text.removeprefix("test 1 expected ").split(", got ")
    assert len(expected) == len(got) == 60
    assert expected.endswith("...") and got.endswith("...")
    assert expected == long[:57] + "..."
    # exactly at the limit: not cut
    assert failure_text(result("1", Verdict.WA, expected="a" * 60, actual="b")) == f"test 1 expected {'a' * 60}, got b"


def test_wrong_answer_without_both_sides_names_the_verdict() -> None:
    text = failure_text(result("4", Verdict.WA, expected=None, actual=None, detail="assertion failed"))
    assert text == "test 4: WA, wrong answer (assertion failed)"


def test_runtime_error_shows_type_message_and_line() -> None:
    error = RunError(type="ZeroDivisionError", message="division by zero", line=7, path=str(SOL))
    assert failure_text(result("3", Verdict.RE, error=error)) == "test 3: ZeroDivisionError: division by zero (line 7)"
    no_line = RunError(type="ProcessExit", message="exit code 3")
    assert failure_text(result("3", Verdict.RE, error=no_line)) == "test 3: ProcessExit: exit code 3"


@pytest.mark.parametrize(("verdict", "named"), [(Verdict.TLE, "time limit exceeded"),
                                                (Verdict.MLE, "memory limit exceeded"),
                                                (Verdict.OLE, "output limit exceeded"),
                                                (Verdict.HARNESS, "could not be judged")])
def test_limit_verdicts_are_named(verdict: Verdict, named: str) -> None:
    assert failure_text(result("5", verdict, detail="over the limit")) == f"test 5: {verdict.value}, {named} " \
                                                                          "(over the limit)"
    assert failure_text(result("5", verdict)) == f"test 5: {verdict.value}, {named}"


# -- summary ---------------------------------------------------------------------------------------
def test_summary_counts_failures_and_shows_the_first() -> None:
    results = passing(12)
    results[2] = result("3", Verdict.WA, expected="5", actual="4")
    results[8] = result("9", Verdict.TLE)
    assert summary(suite(*results)) == "2 of 12 tests fail: test 3 expected 5, got 4"


def test_summary_when_everything_passes() -> None:
    assert summary(suite(*passing(12))) == "all 12 tests pass"
    assert summary(suite(*passing(1))) == "all 1 tests pass"


# -- failure_notes ---------------------------------------------------------------------------------
def test_failure_notes_put_errors_at_each_failing_sidecar_test_and_the_summary_on_the_def() -> None:
    tests = tuple(sidecar_test(str(i), line=3 + i) for i in range(1, 5))
    results = suite(result("1"), result("2", Verdict.WA, expected="3", actual="-1"), result("3"),
                    result("4", Verdict.TLE, detail="CPU time over the 2 s limit"))
    notes = failure_notes(problem(tests=tests), results)
    assert notes == [
        Note(path=SIDECAR, line=5, message="test 2 expected 3, got -1", severity="error", test_id="2"),
        Note(path=SIDECAR, line=7, message="test 4: TLE, time limit exceeded (CPU time over the 2 s limit)",
             severity="error", test_id="4"),
        Note(path=SOL, line=ADD_DEF, message="2 of 4 tests fail: test 2 expected 3, got -1", severity="error"),
    ]


def test_failure_notes_at_doctest_lines_in_the_solution_itself() -> None:
    source = 'def double(x):\n    """\n    >>> double(2)\n    4\n    >>> double(0)\n    0\n    """\n    return x + 2\n'
    tests = (Case(id="double:1", kind=Kind.DOCTEST, path=SOL, line=3, source="double(2)\n", want="4\n"),
             Case(id="double:2", kind=Kind.DOCTEST, path=SOL, line=5, source="double(0)\n", want="0\n"))
    notes = failure_notes(problem(function="double", source=source, tests=tests),
                          suite(result("double:1"), result("double:2", Verdict.WA, expected="0\n", actual="2\n")))
    assert [(n.path, n.line, n.message) for n in notes] == [
        (SOL, 5, "test double:2 expected 0, got 2"),
        (SOL, 1, "1 of 2 tests fail: test double:2 expected 0, got 2"),
    ]


def test_failure_notes_add_a_runtime_error_at_the_users_line() -> None:
    error = RunError(type="ZeroDivisionError", message="division by zero", line=12, path=str(SOL))
    notes = failure_notes(problem(tests=(sidecar_test("1", 4),)), suite(result("1", Verdict.RE, error=error)))
    assert notes == [
        Note(path=SIDECAR, line=4, message="test 1: ZeroDivisionError: division by zero (line 12)", severity="error",
             test_id="1"),
        Note(path=SOL, line=12, message="ZeroDivisionError: division by zero (test 1)", severity="error",
             test_id="1"),
        Note(path=SOL, line=ADD_DEF, message="1 of 1 tests fail: test 1: ZeroDivisionError: division by zero "
                                             "(line 12)", severity="error"),
    ]


def test_a_runtime_error_without_a_line_gets_no_extra_note() -> None:
    error = RunError(type="SIGKILL", message="killed by a signal", path=str(SOL))
    notes = failure_notes(problem(tests=(sidecar_test("1", 4),)), suite(result("1", Verdict.RE, error=error)))
    assert [(n.path, n.line) for n in notes] == [(SIDECAR, 4), (SOL, ADD_DEF)]


def test_failure_notes_fall_back_to_the_def_line_for_tests_without_a_place() -> None:
    stdio = (Case(id="1", kind=Kind.STDIO, input="1\n", expected="2\n"),
             Case(id="2", kind=Kind.STDIO, path=SIDECAR, line=None, input="2\n", expected="3\n"))
    results = suite(result("1", Verdict.WA, expected="2\n", actual="3\n"),
                    result("2", Verdict.WA, expected="3\n", actual="4\n"),
                    result("unknown", Verdict.MLE))
    notes = failure_notes(problem(kind=ProblemKind.PROGRAM, function=None, tests=stdio), results)
    assert [(n.path, n.line, n.test_id) for n in notes] == [(SOL, 1, "1"), (SOL, 1, "2"), (SOL, 1, "unknown"),
                                                             (SOL, 1, None)]
    assert notes[-1].message == "3 of 3 tests fail: test 1 expected 2, got 3"


def test_no_failure_notes_when_everything_passes() -> None:
    tests = tuple(sidecar_test(str(i), i) for i in range(1, 4))
    assert failure_notes(problem(tests=tests), suite(*passing(3))) == []


# -- efficiency_notes ------------------------------------------------------------------------------
def test_efficiency_notes_flag_tests_near_the_time_limit_and_name_the_slowest() -> None:
    tests = tuple(sidecar_test(str(i), 10 + i) for i in range(1, 4))
    p = problem(tests=tests, time_limit_s=2.0, memory_limit_mb=64)
    results = suite(result("1", cpu_ms=100.0), result("2", cpu_ms=1700.0), result("3", cpu_ms=1600.0))
    notes = efficiency_notes(p, results)
    assert notes == [
        Note(path=SIDECAR, line=12, severity="information", test_id="2",
             message="test 2 uses 85% of the 2 s time limit (1.70 s)"),
        Note(path=SIDECAR, line=13, severity="information", test_id="3",
             message="test 3 uses 80% of the 2 s time limit (1.60 s)"),
        Note(path=SOL, line=ADD_DEF, severity="hint", test_id="2", message="slowest test: 2 (1.70 s CPU)"),
    ]


def test_efficiency_notes_flag_tests_near_the_memory_limit() -> None:
    p = problem(tests=(sidecar_test("1", 2), sidecar_test("2", 3)), memory_limit_mb=100)
    results = suite(result("1", peak_kb=int(0.9 * 100 * 1024)), result("2", peak_kb=int(0.79 * 100 * 1024)))
    notes = [n for n in efficiency_notes(p, results) if n.severity == "information"]
    assert notes == [Note(path=SIDECAR, line=2, severity="information", test_id="1",
                          message="test 1 uses 90% of the 100 MB memory limit")]


def test_the_threshold_is_80_percent_inclusive_and_failing_tests_are_not_flagged() -> None:
    assert NEAR_LIMIT == 0.8
    p = problem(tests=(), time_limit_s=1.0, memory_limit_mb=10)
    results = suite(result("1", cpu_ms=799.0, peak_kb=8191),
                    result("2", Verdict.TLE, cpu_ms=2000.0, peak_kb=10 * 1024),
                    result("3", Verdict.MLE, cpu_ms=900.0, peak_kb=20 * 1024))
    notes = efficiency_notes(p, results)
    assert [n.severity for n in notes] == ["hint"]
    assert notes[0].message == "slowest test: 2 (2.00 s CPU)"  # the slowest is named whatever its verdict
    exact = efficiency_notes(p, suite(result("1", cpu_ms=800.0, peak_kb=8192)))
    assert [n.message for n in exact] == ["test 1 uses 80% of the 1 s time limit (800 ms)",
                                          "test 1 uses 80% of the 10 MB memory limit"]


def test_the_slowest_test_needs_two_timed_tests() -> None:
    p = problem()
    assert efficiency_notes(p, suite(result("1", cpu_ms=50.0))) == []
    assert efficiency_notes(p, suite(result("1", cpu_ms=50.0), result("2", Verdict.HARNESS, cpu_ms=None))) == []
    two = efficiency_notes(p, suite(result("1", cpu_ms=50.0), result("2", cpu_ms=0.5)))
    assert two == [Note(path=SOL, line=ADD_DEF, severity="hint", test_id="1", message="slowest test: 1 (50 ms CPU)")]


def test_the_slowest_test_is_named_only_where_it_stands_out() -> None:
    p = problem()
    alike = suite(result("1", cpu_ms=40.0), result("2", cpu_ms=50.0), result("3", cpu_ms=45.0))
    assert efficiency_notes(p, alike) == []  # every passing function would carry a hint otherwise
    fast = suite(result("1", cpu_ms=0.5), result("2", cpu_ms=4.0))
    assert efficiency_notes(p, fast) == []  # far above the other, but all of it within the noise
    one = suite(result("1", cpu_ms=40.0), result("2", cpu_ms=200.0), result("3", cpu_ms=45.0))
    assert [n.message for n in efficiency_notes(p, one)] == ["slowest test: 2 (200 ms CPU)"]


# -- hover_markdown --------------------------------------------------------------------------------
def test_hover_is_a_headline_and_a_table_row_per_test() -> None:
    results = suite(result("1", cpu_ms=1.3, peak_kb=12 * 1024), result("2", Verdict.WA, cpu_ms=25.0, peak_kb=800),
                    result("3", Verdict.HARNESS, cpu_ms=None, peak_kb=None))
    text = hover_markdown(problem(), results)
    assert text == ("**orps**: 1/3 passed, 25 ms, 12.0 MB\n\n"
                    "| test | verdict | CPU | memory |\n"
                    "|---|---|---|---|\n"
                    "| 1 | AC | 1.3 ms | 12.0 MB |\n"
                    "| 2 | WA | 25 ms | 0.78 MB |\n"
                    "| 3 | HARNESS | n/a | n/a |")
    assert "critique" not in text.lower()
    assert hover_markdown(problem(), results, critique="") == text


def test_hover_ends_with_the_latest_critique() -> None:
    text = hover_markdown(problem(), suite(*passing(2)), critique="\n  Use a sieve.\nScore: 4\n\n")
    table, critique = text.split("\n\n**Latest ORPS critique**\n\n")
    assert table.startswith("**orps**: 2/2 passed")
    assert critique == "Use a sieve.\nScore: 4"


# -- progress_text ---------------------------------------------------------------------------------
def node(node_id: str, *, passed: int, total: int, cpu_ms: float, round: int = 0,
         critique: str = "") -> Node:
    results = [result(str(i), cpu_ms=cpu_ms / total) for i in range(1, passed + 1)]
    results += [result(str(i), Verdict.WA, cpu_ms=cpu_ms / total) for i in range(passed + 1, total + 1)]
    return Node(id=node_id, parent=None if node_id == ORIGINAL else ORIGINAL, round=round,
                code=f"# {node_id}\n", suite=suite(*results), critique=critique)


ORIGINAL_NODE = node(ORIGINAL, passed=10, total=12, cpu_ms=36.0, round=-1)


def test_progress_at_the_start_shows_the_original() -> None:
    event = Event(EventKind.START, 0, 3, original=ORIGINAL_NODE, best=ORIGINAL_NODE)
    assert progress_text(event) == "original: 10/12"


def test_progress_of_a_round_counts_candidates_and_compares_the_best_with_the_original() -> None:
    best = node("r1-0", passed=12, total=12, cpu_ms=20.0, round=1)
    event = Event(EventKind.CANDIDATE, 1, 3, 4, 8, best=best, original=ORIGINAL_NODE)
    assert progress_text(event) == "Round 2/3, 4/8 candidates, best 12/12, 1.8x less CPU"
    slower = node("r1-1", passed=12, total=12, cpu_ms=72.0, round=1)
    assert progress_text(Event(EventKind.ROUND, 1, 3, 0, 8, best=slower, original=ORIGINAL_NODE)) \
        == "Round 2/3, 0/8 candidates, best 12/12, 2.0x more CPU"


def test_progress_while_the_original_is_still_best_has_no_ratio() -> None:
    event = Event(EventKind.ROUND, 0, 3, 0, 4, best=ORIGINAL_NODE, original=ORIGINAL_NODE)
    assert progress_text(event) == "Round 1/3, 0/4 candidates, best 10/12"


def test_progress_without_a_result_yet() -> None:
    assert progress_text(Event(EventKind.ROUND, 0, 2, 0, 4)) == "Round 1/2, 0/4 candidates, no result yet"
    unevaluated = Node(id="r0-0", parent=ORIGINAL, round=0, code="x")
    assert progress_text(Event(EventKind.CANDIDATE, 0, 2, 1, 4, best=unevaluated)) \
        == "Round 1/2, 1/4 candidates, no result yet"


def test_progress_measure_and_done() -> None:
    best = node("r0-2", passed=12, total=12, cpu_ms=12.0)
    measuring = Event(EventKind.MEASURE, 2, 3, best=best, original=ORIGINAL_NODE,
                      message="measuring the pick (5 runs each)")
    assert progress_text(measuring) == "measuring the pick (5 runs each)"
    assert progress_text(Event(EventKind.DONE, 2, 3, best=best, original=ORIGINAL_NODE)) \
        == "done: best 12/12, 3.0x less CPU"
    stopped = Event(EventKind.DONE, 1, 3, best=best, original=ORIGINAL_NODE, message="no improvement in a round")
    assert progress_text(stopped) == "done: best 12/12, 3.0x less CPU (no improvement in a round)"


# -- refine_line -----------------------------------------------------------------------------------
def refine_result(best: Node, delta: Delta | None, original: Node = ORIGINAL_NODE) -> RefineResult:
    nodes = [original] if best is original else [original, best]
    return RefineResult(problem=problem(), original=original, best=best, nodes=nodes, usage=Usage(), rounds_run=2,
                        delta=delta)


def delta(before: list[float], after: list[float]) -> Delta:
    return Delta(cpu=compare(before, after), peak=compare([100.0] * 5, [100.0] * 5), repeats=len(before))


BEST = node("r1-3", passed=12, total=12, cpu_ms=10.0, round=1, critique="Use a sieve.")


def test_refine_line_with_a_significant_cpu_gain() -> None:
    change = delta([21.0, 20.5, 21.5, 21.2, 20.8], [10.0, 10.1, 9.9, 10.2, 10.0])
    assert change.cpu.significant and change.cpu.ratio == pytest.approx(2.1)
    assert refine_line(refine_result(BEST, change)) == "ORPS refinement: 12/12 passed, CPU 2.1x lower"


def test_refine_line_with_a_significant_cpu_loss() -> None:
    # the pick won on tests passed, and costs more CPU
    change = delta([10.0, 10.1, 9.9, 10.2, 10.0], [30.0, 30.5, 29.5, 30.2, 29.8])
    assert refine_line(refine_result(BEST, change)) == "ORPS refinement: 12/12 passed, CPU 3.0x higher"


def test_refine_line_when_the_cpu_change_is_not_significant() -> None:
    overlapping = delta([10.0, 12.0, 11.0, 10.5, 11.5], [9.0, 10.5, 9.5, 10.0, 9.8])
    assert not overlapping.cpu.significant
    assert refine_line(refine_result(BEST, overlapping)) == "ORPS refinement: 12/12 passed, no significant CPU change"
    tiny = delta([10.0] * 5, [9.8] * 5)  # separated, but within MIN_CHANGE
    assert not tiny.cpu.significant
    assert refine_line(refine_result(BEST, tiny)) == "ORPS refinement: 12/12 passed, no significant CPU change"


def test_refine_line_of_an_improvement_that_was_not_measured() -> None:
    assert refine_line(refine_result(BEST, None)) == "ORPS refinement: 12/12 passed"


def test_refine_line_when_no_candidate_beat_the_original() -> None:
    result = refine_result(ORIGINAL_NODE, None)
    assert not result.improved
    assert refine_line(result) == "ORPS refinement: no candidate beat the original (10/12 passed)"


# -- the bytecode count beside CPU time ------------------------------------------------------------------
CPU_TIE = [10.0, 12.0, 11.0, 10.5, 11.5], [9.0, 10.5, 9.5, 10.0, 9.8]


def counted_delta(before: int | None, after: int | None) -> Delta:
    cpu = compare(*CPU_TIE)
    return Delta(cpu=cpu, peak=compare([100.0] * 5, [100.0] * 5), repeats=5,
                 bytecodes=count_change(cpu, before, after))


def test_refine_line_when_the_count_decides_a_cpu_tie() -> None:
    decided = counted_delta(1_150_000, 1_000_000)
    assert decided.bytecodes is not None and decided.bytecodes.use is CountUse.DECIDES
    assert refine_line(refine_result(BEST, decided)) == \
        "ORPS refinement: 12/12 passed, CPU within noise, 1.15x fewer bytecodes"
    untracked = counted_delta(10_000_000, 1_000_000)  # far more than the CPU runs allow: decides nothing
    assert refine_line(refine_result(BEST, untracked)) == "ORPS refinement: 12/12 passed, no significant CPU change"


def table_row(delta: Delta, name: str) -> str:
    line = next(line for line in delta_table(refine_result(BEST, delta)).splitlines() if line.startswith(name))
    return " ".join(line.split())


def test_the_delta_table_shows_the_count_and_what_it_did() -> None:
    assert table_row(counted_delta(1_150_000, 1_000_000), "bytecodes") == \
        "bytecodes 1.1M 1.0M 1.15x fewer (decides: CPU time could not tell)"
    assert table_row(counted_delta(10_000_000, 1_000_000), "bytecodes") == \
        "bytecodes 10.0M 1.0M 10.00x fewer (not used: does not track CPU time here)"
    assert table_row(counted_delta(1_000_000, 1_000_000), "bytecodes") == \
        "bytecodes 1.0M 1.0M the same (agrees with CPU time)"
    assert table_row(counted_delta(None, 1_000_000), "bytecodes") == "bytecodes unavailable 1.0M not counted"
    cpu = compare([21.0, 20.5, 21.5, 21.2, 20.8], [10.0, 10.1, 9.9, 10.2, 10.0])
    skipped = Delta(cpu=cpu, peak=cpu, repeats=5,
                    bytecodes=CountChange(before=None, after=None, ratio=None, use=CountUse.SKIPPED))
    assert table_row(skipped, "bytecodes") == "bytecodes - - not counted: CPU time decided"


def test_the_refine_text_says_how_a_change_was_decided() -> None:
    text = format_refine(refine_result(BEST, counted_delta(1_150_000, 1_000_000)))
    line = next(line for line in text.splitlines() if line.startswith("measured:"))
    assert "5 interleaved runs each" in line and "rank test gives p < 0.01" in line and "over 3%" in line
    assert "CPU: p = " in line and "bytecodes: one traced run each" in line


def test_the_json_delta_carries_the_count_and_the_p_value() -> None:
    delta = refine_document(refine_result(BEST, counted_delta(1_150_000, 1_000_000)))["delta"]
    assert delta["significant"] is True and delta["bytecodes_use"] == "decides"
    assert delta["bytecodes_ratio"] == 1.15 and 0 < delta["cpu_p"] <= 1
    none = refine_document(refine_result(ORIGINAL_NODE, None))["delta"]
    assert none["significant"] is False and none["bytecodes_use"] is None
