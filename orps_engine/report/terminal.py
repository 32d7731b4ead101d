"""The terminal view of a test run: a table, then the failures with input, expected vs actual
(a short diff) or the error, then ``N passed, M failed``. What the run printed or raised is shown
with its control characters escaped (``text.printable``), so it cannot move the cursor, write
the clipboard, or overwrite the summary with one of its own."""

from __future__ import annotations

import difflib

from .. import units
from ..problem import Problem, TestCase, TestKind
from ..results import ExecutionResult, SuiteResult, Verdict
from ..text import clip, columns, escaped_line, printable

MAX_SHOWN_LINES = 12
MAX_LINE = 200
MAX_ERROR_LINE = 1000


def results_table(results: tuple[ExecutionResult, ...], suite: SuiteResult | None = None) -> str:
    """One row per test: id, verdict, wall time, CPU time, peak memory; for a program, its CPU time as
    a judge shows it (the interpreter's start-up included); and bytecodes where any test was counted
    (``orps test --count-bytecodes``)."""
    counted = any(r.bytecodes is not None for r in results)
    judged = suite is not None and suite.startup_cpu_ms is not None
    header = ("test", "verdict", "time", "CPU", *(("judge",) if judged else ()), "memory",
              *(("bytecodes",) if counted else ()))
    rows = [(r.test_id, r.verdict.value, units.ms(r.wall_ms), units.ms(r.cpu_ms),
             *((units.ms(suite.judge_cpu_ms(r)),) if judged and suite is not None else ()), units.kb(r.peak_kb),
             *((units.count(r.bytecodes),) if counted else ())) for r in results]
    return columns([header, *rows])


def format_suite(problem: Problem, suite: SuiteResult) -> str:
    parts = [results_table(suite.results, suite)]
    tests = {t.id: t for t in problem.tests}
    for result in suite.results:
        if result.verdict is not Verdict.AC:
            parts.append(_failure(result, tests.get(result.test_id)))
    parts.extend(f"note: {note}" for note in dict.fromkeys(suite.notes))
    if suite.startup_cpu_ms is not None:
        startup = units.ms(suite.startup_cpu_ms)
        parts.append(f"note: judge = CPU + the interpreter's start-up ({startup} here), as a judge times "
                     f"python3 prog.py; memory is the whole process's peak, as a judge counts it")
    parts.append(f"{suite.passed} passed, {suite.failed} failed")
    return printable("\n\n".join(p for p in parts if p))


def _failure(result: ExecutionResult, test: TestCase | None) -> str:
    where = f" ({test.path.name}:{test.line})" if test and test.path and test.line else ""
    explained = f" - {escaped_line(result.detail, MAX_ERROR_LINE)}" if result.detail and result.error is None else ""
    lines = [f"test {result.test_id}{where}: {result.verdict.value}{explained}"]
    if test is not None:
        lines += text_block("input", test.shown_input)
    if result.error is not None:
        lines.append(f"  error: {escaped_line(str(result.error), MAX_ERROR_LINE)}")
    elif result.verdict is Verdict.WA and (result.expected is not None or result.actual is not None):
        lines += comparison_lines(result.expected or "", result.actual or "")
    if result.stdout and result.verdict is not Verdict.WA and test is not None and test.kind is not TestKind.STDIO:
        lines += text_block("printed", result.stdout)
    return "\n".join(lines)


def _lines(text: str) -> list[str]:
    """A run's text as the lines it prints: split at line feeds only, every other control shown
    (a ``\\r`` that would overwrite a line, a form feed), so each line stays indented under its label."""
    return printable(text.rstrip("\n")).split("\n") if text.rstrip("\n") else []


def text_block(label: str, text: str) -> list[str]:
    shown = _clip(_lines(text)) or ["(empty)"]
    if len(shown) == 1:
        return [f"  {label}: {shown[0]}"]
    return [f"  {label}:"] + [f"    {line}" for line in shown]


def comparison_lines(expected: str, actual: str) -> list[str]:
    exp_lines, act_lines = _lines(expected), _lines(actual)
    if len(exp_lines) <= 1 and len(act_lines) <= 1:
        return [f"  expected: {clip(''.join(exp_lines).strip(), MAX_LINE) or '(empty)'}",
                f"  actual:   {clip(''.join(act_lines).strip(), MAX_LINE) or '(empty)'}"]
    diff = list(difflib.unified_diff(exp_lines, act_lines, "expected", "actual", lineterm="", n=1))
    return ["  diff:"] + [f"    {line}" for line in _clip(diff)]


def _clip(lines: list[str]) -> list[str]:
    shown = [clip(line, MAX_LINE) for line in lines[:MAX_SHOWN_LINES]]
    if len(lines) > MAX_SHOWN_LINES:
        shown.append(f"... ({len(lines) - MAX_SHOWN_LINES} more lines)")
    return shown

