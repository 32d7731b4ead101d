"""Every verdict, for programs (stdin/stdout) and functions (asserts, doctests), through the real
sandbox; and what each result carries (error type, message, line; expected vs actual)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from orps_engine import Verdict, load_problem, run_tests
from orps_engine.problem import parse_comparison
from orps_engine.results import ExecutionResult


def run_stdio(write: Callable[..., Path], code: str, tests: list[tuple[str, str]],
              **extra: object) -> list[ExecutionResult]:
    path = write("prog.py", code)
    doc = {"tests": [{"input": i, "output": o} for i, o in tests], **extra}
    write("prog.tests.json", json.dumps(doc))
    return list(run_tests(load_problem(path)).results)


def run_asserts(write: Callable[..., Path], code: str, asserts: list[str], **extra: object) -> list[ExecutionResult]:
    path = write("mod.py", code)
    write("mod.tests.json", json.dumps({"asserts": asserts, **extra}))
    return list(run_tests(load_problem(path)).results)


# -- programs ---------------------------------------------------------------------------------------
def test_program_correct_output_is_ac(write: Callable[..., Path]) -> None:
    results = run_stdio(write, "a, b = map(int, input().split())\nprint(a + b)\n", [("1 2\n", "3\n"), ("5 5", "10")])
    assert [r.verdict for r in results] == [Verdict.AC, Verdict.AC]
    assert results[0].actual == "3\n"


def test_program_wrong_output_is_wa_with_expected_and_actual(write: Callable[..., Path]) -> None:
    results = run_stdio(write, "print(int(input()) * 2)\n", [("3\n", "7\n")])
    assert results[0].verdict is Verdict.WA
    assert (results[0].expected, results[0].actual) == ("7\n", "6\n")


def test_program_exception_is_re_with_type_message_and_line(write: Callable[..., Path]) -> None:
    code = "x = int(input())\n\ndef boom(v):\n    return 10 // v\n\nprint(boom(x))\n"
    results = run_stdio(write, code, [("0\n", "1\n")])
    error = results[0].error
    assert results[0].verdict is Verdict.RE
    assert error is not None
    assert (error.type, error.line) == ("ZeroDivisionError", 4)
    assert "division" in error.message


def test_program_syntax_error_is_re_at_its_line(write: Callable[..., Path]) -> None:
    results = run_stdio(write, "x = 1\ny = (\n", [("", "1")])
    assert results[0].verdict is Verdict.RE
    assert results[0].error is not None and results[0].error.type == "SyntaxError"
    assert results[0].error.line == 2


def test_program_nonzero_exit_is_re(write: Callable[..., Path]) -> None:
    results = run_stdio(write, "import sys\nprint('3')\nsys.exit(3)\n", [("", "3")])
    assert results[0].verdict is Verdict.RE
    assert results[0].error is not None and "exit code 3" in results[0].error.message


def test_program_killed_by_signal_is_re(write: Callable[..., Path]) -> None:
    results = run_stdio(write, "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n", [("", "")])
    assert results[0].verdict is Verdict.RE
    assert results[0].error is not None and results[0].error.type == "SIGSEGV"


def test_program_cpu_over_limit_is_tle(write: Callable[..., Path]) -> None:
    code = "import time\nend = time.process_time() + 0.6\nwhile time.process_time() < end:\n    pass\nprint(1)\n"
    results = run_stdio(write, code, [("", "1")], timeLimit=200)
    assert results[0].verdict is Verdict.TLE
    assert results[0].cpu_ms is not None and results[0].cpu_ms > 200


def test_program_memory_over_limit_is_mle(write: Callable[..., Path]) -> None:
    code = "x = bytearray(100 * 1024 * 1024)\nx[::4096] = b'1' * len(x[::4096])\nprint(1)\n"
    results = run_stdio(write, code, [("", "1")], memoryLimit=64)
    assert results[0].verdict is Verdict.MLE


def test_program_stdin_is_read_fully(write: Callable[..., Path]) -> None:
    data = "\n".join(str(i) for i in range(100_000)) + "\n"
    code = "import sys\nprint(sum(map(int, sys.stdin.read().split())))\n"
    results = run_stdio(write, code, [(data, str(sum(range(100_000))))])
    assert results[0].verdict is Verdict.AC


def test_program_float_comparison_mode_accepts_within_tolerance(write: Callable[..., Path]) -> None:
    results = run_stdio(write, "print(1 / 3)\n", [("", "0.3333333")], compare="float:1e-6")
    assert results[0].verdict is Verdict.AC


@pytest.mark.parametrize(
    ("expected", "actual", "mode", "same"),
    [
        pytest.param("1 2\n3", "1  2 3\n\n", "tokens", True, id="tokens-whitespace"),
        pytest.param("1 2\n3", "1 2 3", "lines", False, id="lines-differ"),
        pytest.param("a \nb\n\n", "a\nb", "lines", True, id="lines-trailing"),
        pytest.param("a\n", "a", "exact", False, id="exact-newline"),
        pytest.param("0.5 x", "0.5000001 x", "float", True, id="float-default-tol"),
        pytest.param("0.5", "0.6", "float:0.01", False, id="float-outside"),
        pytest.param("1.0", "nan", "float", False, id="float-nan"),
        pytest.param("1  2\n3", "1 2\n3 \n", "lines", True, id="lines-inner-spaces"),
        pytest.param("1\t2", "1 2", "lines", True, id="lines-tab-is-space"),
        pytest.param("1\n\n2", "1\n2", "lines", False, id="lines-empty-line-counts"),
        pytest.param("100", "100.00005", "float", True, id="float-relative"),
        pytest.param("1e-9", "2e-9", "float", True, id="float-absolute"),
    ],
)
def test_compare_output_modes(expected: str, actual: str, mode: str, same: bool) -> None:
    comparison = parse_comparison(mode)
    assert comparison is not None and comparison.matches(expected, actual) is same


# -- functions ----------------------------------------------------------------------------------
def test_function_passing_asserts_are_ac(write: Callable[..., Path]) -> None:
    asserts = ["assert add(1, 2) == 3", "assert add('a', 'b') == 'ab'"]
    results = run_asserts(write, "def add(a, b):\n    return a + b\n", asserts)
    assert [r.verdict for r in results] == [Verdict.AC, Verdict.AC]


def test_function_failing_assert_is_wa_with_both_sides(write: Callable[..., Path]) -> None:
    results = run_asserts(write, "def add(a, b):\n    return a - b\n", ["assert add(1, 2) == 3"])
    assert results[0].verdict is Verdict.WA
    assert (results[0].actual, results[0].expected) == ("-1", "3")


def test_function_expected_on_the_left_is_still_reported_as_expected(write: Callable[..., Path]) -> None:
    results = run_asserts(write, "def f():\n    return [1]\n", ["assert [2] == f()"])
    assert (results[0].actual, results[0].expected) == ("[1]", "[2]")


def test_function_exception_is_re_with_line_in_users_file(write: Callable[..., Path]) -> None:
    code = "def helper(x):\n    return x['missing']\n\ndef f(x):\n    return helper(x)\n"
    results = run_asserts(write, code, ["assert f({}) == 1"])
    error = results[0].error
    assert results[0].verdict is Verdict.RE
    assert error is not None and (error.type, error.line) == ("KeyError", 2)


def test_function_error_at_import_is_re(write: Callable[..., Path]) -> None:
    results = run_asserts(write, "import not_a_real_module_xyz\ndef f():\n    return 1\n", ["assert f() == 1"])
    assert results[0].verdict is Verdict.RE
    assert results[0].error is not None and results[0].error.type == "ModuleNotFoundError"
    assert results[0].error.line == 1


def test_function_expected_exception_caught_by_test_is_ac(write: Callable[..., Path]) -> None:
    code = "def f(x):\n    if x < 0:\n        raise ValueError('negative')\n    return x\n"
    asserts = [
        "try:\n    f(-1)\nexcept ValueError as e:\n    assert 'negative' in str(e)\nelse:\n    assert False",
        "import pytest\nwith pytest.raises(ValueError):\n    f(-1)",
        "import pytest\nwith pytest.raises(ValueError):\n    f(1)",
    ]
    results = run_asserts(write, code, asserts)
    assert [r.verdict for r in results] == [Verdict.AC, Verdict.AC, Verdict.WA]


def test_function_test_broken_before_calling_solution_is_harness(write: Callable[..., Path]) -> None:
    results = run_asserts(write, "def f():\n    return 1\n", ["assert undefined_helper() == f()"])
    assert results[0].verdict is Verdict.HARNESS
    assert results[0].detail is not None and "NameError" in results[0].detail


def test_function_wrong_type_making_test_raise_is_wa(write: Callable[..., Path]) -> None:
    results = run_asserts(write, "def f():\n    return None\n", ["assert f()[0] == 1"])
    assert results[0].verdict is Verdict.WA


def test_function_classes_generators_and_methods_work_across_processes(write: Callable[..., Path]) -> None:
    code = (
        "from dataclasses import dataclass\n"
        "@dataclass\n"
        "class Point:\n"
        "    x: int\n"
        "    y: int\n"
        "    def norm1(self):\n"
        "        return abs(self.x) + abs(self.y)\n"
        "class Stack:\n"
        "    def __init__(self):\n"
        "        self.items = []\n"
        "    def push(self, v):\n"
        "        self.items.append(v)\n"
        "    def pop(self):\n"
        "        return self.items.pop()\n"
        "    def __len__(self):\n"
        "        return len(self.items)\n"
        "def squares(n):\n"
        "    for i in range(n):\n"
        "        yield i * i\n"
        "def origin():\n"
        "    return Point(0, 0)\n"
    )
    asserts = [
        "p = Point(3, -4)\nassert p.norm1() == 7 and p.x == 3",
        "s = Stack()\ns.push(1)\ns.push(2)\nassert len(s) == 2\nassert s.pop() == 2",
        "assert list(squares(4)) == [0, 1, 4, 9]",
        "assert origin() == Point(0, 0)\nassert origin() != Point(1, 0)",
        "assert isinstance(origin(), Point)",
    ]
    results = run_asserts(write, code, asserts)
    assert [r.verdict for r in results] == [Verdict.AC] * 5


def test_function_callbacks_and_in_place_mutation(write: Callable[..., Path]) -> None:
    code = (
        "def apply(fn, xs):\n    return [fn(x) for x in xs]\n"
        "def sort_in_place(xs):\n    xs.sort()\n"
        "def add_key(d):\n    d['k'] = 1\n"
    )
    asserts = [
        "assert apply(lambda v: v * 10, [1, 2]) == [10, 20]",
        "xs = [3, 1, 2]\nsort_in_place(xs)\nassert xs == [1, 2, 3]",
        "d = {}\nadd_key(d)\nassert d == {'k': 1}",
    ]
    results = run_asserts(write, code, asserts)
    assert [r.verdict for r in results] == [Verdict.AC] * 3


def test_function_files_written_by_test_are_read_by_solution(write: Callable[..., Path]) -> None:
    code = "def count_lines(path):\n    with open(path) as fh:\n        return len(fh.readlines())\n"
    asserts = ["with open('data.txt', 'w') as fh:\n    fh.write('a\\nb\\n')\nassert count_lines('data.txt') == 2"]
    results = run_asserts(write, code, asserts)
    assert results[0].verdict is Verdict.AC


def test_function_numpy_and_pandas_values_cross_as_data(write: Callable[..., Path]) -> None:
    pytest.importorskip("numpy")
    pytest.importorskip("pandas")
    code = (
        "import numpy as np\nimport pandas as pd\n"
        "def double(a):\n    return a * 2\n"
        "def frame(n):\n    return pd.DataFrame({'a': list(range(n)), 'b': [float(i) / 2 for i in range(n)]})\n"
    )
    asserts = [
        "import numpy as np\nassert np.allclose(double(np.array([[1.5, 2.0]])), np.array([[3.0, 4.0]]))",
        "import pandas as pd\nexpected = pd.DataFrame({'a': [0, 1], 'b': [0.0, 0.5]})\n"
        "assert frame(2).equals(expected)",
    ]
    results = run_asserts(write, code, asserts)
    assert [r.verdict for r in results] == [Verdict.AC, Verdict.AC]


def test_function_doctests_compare_output_and_exceptions(write: Callable[..., Path]) -> None:
    code = (
        "def f(n):\n"
        '    """\n'
        "    >>> x = f(2)\n"
        "    >>> x + 1\n"
        "    5\n"
        "    >>> print(f(1), 'ok')\n"
        "    2 ok\n"
        "    >>> f(-1)\n"
        "    Traceback (most recent call last):\n"
        "    ValueError: negative\n"
        "    >>> f(3)\n"
        "    7\n"
        '    """\n'
        "    if n < 0:\n"
        "        raise ValueError('negative')\n"
        "    return 2 * n\n"
    )
    path = write("doc.py", code)
    results = run_tests(load_problem(path)).results
    assert [r.verdict for r in results] == [Verdict.AC, Verdict.AC, Verdict.AC, Verdict.WA]
    assert (results[3].expected, results[3].actual) == ("7\n", "6\n")


def test_function_solution_print_is_kept_for_debugging(write: Callable[..., Path]) -> None:
    results = run_asserts(write, "def f():\n    print('debug line')\n    return 2\n", ["assert f() == 1"])
    assert results[0].verdict is Verdict.WA
    assert "debug line" in results[0].stdout


def test_function_measurements_are_the_solutions_own(write: Callable[..., Path]) -> None:
    code = (
        "def spin(n):\n    return sum(i * i for i in range(n))\n"
        "def grab(mb):\n    b = bytearray(mb * 1024 * 1024)\n    b[::4096] = b'x' * len(b[::4096])\n    return len(b)\n"
    )
    results = run_asserts(write, code, ["assert spin(10) == 285", "assert spin(2_000_000) > 0",
                                        "assert grab(80) == 80 * 1024 * 1024"])
    small, busy, big = results
    assert all(r.verdict is Verdict.AC for r in results)
    assert small.cpu_ms is not None and busy.cpu_ms is not None and busy.cpu_ms > small.cpu_ms + 20
    assert big.peak_kb is not None and small.peak_kb is not None
    assert 75 * 1024 < big.peak_kb < 120 * 1024
    assert small.peak_kb < 20 * 1024
    assert busy.wall_ms is not None and busy.wall_ms > 0
