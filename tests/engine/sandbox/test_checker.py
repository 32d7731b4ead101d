"""A custom checker (``"compare": {"checker": "checker.py"}``): run in the sandbox as ``checker INPUT
ACTUAL EXPECTED`` on a run that ended cleanly; exit 0 accepts, 1 or 2 is a wrong answer with its
message, anything else is the checker's own failure (HARNESS), never the solution's."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from orps_engine import InputError, Verdict, load_problem, run_tests
from orps_engine.problem import CompareKind
from orps_engine.results import SuiteResult

Write = Callable[..., Path]
SPLIT = "n = int(input())\nprint(n // 2, n - n // 2)\n"
# Any two non-negative numbers that add up to n are right: no fixed expected output can say so.
CHECKER = ("import sys\ninp, out, ans = (open(p).read() for p in sys.argv[1:4])\n"
           "n = int(inp)\na, b = map(int, out.split())\n"
           "if a + b != n or min(a, b) < 0:\n    print(f'{a} + {b} != {n}')\n    sys.exit(1)\nprint('ok')\n")


def judge(write: Write, code: str, checker: str, tests: list[tuple[str, str]], **extra: object) -> SuiteResult:
    path = write("sol.py", code)
    write("check.py", checker)
    write("sol.tests.json", json.dumps({"tests": [{"input": i, "output": o} for i, o in tests],
                                        "compare": {"checker": "check.py"}, **extra}))
    return run_tests(load_problem(path, python=sys.executable))


def test_a_checker_accepts_another_right_answer(write: Write) -> None:
    suite = judge(write, SPLIT, CHECKER, [("5", "1 4"), ("8", "0 8")])
    assert [r.verdict for r in suite.results] == [Verdict.AC, Verdict.AC], suite.results


def test_a_checker_that_exits_1_is_a_wrong_answer_with_its_message(write: Write) -> None:
    suite = judge(write, "print(1, 1)\n", CHECKER, [("5", "1 4")])
    result = suite.results[0]
    assert result.verdict is Verdict.WA and result.detail == "checker: 1 + 1 != 5", result


@pytest.mark.parametrize(("checker", "why"), [
    ("import sys\nsys.exit(3)\n", "exit 3"),
    ("raise RuntimeError('checker bug')\n", "checker bug"),
    ("while True:\n    pass\n", "time limit"),
])
def test_a_checker_that_fails_is_harness_never_the_solutions_fault(write: Write, checker: str, why: str) -> None:
    suite = judge(write, SPLIT, checker, [("5", "1 4")])
    result = suite.results[0]
    assert result.verdict is Verdict.HARNESS and result.detail is not None and why in result.detail, result


def test_a_run_that_fails_on_its_own_is_judged_without_the_checker(write: Write) -> None:
    suite = judge(write, "import time\nwhile True:\n    pass\n", "raise SystemExit(3)\n", [("5", "1 4")], timeLimit=300)
    assert suite.results[0].verdict is Verdict.TLE  # the checker, which would fail, never ran


def test_a_missing_checker_is_named_in_the_tests_file(write: Write) -> None:
    path = write("sol.py", SPLIT)
    write("sol.tests.json", json.dumps({"tests": [{"input": "1", "output": "0 1"}],
                                        "compare": {"checker": "no.py"}}))
    with pytest.raises(InputError, match=r'field "compare": the checker .*no\.py is not a file'):
        load_problem(path)


def test_the_checker_path_is_taken_from_the_tests_files_folder(write: Write) -> None:
    path = write("sol.py", SPLIT)
    write("check.py", CHECKER)
    tests = [{"input": "1", "output": "0 1"}]
    write("sol.tests.json", json.dumps({"tests": tests, "compare": {"checker": "check.py"}}))
    compare = load_problem(path).compare
    assert compare.kind is CompareKind.CHECKER and compare.checker == (path.parent / "check.py").resolve()
