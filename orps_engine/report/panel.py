"""What the editor's test panel lists: a row per test of a file, with its last result (verdict or
"not run", times, memory), where the test comes from, whether the panel may edit it, and the
excerpts of its input, expected and actual output that the panel opens as read-only documents.

Texts only, escaped (``printable``): the editor shows them as given. Which tests are editable is
decided here, once: a program's stdin/stdout tests from its sidecar (``sidecar_edit`` writes that
file); a function's tests file is edited as text, and other tests live where the user keeps them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .. import units
from ..problem import Problem, ProblemKind, TestCase, TestKind
from ..problem.sidecar_edit import sidecar_path
from ..results import ExecutionResult, SuiteResult
from ..text import excerpt, printable

PART_CHARS = 20_000  # of each of input, expected and actual: what a document of the panel shows
NOT_RUN = "not run"


@dataclass(frozen=True, slots=True, kw_only=True)
class PanelRow:
    """One test, as the panel lists it. ``number``: its place among the file's tests (1-based, as
    ``orps test`` numbers them, and for an editable test its number in the sidecar too)."""

    number: int
    id: str
    kind: TestKind
    origin: str  # where it comes from: ``sum.tests.json:4``
    path: str | None
    line: int | None
    label: str
    description: str
    tooltip: str
    verdict: str | None  # None: not run (since the code or the test changed)
    wall_ms: float | None
    cpu_ms: float | None
    judge_cpu_ms: float | None  # the CPU time with the interpreter's start-up, as a judge shows it
    peak_kb: int | None
    input: str
    expected: str
    actual: str
    editable: bool


def adding_refusal(problem: Problem | None) -> str | None:
    """Why a stdin/stdout test cannot be added to this file (None: it can): only a program's tests,
    or a file with no tests yet, take one; a function's would be replaced by it."""
    if problem is None or problem.kind is ProblemKind.PROGRAM:
        return None
    return (f"{problem.path.name} is tested as a module (by {problem.origin or 'its tests'}): a stdin/stdout "
            f"test would replace those tests; add function tests where they are kept")


def editing_refusal(problem: Problem, number: int) -> str | None:
    """Why test ``number`` cannot be changed or deleted from the panel (None: it can)."""
    if not 1 <= number <= len(problem.tests):
        return f"no test {number}: {problem.path.name} has {len(problem.tests)}"
    test = problem.tests[number - 1]
    if _editable(problem, test):
        return None
    if test.kind is TestKind.ASSERT:
        return f"test {number} is an assert of a function's tests file: edit {_origin(test)} as text"
    return f"test {number} comes from {_origin(test)}: edit it there"


def panel_rows(problem: Problem, suite: SuiteResult | None) -> list[PanelRow]:
    """Every test of the file with its last result, in the order they run."""
    results = {r.test_id: r for r in suite.results} if suite is not None else {}
    return [_row(problem, suite, number, test, results.get(test.id))
            for number, test in enumerate(problem.tests, start=1)]


def _row(problem: Problem, suite: SuiteResult | None, number: int, test: TestCase,
         result: ExecutionResult | None) -> PanelRow:
    judged = suite.judge_cpu_ms(result) if suite is not None and result is not None else None
    label = f"Test {number}" if test.id == str(number) else f"Test {number} ({printable(test.id.rpartition('::')[2])})"
    if result is None:
        description = NOT_RUN
        tooltip = f"{label}, from {_origin(test)}: not run since the code or the test changed"
    else:
        time = judged if judged is not None else result.cpu_ms
        description = f"{result.verdict.value} {units.ms(time)} {units.kb(result.peak_kb)}"
        lines = [f"{label}, from {_origin(test)}: {result.verdict.value}",
                 f"CPU {units.ms(result.cpu_ms)}" + (f" (judge {units.ms(judged)}, with start-up)" if judged else "")
                 + f", wall {units.ms(result.wall_ms)}, memory {units.kb(result.peak_kb)}"]
        if result.detail:
            lines.append(printable(result.detail))
        elif result.error is not None:
            lines.append(printable(str(result.error)))
        tooltip = "\n".join(lines)
    return PanelRow(number=number, id=test.id, kind=test.kind, origin=_origin(test),
                   path=str(test.path) if test.path is not None else None, line=test.line,
                   label=label, description=description, tooltip=tooltip,
                   verdict=result.verdict.value if result is not None else None,
                   wall_ms=result.wall_ms if result else None, cpu_ms=result.cpu_ms if result else None,
                   judge_cpu_ms=judged, peak_kb=result.peak_kb if result else None,
                   input=_part(test.shown_input), expected=_part(_expected(test)),
                   actual=_part(_actual(result)), editable=_editable(problem, test))


def _editable(problem: Problem, test: TestCase) -> bool:
    return (problem.kind is ProblemKind.PROGRAM and test.kind is TestKind.STDIO and test.path is not None
            and test.path.resolve() == sidecar_path(problem.path).resolve())


def _origin(test: TestCase) -> str:
    if test.path is None:
        return "the problem"
    name = printable(Path(test.path).name)
    return f"{name}:{test.line}" if test.line is not None else name


def _expected(test: TestCase) -> str:
    if test.kind is TestKind.STDIO:
        return test.expected or ""
    if test.kind is TestKind.DOCTEST:
        return test.want or (test.exc_msg or "")
    return "(the test checks the result itself: see its input)"


def _actual(result: ExecutionResult | None) -> str:
    if result is None:
        return f"({NOT_RUN})"
    if result.actual is not None:
        return result.actual
    return f"(no output: {result.error})" if result.error is not None else "(no output)"


def _part(text: str) -> str:
    return printable(excerpt(text, PART_CHARS))


def panel_row_document(row: PanelRow) -> dict[str, Any]:
    document = asdict(row)
    document["kind"] = row.kind.value
    return document
