"""``orps test``: the table, the failure blocks, ``--json``, and the exit codes, run for real."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orps_engine.cli import main
from orps_engine.sandbox.runtime import confine

Write = Callable[[str, str], Path]
Copy = Callable[[str], Path]
Run = Callable[..., tuple[int, str, str]]

REPO = Path(__file__).resolve().parents[2]
# id, verdict, time, CPU, (a program's) judge CPU, memory
ROW = re.compile(r"^(?P<id>\S+)\s+(?P<verdict>AC|WA|TLE|MLE|RE|OLE|HARNESS)\s+\S+ m?s\s+\S+ m?s"
                 r"(\s+\S+ m?s)?\s+\S+ [KMG]B$")
DOC_KEYS = {"file", "passed", "failed", "total", "startup_cpu_ms", "tests"}
TEST_KEYS = {"id", "verdict", "wall_ms", "cpu_ms", "judge_cpu_ms", "peak_kb", "instructions", "bytecodes", "expected",
             "actual", "error"}


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """A copy of the shipped examples, so that nothing a run does can touch the originals."""
    target = tmp_path / "examples"
    shutil.copytree(REPO / "examples", target)
    return target


@pytest.fixture(scope="module")
def counters_available() -> bool:
    """Whether this machine exposes an instruction counter; where it does not, orps says null."""
    fd = confine.open_counter(os.getpid())
    if fd is None:
        return False
    confine.read_counter(fd)
    return True


def rows(out: str) -> list[tuple[str, str]]:
    """The (test id, verdict) rows of the table, in order."""
    return [(m["id"], m["verdict"]) for line in out.splitlines() if (m := ROW.match(line))]


def last_line(out: str) -> str:
    return out.rstrip("\n").splitlines()[-1]


def block(out: str, test_id: str) -> str:
    """The failure block of one test: from its header to the next blank line."""
    match = re.search(rf"^test {re.escape(test_id)}\b.*?(?=\n\n|\Z)", out, re.M | re.S)
    assert match, f"no failure block for test {test_id} in:\n{out}"
    return match.group(0)


def document(out: str) -> dict[str, Any]:
    """The one JSON object on stdout (json.loads refuses anything before or after it)."""
    doc = json.loads(out)
    assert isinstance(doc, dict)
    return doc


# -- the shipped examples -------------------------------------------------------------------------
def test_primes_example_all_pass_exit_0(run: Run, examples: Path) -> None:
    code, out, err = run("test", examples / "primes" / "primes.py")
    assert code == 0, err
    assert rows(out) == [(str(i), "AC") for i in range(1, 6)]
    assert last_line(out) == "5 passed, 0 failed"


def test_watermelon_example_one_wrong_answer_exit_1(run: Run, examples: Path) -> None:
    code, out, _err = run("test", examples / "watermelon" / "watermelon.py")
    assert code == 1
    assert rows(out) == [("1", "AC"), ("2", "WA"), ("3", "AC"), ("4", "AC")]
    assert last_line(out) == "3 passed, 1 failed"


def test_watermelon_example_failure_block_shows_input_expected_and_actual(run: Run, examples: Path) -> None:
    _code, out, _err = run("test", examples / "watermelon" / "watermelon.py")
    assert block(out, "2").splitlines() == [
        "test 2 (watermelon.tests.json:10): WA - output differs",
        "  input: 2",
        "  expected: NO",
        "  actual:   YES",
    ]
    assert "test 1 " not in out and "test 3 " not in out


def test_digits_example_doctests_all_pass_exit_0(run: Run, examples: Path) -> None:
    code, out, err = run("test", examples / "digits" / "digits.py")
    assert code == 0, err
    assert rows(out) == [("1", "AC"), ("2", "AC"), ("3", "AC")]
    assert last_line(out) == "3 passed, 0 failed"


def test_maxpair_example_oj_layout_all_pass_exit_0(run: Run, examples: Path) -> None:
    code, out, err = run("test", examples / "maxpair" / "maxpair.py")
    assert code == 0, err
    assert rows(out) == [("sample-1", "AC"), ("sample-2", "AC")]
    assert last_line(out) == "2 passed, 0 failed"


def test_table_header_names_every_column(run: Run, examples: Path) -> None:
    _code, out, _err = run("test", examples / "digits" / "digits.py")
    assert out.splitlines()[0].split() == ["test", "verdict", "time", "CPU", "memory"]


@pytest.mark.parametrize(("example", "verdicts"), [
    ("primes/primes.py", ["AC"] * 5),
    ("watermelon/watermelon.py", ["AC", "WA", "AC", "AC"]),
    ("digits/digits.py", ["AC"] * 3),
    ("maxpair/maxpair.py", ["AC", "AC"]),
])
def test_examples_json_verdicts_match_the_examples_readme(run: Run, examples: Path, example: str,
                                                           verdicts: list[str]) -> None:
    code, out, _err = run("test", examples / example, "--json")
    doc = document(out)
    assert [t["verdict"] for t in doc["tests"]] == verdicts
    assert (doc["passed"], doc["failed"], doc["total"]) == (verdicts.count("AC"), len(verdicts) - verdicts.count("AC"),
                                                            len(verdicts))
    assert code == (0 if doc["failed"] == 0 else 1)


# -- --json ---------------------------------------------------------------------------------------------
def test_json_document_has_exactly_the_documented_keys(run: Run, examples: Path) -> None:
    path = examples / "watermelon" / "watermelon.py"
    _code, out, _err = run("test", path, "--json")
    doc = document(out)
    assert set(doc) == DOC_KEYS
    assert doc["file"] == str(path)
    assert [t["id"] for t in doc["tests"]] == ["1", "2", "3", "4"]
    for test in doc["tests"]:
        assert set(test) == TEST_KEYS


def test_json_measurements_are_numbers_and_instructions_null_without_counters(
        run: Run, examples: Path, counters_available: bool) -> None:
    _code, out, _err = run("test", examples / "watermelon" / "watermelon.py", "--json")
    for test in document(out)["tests"]:
        assert isinstance(test["wall_ms"], float) and test["wall_ms"] > 0
        assert isinstance(test["cpu_ms"], float) and test["cpu_ms"] >= 0
        assert isinstance(test["peak_kb"], int) and test["peak_kb"] >= 0
        if counters_available:
            assert isinstance(test["instructions"], int) and test["instructions"] > 0
        else:
            assert test["instructions"] is None


def test_count_bytecodes_adds_a_column_and_the_counts_to_the_json(run: Run, examples: Path) -> None:
    path = examples / "watermelon" / "watermelon.py"  # a program on stdin: the count is the whole file's
    _code, out, _err = run("test", path, "--count-bytecodes")
    header = out.splitlines()[0].split()
    assert header == ["test", "verdict", "time", "CPU", "judge", "memory", "bytecodes"]
    _code, out, _err = run("test", path, "--json", "--count-bytecodes")
    counts = [test["bytecodes"] for test in document(out)["tests"]]
    assert all(isinstance(c, int) and c > 0 for c in counts), counts
    _code, again, _err = run("test", path, "--json", "--count-bytecodes")
    assert [test["bytecodes"] for test in document(again)["tests"]] == counts  # the same, run after run
    _code, plain, _err = run("test", path, "--json")
    assert all(test["bytecodes"] is None for test in document(plain)["tests"])


def test_json_wrong_answer_carries_expected_actual_and_error(run: Run, examples: Path) -> None:
    _code, out, _err = run("test", examples / "watermelon" / "watermelon.py", "--json")
    wrong = document(out)["tests"][1]
    assert (wrong["verdict"], wrong["expected"], wrong["actual"]) == ("WA", "NO\n", "YES\n")
    assert wrong["error"] == {"type": None, "message": "output differs", "line": None}


def test_json_passing_test_has_null_error(run: Run, examples: Path) -> None:
    _code, out, _err = run("test", examples / "watermelon" / "watermelon.py", "--json")
    passing = document(out)["tests"][0]
    assert passing["error"] is None
    assert (passing["expected"], passing["actual"]) == ("YES\n", "YES\n")


def test_json_assert_failures_carry_reprs_and_runtime_error_type_and_line(run: Run, problem: Copy) -> None:
    code, out, _err = run("test", problem("cli_mixed") / "calc.py", "--json")
    assert code == 1
    passed, wrong, crashed = document(out)["tests"]
    assert (passed["verdict"], passed["error"]) == ("AC", None)
    assert (wrong["verdict"], wrong["expected"], wrong["actual"]) == ("WA", "8", "9")
    assert wrong["error"]["type"] is None
    assert crashed["verdict"] == "RE"
    assert crashed["error"] == {"type": "ValueError", "message": "negative a", "line": 6}


def test_json_prints_nothing_but_the_document(run: Run, problem: Copy) -> None:
    _code, out, err = run("test", problem("oj_natural") / "sol.py", "--json")
    assert out.lstrip().startswith("{") and out.rstrip().endswith("}")
    assert document(out)["total"] == 5
    assert "passed," not in out
    assert err == ""


# -- the table and its failure blocks ---------------------------------------------------------------------
def test_table_assert_failures_show_the_assert_and_the_error(run: Run, problem: Copy) -> None:
    code, out, _err = run("test", problem("cli_mixed") / "calc.py")
    assert code == 1
    assert rows(out) == [("1", "AC"), ("2", "WA"), ("3", "RE")]
    assert block(out, "2").splitlines() == [
        "test 2 (calc.tests.json:5): WA - add(7, 1) == 8",
        "  input: assert add(7, 1) == 8",
        "  expected: 8",
        "  actual:   9",
    ]
    crashed = block(out, "3").splitlines()
    assert crashed[0] == "test 3 (calc.tests.json:6): RE"
    assert "  input: assert add(-1, 1) == 0" in crashed
    assert "  error: ValueError: negative a (line 6)" in crashed
    assert last_line(out) == "1 passed, 2 failed"


def test_table_multiline_wrong_answer_shows_a_diff(run: Run, write: Write) -> None:
    write("cases/a.in", "4\n")
    write("cases/a.out", "0\n1\n2\n3\n")
    solution = write("count.py", "for i in range(int(input())):\n    print(9 if i == 2 else i)\n")
    code, out, _err = run("test", solution, "--tests", solution.parent / "cases")
    assert code == 1
    failure = block(out, "a").splitlines()
    assert failure[0] == "test a (a.in:1): WA - output differs"
    assert "  diff:" in failure
    assert "    -2" in failure and "    +9" in failure


def test_table_program_crash_shows_exception_and_line(run: Run, write: Write) -> None:
    write("cases/1.in", "0\n")
    write("cases/1.out", "1\n")
    solution = write("div.py", "a = int(input())\nprint(10 // a)\n")
    code, out, _err = run("test", solution, "--tests", solution.parent / "cases")
    assert code == 1
    assert rows(out) == [("1", "RE")]
    assert "  error: ZeroDivisionError: integer division or modulo by zero (line 2)" in block(out, "1")


def test_table_empty_output_shown_as_empty(run: Run, write: Write) -> None:
    write("cases/1.in", "5\n")
    write("cases/1.out", "5\n")
    solution = write("silent.py", "pass\n")
    _code, out, _err = run("test", solution, "--tests", solution.parent / "cases")
    assert "  actual:   (empty)" in block(out, "1")


def test_doctests_context_and_exception_examples_pass_end_to_end(run: Run, write: Write) -> None:
    solution = write("dt.py", '''\
def f(x):
    """
    >>> y = 3
    >>> f(y)
    4
    >>> f(-1)
    Traceback (most recent call last):
      ...
    ValueError: negative
    """
    if x < 0:
        raise ValueError("negative")
    return x + 1
''')
    code, out, err = run("test", solution)
    assert code == 0, out + err
    assert rows(out) == [("1", "AC"), ("2", "AC")]


def test_doctest_wrong_output_shows_docstring_line_and_values(run: Run, write: Write) -> None:
    solution = write("dt.py", 'def f(x):\n    """\n    >>> f(1)\n    3\n    """\n    return x + 1\n')
    code, out, _err = run("test", solution)
    assert code == 1
    assert block(out, "1").splitlines() == [
        "test 1 (dt.py:3): WA - output differs", "  input: f(1)", "  expected: 3", "  actual:   2"]


def test_function_flag_picks_among_several_doctested_functions(run: Run, problem: Copy) -> None:
    code, out, _err = run("test", problem("doctest_several") / "funcs.py", "--function", "dec")
    assert code == 0
    assert last_line(out) == "2 passed, 0 failed"


def test_oj_layout_runs_in_natural_order(run: Run, problem: Copy) -> None:
    code, out, _err = run("test", problem("oj_natural") / "sol.py")
    assert code == 0
    assert [test_id for test_id, _ in rows(out)] == ["1", "2", "10", "sample-2", "sample-10"]


def test_companion_sidecar_as_sent_runs_and_passes(run: Run, problem: Copy) -> None:
    code, out, _err = run("test", problem("companion") / "melon.py")
    assert code == 0
    assert last_line(out) == "2 passed, 0 failed"


@pytest.mark.parametrize(("tests", "expected"), [
    (None, "2 passed, 0 failed"),  # the sidecar's asserts
    ("explicit.json", "3 passed, 0 failed"),
    ("explicit_dir", "1 passed, 0 failed"),
])
def test_tests_flag_overrides_the_sidecar(run: Run, problem: Copy, tests: str | None, expected: str) -> None:
    folder = problem("all_sources")
    extra = ["--tests", folder / tests] if tests else []
    code, out, _err = run("test", folder / "sol.py", *extra)
    assert code == 0
    assert last_line(out) == expected


@pytest.mark.parametrize(("compare", "printed", "code"), [
    ("float:1e-3", "0.33333\n", 0),
    ("float", "0.33333\n", 1),
    ("exact", "0.333333 \n", 1),
    ("lines", "0.333333 \n\n", 0),
])
def test_compare_mode_decides_the_verdict(run: Run, write: Write, compare: str, printed: str, code: int) -> None:
    write("third.tests.json", json.dumps({"compare": compare, "tests": [{"input": "", "output": "0.333333\n"}]}))
    solution = write("third.py", f"import sys\nsys.stdout.write({printed!r})\n")
    assert run("test", solution)[0] == code


def test_time_limit_from_the_sidecar_gives_tle(run: Run, write: Write) -> None:
    write("spin.tests.json", json.dumps({"timeLimit": 200, "tests": [{"input": "", "output": ""}]}))
    solution = write("spin.py", "while True:\n    pass\n")
    code, out, _err = run("test", solution, "--json")
    assert code == 1
    assert document(out)["tests"][0]["verdict"] == "TLE"


FORKING = "import subprocess, sys\nprint(subprocess.run([sys.executable, '-c', 'print(4)'], capture_output=True,"\
          " text=True).stdout, end='')\n"


def test_a_program_that_starts_a_process_fails_saying_how_to_allow_it(run: Run, write: Write) -> None:
    write("spawn.tests.json", json.dumps({"tests": [{"input": "", "output": "4\n"}]}))
    code, out, _err = run("test", write("spawn.py", FORKING))
    assert code == 1
    assert rows(out) == [("1", "RE")]
    assert "  error: PermissionError: [Errno 1] Operation not permitted - if this was starting a process: child " \
           "processes are refused unless allowed (--allow-subprocesses" in block(out, "1")


def test_allow_subprocesses_lets_it_run_and_says_how_children_are_counted(run: Run, write: Write) -> None:
    write("spawn.tests.json", json.dumps({"tests": [{"input": "", "output": "4\n"}]}))
    code, out, _err = run("test", write("spawn.py", FORKING), "--allow-subprocesses")
    assert code == 0, out
    assert rows(out) == [("1", "AC")]
    assert "note: child processes are allowed (--allow-subprocesses): each has CPU and memory limits of its own" in out


# -- exit code 2: bad input ----------------------------------------------------------------------------------
def assert_input_error(result: tuple[int, str, str], *needles: str) -> str:
    code, out, err = result
    assert code == 2
    assert out == ""
    assert err.startswith("error: ")
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err
    return err


def test_missing_file_exit_2_names_it(run: Run, tmp_path: Path) -> None:
    missing = tmp_path / "nope.py"
    err = assert_input_error(run("test", missing), f"error: {missing}: file not found")
    assert err.count("\n") == 1


def test_missing_file_with_json_exit_2_and_no_document(run: Run, tmp_path: Path) -> None:
    assert_input_error(run("test", tmp_path / "nope.py", "--json"), "file not found")


def test_no_tests_found_exit_2_with_hint(run: Run, write: Write) -> None:
    solution = write("lonely.py", "print(1)\n")
    err = assert_input_error(run("test", solution), f"{solution}: no tests found")
    assert "\nhint: " in err and "--tests PATH" in err


def test_malformed_sidecar_exit_2_names_file_and_line(run: Run, write: Write) -> None:
    side = write("bad.tests.json", '{\n  "tests": [\n    {"input": "1"}\n  ]\n}\n')
    solution = write("bad.py", "print(input())\n")
    assert_input_error(run("test", solution), f'error: {side}:3: field "tests[0].output": missing')


def test_invalid_json_exit_2_names_line(run: Run, write: Write) -> None:
    side = write("bad.tests.json", '{\n  "tests": [,]\n}\n')
    solution = write("bad.py", "print(input())\n")
    assert_input_error(run("test", solution), f"error: {side}:2: not valid JSON")


def test_bad_time_limit_exit_2_not_internal_error(run: Run, write: Write) -> None:
    write("bad.tests.json", '{"memoryLimit": Infinity, "tests": [{"input": "1", "output": "1"}]}')
    solution = write("bad.py", "print(input())\n")
    assert_input_error(run("test", solution), 'field "memoryLimit"')


def test_missing_tests_path_exit_2_names_it(run: Run, write: Write, tmp_path: Path) -> None:
    solution = write("ok.py", "print(input())\n")
    assert_input_error(run("test", solution, "--tests", tmp_path / "none.json"), "tests file not found")


def test_several_doctested_functions_exit_2_names_them(run: Run, problem: Copy) -> None:
    err = assert_input_error(run("test", problem("doctest_several") / "funcs.py"), "(inc, dec)")
    assert "hint: pick one with --function NAME" in err


def test_function_flag_naming_missing_function_exit_2(run: Run, problem: Copy) -> None:
    assert_input_error(run("test", problem("doctest_several") / "funcs.py", "--function", "nope"),
                       "function 'nope' is not defined")


def test_missing_file_argument_is_a_usage_error_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["test"])
    assert info.value.code == 2
    assert "usage: orps test" in capsys.readouterr().err


# -- methods and FILE::NAME -----------------------------------------------------------------------------------
@pytest.mark.parametrize("how", [("::Stats.mean",), ("", "--function", "Stats.mean"),
                                 ("::Stats.mean", "--function", "Stats.mean")])
def test_a_method_target_runs_its_asserts_through_the_sandbox(run: Run, problem: Copy, how: tuple[str, ...]) -> None:
    solution = problem("methods") / "stats.py"
    code, out, err = run("test", f"{solution}{how[0]}", *how[1:])
    assert code == 0, out + err
    assert rows(out) == [("1", "AC"), ("2", "AC"), ("3", "AC")]


def test_a_wrong_method_fails_its_asserts(run: Run, problem: Copy) -> None:
    solution = problem("methods") / "stats.py"
    solution.write_text(solution.read_text().replace("return total / len(self.values)", "return total"))
    code, out, _err = run("test", f"{solution}::Stats.mean")
    assert code == 1
    assert rows(out) == [("1", "WA"), ("2", "AC"), ("3", "WA")]


def test_file_colon_colon_names_a_function_as_function_does(run: Run, problem: Copy) -> None:
    code, out, _err = run("test", f"{problem('doctest_several') / 'funcs.py'}::dec")
    assert code == 0
    assert last_line(out) == "2 passed, 0 failed"


def test_a_methods_doctests_run_as_its_tests(run: Run, write: Write) -> None:
    solution = write("box.py", 'class Box:\n    def __init__(self, n):\n        self.n = n\n\n'
                               '    @staticmethod\n    def twice(x):\n        """\n        >>> Box.twice(2)\n'
                               '        4\n        >>> Box.twice(3)\n        7\n        """\n        return 2 * x\n')
    code, out, _err = run("test", f"{solution}::Box.twice")
    assert code == 1
    assert rows(out) == [("1", "AC"), ("2", "WA")]
    assert block(out, "2").splitlines()[0] == "test 2 (box.py:10): WA - output differs"


@pytest.mark.parametrize("command", ["test", "refine"])
def test_file_colon_colon_and_a_different_function_flag_is_a_usage_error_exit_2(
        capsys: pytest.CaptureFixture[str], problem: Copy, command: str) -> None:
    solution = problem("methods") / "stats.py"
    with pytest.raises(SystemExit) as info:
        main([command, f"{solution}::Stats.mean", "--function", "Stats.size"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"usage: orps {command}" in err
    assert f"error: {solution}::Stats.mean and --function Stats.size name different targets; give one" in err


@pytest.mark.parametrize("argument", ["stats.py::", "::Stats.mean"])
def test_file_colon_colon_without_a_file_or_a_name_is_a_usage_error_exit_2(
        capsys: pytest.CaptureFixture[str], argument: str) -> None:
    with pytest.raises(SystemExit) as info:
        main(["test", argument])
    assert info.value.code == 2
    assert f"error: {argument}: expected FILE::NAME, e.g. stats.py::Stats.mean" in capsys.readouterr().err


def test_file_colon_colon_naming_a_missing_method_exit_2(run: Run, problem: Copy) -> None:
    solution = problem("methods") / "stats.py"
    assert_input_error(run("test", f"{solution}::Stats.median"),
                       "method 'Stats.median' is not defined: class 'Stats' has no method 'median'")


# -- a real process ---------------------------------------------------------------------------------------------
def orps_process(*args: str | Path, module: bool = False) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "orps_engine"] if module else [str(Path(sys.executable).with_name("orps"))]
    return subprocess.run([*command, *map(str, args)], capture_output=True, text=True, timeout=60, check=False)


def test_process_console_script_json_exit_1_one_document(examples: Path) -> None:
    done = orps_process("test", examples / "watermelon" / "watermelon.py", "--json")
    assert done.returncode == 1, done.stderr
    doc = document(done.stdout)
    assert set(doc) == DOC_KEYS
    assert [t["verdict"] for t in doc["tests"]] == ["AC", "WA", "AC", "AC"]
    assert "Traceback" not in done.stderr


def test_process_module_table_exit_0(examples: Path) -> None:
    done = orps_process("test", examples / "maxpair" / "maxpair.py", module=True)
    assert done.returncode == 0, done.stderr
    assert rows(done.stdout) == [("sample-1", "AC"), ("sample-2", "AC")]
    assert last_line(done.stdout) == "2 passed, 0 failed"


def test_process_missing_file_exit_2_without_traceback(tmp_path: Path) -> None:
    done = orps_process("test", tmp_path / "nope.py", module=True)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("error: ") and "file not found" in done.stderr
    assert "Traceback" not in done.stderr


def _echo_problem(tmp_path: Path) -> Path:
    path = tmp_path / "echo.py"
    path.write_text("print(input())\n")
    tests = [{"input": "1  2", "output": "1 2"}, {"input": "a", "output": "b"}, {"input": "7", "output": "7"}]
    (tmp_path / "echo.tests.json").write_text(json.dumps({"tests": tests}))
    return path


def test_one_test_by_number_and_limits_and_comparison_from_the_command_line(run: Run, tmp_path: Path) -> None:
    path = _echo_problem(tmp_path)
    code, out, _err = run("test", path, "-t", "3", "-t", "1")
    assert code == 0 and rows(out) == [("3", "AC"), ("1", "AC")]
    code, out, _err = run("test", path, "-t", "1", "--compare", "exact")
    assert code == 1 and rows(out) == [("1", "WA")]
    code, out, _err = run("test", path, "--json", "--time-limit", "1500", "--memory-limit", "64", "-t", "2")
    assert code == 1 and [t["id"] for t in document(out)["tests"]] == ["2"]


@pytest.mark.parametrize(("flags", "message"), [
    (["-t", "9"], "no test '9' among 3: 1, 2, 3"),
    (["--time-limit", "0"], "--time-limit: expected a positive number of milliseconds"),
    (["--memory-limit", "-1"], "--memory-limit: expected a positive number of megabytes"),
    (["--output-limit", "0"], "--output-limit: expected a positive number of megabytes"),
    (["--compare", "fuzzy"], "--compare: expected tokens, lines, exact, float"),
    (["--compare", "checker:nope.py"], "--compare: the checker"),
])
def test_bad_selections_and_limits_exit_2_saying_which(run: Run, tmp_path: Path, flags: list[str],
                                                       message: str) -> None:
    code, out, err = run("test", _echo_problem(tmp_path), *flags)
    assert code == 2 and message in err and "Traceback" not in err + out, err
