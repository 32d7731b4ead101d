"""The problem loaders: where tests come from, in which order, and what a malformed test file says."""

from __future__ import annotations

import doctest
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orps_engine.config import DEFAULT_MEMORY_LIMIT_MB, DEFAULT_TIME_LIMIT_S
from orps_engine.errors import InputError
from orps_engine.judge import run_tests
from orps_engine.problem import (
    CompareKind,
    FunctionTarget,
    Problem,
    ProblemKind,
    WholeFile,
    load_problem,
    parse_comparison,
)
from orps_engine.problem import TestKind as Kind  # aliased: pytest would collect a Test* class

Write = Callable[[str, str], Path]
Copy = Callable[[str], Path]

ECHO = "print(input())\n"
ADD = "def add(a, b):\n    return a + b\n"


def load_error(solution: Path, **kwargs: Any) -> InputError:
    with pytest.raises(InputError) as info:
        load_problem(solution, **kwargs)
    assert info.value.exit_code == 2
    return info.value


def sidecar_error(write: Write, data: dict[str, Any] | str, solution: str = ECHO,
                  **kwargs: Any) -> tuple[InputError, Path]:
    """The error of loading a solution whose sidecar holds ``data`` (pretty-printed when a dict)."""
    text = data if isinstance(data, str) else json.dumps(data, indent=2)
    side = write("sol.tests.json", text)
    return load_error(write("sol.py", solution), **kwargs), side


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the first line of ``text`` holding ``needle``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def cc(tests: Any = None, **fields: Any) -> dict[str, Any]:
    """A Competitive Companion problem with ``fields`` added."""
    default = [{"input": "1\n", "output": "1\n"}]
    return {"name": "P", "tests": default if tests is None else tests, **fields}


# -- the solution file ------------------------------------------------------------------------------
def test_solution_missing_raises_file_not_found_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "nope.py"
    error = load_error(path)
    assert str(error) == f"{path}: file not found"


def test_solution_is_directory_raises_not_a_file_with_hint(tmp_path: Path) -> None:
    error = load_error(tmp_path)
    assert str(error) == f"{tmp_path}: not a file"
    assert error.hint and ".py" in error.hint


def test_solution_not_utf8_raises_naming_it(write: Write) -> None:
    path = write("sol.py", "")
    path.write_bytes(b"print('\xff\xfe')\n")
    error = load_error(path)
    assert str(error) == f"{path}: not UTF-8 text"


def test_solution_without_any_tests_raises_no_tests_found_with_hint(write: Write) -> None:
    path = write("sol.py", ECHO)
    error = load_error(path)
    assert str(error) == f"{path}: no tests found"
    assert error.hint is not None
    for way in ("tests.json", "doctest", "test/*.in", "--tests"):
        assert way in error.hint


def test_solution_syntax_error_without_tests_raises_naming_its_line(write: Write) -> None:
    path = write("sol.py", "x = 1\ndef f(:\n    pass\n")
    error = load_error(path)
    assert str(error).startswith(f"{path}:2: no tests found, and the file does not parse")
    assert error.hint is not None


def test_solution_syntax_error_with_sidecar_still_loads_the_tests(write: Write) -> None:
    write("sol.tests.json", json.dumps(cc()))
    problem = load_problem(write("sol.py", "print(\n"))
    assert problem.kind is ProblemKind.PROGRAM and len(problem.tests) == 1


def test_solution_accepts_str_paths(write: Write) -> None:
    path = write("sol.py", ECHO)
    write("sol.tests.json", json.dumps(cc()))
    assert load_problem(str(path)).path == path


# -- precedence -----------------------------------------------------------------------------------
def test_precedence_explicit_json_beats_sidecar_doctests_and_oj(problem: Copy) -> None:
    folder = problem("all_sources")
    loaded = load_problem(folder / "sol.py", tests=folder / "explicit.json")
    assert loaded.origin == str(folder / "explicit.json")
    assert [t.input for t in loaded.tests] == ["1\n", "5\n", "-4\n"]


def test_precedence_explicit_folder_beats_sidecar_doctests_and_oj(problem: Copy) -> None:
    folder = problem("all_sources")
    loaded = load_problem(folder / "sol.py", tests=folder / "explicit_dir")
    assert loaded.origin == str(folder / "explicit_dir")
    assert [t.id for t in loaded.tests] == ["big"]


def test_precedence_sidecar_beats_doctests_and_oj(problem: Copy) -> None:
    folder = problem("all_sources")
    loaded = load_problem(folder / "sol.py")
    assert loaded.origin == str(folder / "sol.tests.json")
    assert [t.kind for t in loaded.tests] == [Kind.ASSERT, Kind.ASSERT]


def test_precedence_doctests_beat_oj_without_sidecar(problem: Copy) -> None:
    folder = problem("all_sources")
    (folder / "sol.tests.json").unlink()
    loaded = load_problem(folder / "sol.py")
    assert loaded.origin == "doctests of double"
    assert [t.kind for t in loaded.tests] == [Kind.DOCTEST]


def test_precedence_oj_used_without_sidecar_or_doctests(problem: Copy) -> None:
    folder = problem("all_sources")
    (folder / "sol.tests.json").unlink()
    (folder / "sol.py").write_text("print(2 * int(input()))\n", encoding="utf-8")
    loaded = load_problem(folder / "sol.py")
    assert loaded.origin == str(folder / "test")
    assert [(t.id, t.input, t.expected) for t in loaded.tests] == [("1", "7\n", "14\n")]


def test_precedence_malformed_sidecar_raises_instead_of_falling_back(problem: Copy) -> None:
    folder = problem("all_sources")
    (folder / "sol.tests.json").write_text("{not json", encoding="utf-8")
    error = load_error(folder / "sol.py")
    assert str(error).startswith(f"{folder / 'sol.tests.json'}:1: not valid JSON")


def test_precedence_sidecar_matched_by_stem_only(write: Write) -> None:
    write("other.tests.json", json.dumps(cc()))
    error = load_error(write("sol.py", ECHO))
    assert "no tests found" in str(error)


# -- --tests PATH -----------------------------------------------------------------------------------
def test_explicit_json_anywhere_is_used_with_its_own_path(write: Write, tmp_path: Path) -> None:
    tests = tmp_path / "elsewhere" / "cases.json"
    tests.parent.mkdir()
    tests.write_text(json.dumps(cc()), encoding="utf-8")
    loaded = load_problem(write("sol.py", ECHO), tests=str(tests))
    assert loaded.tests[0].path == tests
    assert loaded.path.name == "sol.py"


def test_explicit_json_function_schema_loads_asserts(write: Write) -> None:
    tests = write("t.json", json.dumps({"asserts": ["assert add(1, 2) == 3"]}))
    loaded = load_problem(write("sol.py", ADD), tests=tests)
    assert loaded.kind is ProblemKind.MODULE
    assert loaded.tests[0].source == "assert add(1, 2) == 3"


def test_explicit_json_missing_raises_sidecar_not_found(write: Write, tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    error = load_error(write("sol.py", ECHO), tests=missing)
    assert str(error) == f"{missing}: tests file not found"


def test_explicit_folder_pairs_loaded_as_stdio_tests(problem: Copy) -> None:
    folder = problem("all_sources")
    (test,) = load_problem(folder / "sol.py", tests=folder / "explicit_dir").tests
    assert (test.kind, test.input, test.expected) == (Kind.STDIO, "21\n", "42\n")
    assert test.path == folder / "explicit_dir" / "big.in"


def test_explicit_folder_target_is_program(problem: Copy) -> None:
    folder = problem("all_sources")
    loaded = load_problem(folder / "sol.py", tests=folder / "explicit_dir")
    assert loaded.kind is ProblemKind.PROGRAM and loaded.target == WholeFile()


def test_explicit_folder_with_function_raises(problem: Copy) -> None:
    folder = problem("all_sources")
    error = load_error(folder / "sol.py", tests=folder / "explicit_dir", function="double")
    assert "--function double" in str(error) and "stdin/stdout" in str(error)


def test_explicit_folder_without_in_files_raises_naming_it(write: Write, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "1.out").write_text("1\n", encoding="utf-8")
    error = load_error(write("sol.py", ECHO), tests=empty)
    assert str(error) == f"{empty}: no *.in files"


def test_explicit_folder_missing_out_raises_naming_the_input(write: Write) -> None:
    write("cases/a.in", "1\n")
    write("cases/a.out", "1\n")
    infile = write("cases/b.in", "2\n")
    error = load_error(write("sol.py", ECHO), tests=infile.parent)
    assert str(error) == f"{infile}: b.in has no matching b.out"


# -- sidecar: Competitive Companion ---------------------------------------------------------------------
def test_sidecar_companion_as_sent_loads_with_its_extra_fields(problem: Copy) -> None:
    folder = problem("companion")
    loaded = load_problem(folder / "melon.py")
    assert loaded.kind is ProblemKind.PROGRAM
    assert loaded.name == "A. Watermelon"
    assert loaded.url == "https://codeforces.com/problemset/problem/4/A"
    assert [(t.id, t.input, t.expected) for t in loaded.tests] == [("1", "8\n", "YES\n"), ("2", "2\n", "NO\n")]
    assert all(t.kind is Kind.STDIO and t.path == folder / "melon.tests.json" for t in loaded.tests)


def test_sidecar_companion_limits_converted_from_ms_and_mb(problem: Copy) -> None:
    loaded = load_problem(problem("companion") / "melon.py")
    assert loaded.time_limit_s == 1.0
    assert loaded.memory_limit_mb == 64


def test_sidecar_companion_test_lines_point_at_each_tests_object(problem: Copy) -> None:
    folder = problem("companion")
    text = (folder / "melon.tests.json").read_text(encoding="utf-8")
    lines = text.splitlines()
    loaded = load_problem(folder / "melon.py")
    assert [t.line for t in loaded.tests] == [9, 13]
    for test in loaded.tests:
        assert test.line is not None
        assert lines[test.line - 1].strip() == "{"
        assert json.dumps(test.input) in lines[test.line]


def test_sidecar_companion_one_line_per_test_lines_follow(write: Write) -> None:
    text = '{\n  "tests": [\n    {"input": "1", "output": "1"},\n    {"input": "2", "output": "2"}\n  ]\n}\n'
    write("sol.tests.json", text)
    loaded = load_problem(write("sol.py", ECHO))
    assert [t.line for t in loaded.tests] == [3, 4]


def test_sidecar_without_limits_uses_defaults(write: Write) -> None:
    write("sol.tests.json", json.dumps(cc()))
    loaded = load_problem(write("sol.py", ECHO))
    assert (loaded.time_limit_s, loaded.memory_limit_mb) == (DEFAULT_TIME_LIMIT_S, DEFAULT_MEMORY_LIMIT_MB)
    assert (loaded.time_limit_s, loaded.memory_limit_mb) == (2.0, 512)
    assert loaded.compare.kind is CompareKind.TOKENS and loaded.compare.inferred  # the outputs are integers


def test_sidecar_fractional_limits_kept_and_rounded_up(write: Write) -> None:
    write("sol.tests.json", json.dumps(cc(timeLimit=1500, memoryLimit=0.5)))
    loaded = load_problem(write("sol.py", ECHO))
    assert loaded.time_limit_s == 1.5
    assert loaded.memory_limit_mb == 1


def test_sidecar_allow_subprocesses_is_read_and_off_by_default(write: Write) -> None:
    write("sol.tests.json", json.dumps(cc()))
    assert load_problem(write("sol.py", ECHO)).allow_subprocesses is False
    write("sol.tests.json", json.dumps(cc(allowSubprocesses=True)))
    assert load_problem(write("sol.py", ECHO)).allow_subprocesses is True


@pytest.mark.parametrize("value", [1, "true", None])
def test_sidecar_allow_subprocesses_must_be_a_boolean(write: Write, value: Any) -> None:
    text = '{\n  "tests": [{"input": "1", "output": "1"}],\n  "allowSubprocesses": ' + json.dumps(value) + "\n}\n"
    error, side = sidecar_error(write, text)
    assert str(error) == f'{side}:3: field "allowSubprocesses": expected true or false'


def test_sidecar_without_name_or_url_leaves_them_none(write: Write) -> None:
    write("sol.tests.json", json.dumps({"tests": [{"input": "", "output": ""}], "url": ""}))
    loaded = load_problem(write("sol.py", ECHO))
    assert loaded.name is None and loaded.url is None


@pytest.mark.parametrize("mode", ["tokens", "lines", "exact", "float", "float:1e-3", "float:0.5", "float:.25"])
def test_sidecar_compare_mode_valid_is_kept(write: Write, mode: str) -> None:
    write("sol.tests.json", json.dumps(cc(compare=mode)))
    chosen = load_problem(write("sol.py", ECHO)).compare
    assert chosen == parse_comparison(mode) and not chosen.inferred


@pytest.mark.parametrize("mode", ["fuzzy", "float:", "float:x", "float:-1", "Tokens", 5, None, ["exact"]])
def test_sidecar_compare_mode_invalid_raises_naming_field_and_line(write: Write, mode: Any) -> None:
    error, side = sidecar_error(write, cc(compare=mode))
    text = side.read_text(encoding="utf-8")
    assert str(error).startswith(f'{side}:{line_of(text, "compare")}: field "compare": expected tokens')


def test_sidecar_interactive_true_raises_naming_field_and_line(write: Write) -> None:
    error, side = sidecar_error(write, cc(interactive=True))
    line = line_of(side.read_text(encoding="utf-8"), "interactive")
    assert str(error) == f'{side}:{line}: field "interactive": interactive problems are not supported'


@pytest.mark.parametrize("key", ["input", "output"])
def test_sidecar_file_io_raises_naming_field_and_type(write: Write, key: str) -> None:
    error, side = sidecar_error(write, cc(**{key: {"type": "file", "fileName": "a.txt"}}))
    line = line_of(side.read_text(encoding="utf-8"), f'"{key}": {{')
    assert str(error).startswith(f'{side}:{line}: field "{key}": only stdin/stdout problems are supported')
    assert "'file'" in str(error)


def test_sidecar_regex_input_raises(write: Write) -> None:
    error, _side = sidecar_error(write, cc(input={"type": "regex", "pattern": "in.*"}))
    assert 'field "input"' in str(error) and "'regex'" in str(error)


@pytest.mark.parametrize("tests", [{"input": "1", "output": "1"}, "1\n", 3, None])
def test_sidecar_tests_not_a_list_raises_naming_field_and_line(write: Write, tests: Any) -> None:
    error, side = sidecar_error(write, {"name": "P", "tests": tests})
    line = line_of(side.read_text(encoding="utf-8"), '"tests"')
    assert str(error).startswith(f'{side}:{line}: field "tests": expected a list')


def test_sidecar_tests_empty_raises(write: Write) -> None:
    error, side = sidecar_error(write, cc(tests=[]))
    assert str(error) == f'{side}:3: field "tests": the list is empty'


def test_sidecar_test_not_an_object_raises_naming_index_and_line(write: Write) -> None:
    text = '{\n  "tests": [\n    {"input": "1", "output": "1"},\n    "2"\n  ]\n}\n'
    error, side = sidecar_error(write, text)
    assert str(error).startswith(f'{side}:4: field "tests[1]": expected an object')


def test_sidecar_test_missing_output_raises_naming_index_field_and_line(write: Write) -> None:
    text = '{\n  "tests": [\n    {"input": "1", "output": "1"},\n    {"input": "2"}\n  ]\n}\n'
    error, side = sidecar_error(write, text)
    assert str(error) == f'{side}:4: field "tests[1].output": missing'


def test_sidecar_test_missing_input_raises(write: Write) -> None:
    error, side = sidecar_error(write, '{"tests": [{"output": "1"}]}')
    assert str(error) == f'{side}:1: field "tests[0].input": missing'


@pytest.mark.parametrize("value", [5, None, ["1"], {"a": 1}])
def test_sidecar_test_non_string_input_raises_expected_a_string(write: Write, value: Any) -> None:
    text = '{\n  "tests": [\n    {"input": ' + json.dumps(value) + ', "output": "1"}\n  ]\n}\n'
    error, side = sidecar_error(write, text)
    assert str(error) == f'{side}:3: field "tests[0].input": expected a string'


def test_sidecar_test_non_string_output_raises_expected_a_string(write: Write) -> None:
    error, side = sidecar_error(write, '{"tests": [{"input": "1", "output": 1}]}')
    assert str(error) == f'{side}:1: field "tests[0].output": expected a string'


def test_sidecar_companion_with_function_raises_with_hint(write: Write) -> None:
    error, side = sidecar_error(write, cc(), function="f")
    assert str(error) == f"{side}: --function f given, but {side.name} holds stdin/stdout tests"
    assert error.hint and "drop --function" in error.hint


@pytest.mark.parametrize("value", [0, -1000, "1000", True, None, float("nan"), float("inf"), 1e12, 10**400])
def test_sidecar_bad_time_limit_raises_naming_field_and_line(write: Write, value: Any) -> None:
    text = '{\n  "tests": [{"input": "1", "output": "1"}],\n  "timeLimit": ' + json.dumps(value) + "\n}\n"
    error, side = sidecar_error(write, text)
    assert str(error).startswith(f'{side}:3: field "timeLimit": expected a positive number of milliseconds')


@pytest.mark.parametrize("value", [0, -64, "64", False, float("nan"), float("inf"), 10**400])
def test_sidecar_bad_memory_limit_raises_naming_field_and_line(write: Write, value: Any) -> None:
    text = '{\n  "memoryLimit": ' + json.dumps(value) + ',\n  "tests": [{"input": "1", "output": "1"}]\n}\n'
    error, side = sidecar_error(write, text)
    assert str(error).startswith(f'{side}:2: field "memoryLimit": expected a positive number of megabytes')


def test_sidecar_invalid_json_raises_naming_line_and_column(write: Write) -> None:
    text = '{\n  "tests": [\n    {"input": "1", "output": "1"},\n  ]\n}\n'
    error, side = sidecar_error(write, text)
    assert str(error).startswith(f"{side}:4: not valid JSON: ")
    assert "(column 3)" in str(error)
    assert error.hint and "JSON syntax" in error.hint


def test_sidecar_empty_file_raises_not_valid_json(write: Write) -> None:
    error, side = sidecar_error(write, "")
    assert str(error).startswith(f"{side}:1: not valid JSON")


def test_sidecar_nested_too_deeply_raises_input_error(write: Write) -> None:
    error, side = sidecar_error(write, "[" * 100_000 + "]" * 100_000)
    assert str(error) == f"{side}: not valid JSON: nested too deeply"


def test_sidecar_not_utf8_raises_cannot_read(write: Write) -> None:
    side = write("sol.tests.json", "")
    side.write_bytes(b'{"name": "\xff"}')
    error = load_error(write("sol.py", ECHO))
    assert str(error).startswith(f"{side}: cannot read the tests file")


@pytest.mark.parametrize("text", ["[]", '"tests"', "3", "null"])
def test_sidecar_top_level_not_an_object_raises(write: Write, text: str) -> None:
    error, side = sidecar_error(write, text)
    assert str(error) == f'{side}:1: expected a JSON object with "tests" or "asserts"'


def test_sidecar_without_tests_or_asserts_raises_with_hint(write: Write) -> None:
    error, side = sidecar_error(write, {"name": "P", "timeLimit": 1000})
    assert str(error) == f'{side}:1: no "tests" (stdin/stdout) or "asserts" (function) field'
    assert error.hint and "README" in error.hint


# -- sidecar: function schema -----------------------------------------------------------------------------
FUNCTION_SIDECAR = """{
  "entry_point": "add",
  "setup": "from sol import add\\nHELPER = 1",
  "timeLimit": 5000,
  "memoryLimit": 128,
  "asserts": [
    "assert add(1, 2) == 3",
    "x = add(2, 2)\\nassert x == 4"
  ]
}
"""


def load_function_sidecar(write: Write, text: str = FUNCTION_SIDECAR, solution: str = ADD,
                          **kwargs: Any) -> Problem:
    write("sol.tests.json", text)
    return load_problem(write("sol.py", solution), **kwargs)


def test_sidecar_function_schema_loads_every_field(write: Write) -> None:
    loaded = load_function_sidecar(write)
    side = loaded.path.with_name("sol.tests.json")
    assert loaded.kind is ProblemKind.MODULE
    assert loaded.target == FunctionTarget("add")
    assert loaded.module == "sol"
    assert loaded.setup == "from sol import add\nHELPER = 1"
    assert loaded.setup_path == side
    assert (loaded.time_limit_s, loaded.memory_limit_mb) == (5.0, 128)
    assert [(t.id, t.kind, t.source) for t in loaded.tests] == [
        ("1", Kind.ASSERT, "assert add(1, 2) == 3"), ("2", Kind.ASSERT, "x = add(2, 2)\nassert x == 4")]
    assert all(t.path == side for t in loaded.tests)


def test_sidecar_function_schema_assert_lines_point_at_each_string(write: Write) -> None:
    loaded = load_function_sidecar(write)
    assert [t.line for t in loaded.tests] == [7, 8]


def test_sidecar_function_schema_defaults_without_optional_fields(write: Write) -> None:
    loaded = load_function_sidecar(write, json.dumps({"asserts": ["assert add(1, 1) == 2"]}))
    assert loaded.target == FunctionTarget("add")  # inferred: the solution's one function the asserts call
    assert loaded.setup == ""
    assert (loaded.time_limit_s, loaded.memory_limit_mb) == (2.0, 512)


def test_sidecar_without_entry_point_infers_the_called_function(write: Write) -> None:
    solution = write("multi.py", "def helper(x):\n    return x\n\ndef main_fn(x):\n    return helper(x) + 1\n")
    write("multi.tests.json", json.dumps({"asserts": ["assert main_fn(1) == 2"]}))
    assert load_problem(solution).target == FunctionTarget("main_fn")
    write("multi.tests.json", json.dumps({"asserts": ["assert main_fn(1) == helper(2)"]}))
    assert load_problem(solution).target == WholeFile()  # two candidates: no guess


def test_sidecar_function_schema_function_flag_overrides_entry_point(write: Write) -> None:
    solution = ADD + "\n\ndef sub(a, b):\n    return a - b\n"
    loaded = load_function_sidecar(write, solution=solution, function="sub")
    assert loaded.target == FunctionTarget("sub")


def test_sidecar_function_schema_entry_point_bound_by_assignment_accepted(write: Write) -> None:
    loaded = load_function_sidecar(write, solution="add = lambda a, b: a + b\n")
    assert loaded.target == FunctionTarget("add")


def test_sidecar_function_schema_module_for_non_identifier_stem_is_solution(write: Write) -> None:
    write("my-sol.tests.json", json.dumps({"asserts": ["assert add(1, 1) == 2"]}))
    assert load_problem(write("my-sol.py", ADD)).module == "solution"


def test_sidecar_function_schema_entry_point_not_defined_raises_naming_it(write: Write) -> None:
    error, _side = sidecar_error(write, {"entry_point": "mul", "asserts": ["assert mul(2, 2) == 4"]}, ADD)
    assert "function 'mul' is not defined at the top level" in str(error)
    assert error.hint and "entry_point" in error.hint


@pytest.mark.parametrize("entry", ["1abc", "add()", 5, ""])
def test_sidecar_function_schema_bad_entry_point_raises(write: Write, entry: Any) -> None:
    error, side = sidecar_error(write, {"entry_point": entry, "asserts": ["assert 1"]}, ADD)
    assert str(error) == f'{side}:2: field "entry_point": expected a function name'


@pytest.mark.parametrize("asserts", [[], None, "assert 1", {"a": "assert 1"}])
def test_sidecar_function_schema_empty_or_non_list_asserts_raise(write: Write, asserts: Any) -> None:
    error, side = sidecar_error(write, {"entry_point": "add", "asserts": asserts}, ADD)
    assert str(error) == f'{side}:3: field "asserts": expected a non-empty list of assert statements'


def test_sidecar_function_schema_entry_point_without_asserts_raises(write: Write) -> None:
    error, side = sidecar_error(write, {"entry_point": "add"}, ADD)
    assert str(error) == f'{side}: field "asserts": expected a non-empty list of assert statements'


@pytest.mark.parametrize("statement", [5, None, "", "   \n"])
def test_sidecar_function_schema_non_string_or_blank_assert_raises_naming_index(write: Write,
                                                                                statement: Any) -> None:
    text = '{\n  "asserts": [\n    "assert add(1, 1) == 2",\n    ' + json.dumps(statement) + "\n  ]\n}\n"
    error, side = sidecar_error(write, text, ADD)
    assert str(error) == f'{side}:4: field "asserts[1]": expected a string of Python code'


def test_sidecar_function_schema_assert_syntax_error_raises_naming_index_and_line(write: Write) -> None:
    text = '{\n  "asserts": [\n    "assert add(1, 1) == 2",\n    "assert add(1,, 2) == 3"\n  ]\n}\n'
    error, side = sidecar_error(write, text, ADD)
    assert str(error).startswith(f'{side}:4: field "asserts[1]": not valid Python: ')
    assert "(line 1 of the code)" in str(error)


def test_sidecar_function_schema_setup_syntax_error_raises_naming_setup_line(write: Write) -> None:
    text = '{\n  "asserts": ["assert 1"],\n  "setup": "import os\\nfrom import x"\n}\n'
    error, side = sidecar_error(write, text, ADD)
    assert str(error).startswith(f'{side}:3: field "setup": not valid Python: ')
    assert "(line 2 of the code)" in str(error)


def test_sidecar_function_schema_setup_null_byte_raises_without_bogus_line(write: Write) -> None:
    error, side = sidecar_error(write, {"setup": "\u0000", "asserts": ["assert 1"]}, ADD)
    assert str(error).startswith(f'{side}:2: field "setup": not valid Python')
    assert "None" not in str(error)


@pytest.mark.parametrize("setup", [5, ["import os"], None])
def test_sidecar_function_schema_setup_not_a_string_raises(write: Write, setup: Any) -> None:
    error, side = sidecar_error(write, {"setup": setup, "asserts": ["assert 1"]}, ADD)
    assert str(error) == f'{side}:2: field "setup": expected a string of Python code'


def test_sidecar_function_schema_bad_time_limit_raises(write: Write) -> None:
    error, side = sidecar_error(write, '{"asserts": ["assert 1"],\n "timeLimit": "5s"}', ADD)
    assert str(error).startswith(f'{side}:2: field "timeLimit"')


# -- doctests ---------------------------------------------------------------------------------------------
DOCTESTED = '''\
import math


def f(x):
    """One more than x.

    >>> y = 3
    >>> f(y)
    4
    >>> f(-1)
    Traceback (most recent call last):
      ...
    ValueError: negative
    >>> print("ignored")  # doctest: +SKIP
    >>> f(10 ** 20)  # doctest: +ELLIPSIS
    1000...1
    """
    if x < 0:
        raise ValueError("negative")
    return x + 1
'''


def test_doctests_single_function_loaded_as_function_problem(write: Write) -> None:
    path = write("dt.py", DOCTESTED)
    loaded = load_problem(path)
    assert loaded.kind is ProblemKind.MODULE
    assert (loaded.target, loaded.module, loaded.origin) == (FunctionTarget("f"), "dt", "doctests of f")
    assert (loaded.time_limit_s, loaded.memory_limit_mb) == (2.0, 512)
    assert [t.id for t in loaded.tests] == ["1", "2", "3"]
    assert all(t.kind is Kind.DOCTEST and t.path == path for t in loaded.tests)


def test_doctests_only_examples_with_output_are_tests(write: Write) -> None:
    loaded = load_problem(write("dt.py", DOCTESTED))
    assert [t.source for t in loaded.tests] == ["f(y)\n", "f(-1)\n", "f(10 ** 20)  # doctest: +ELLIPSIS\n"]
    assert loaded.tests[0].want == "4\n"


def test_doctests_examples_without_output_run_first_as_context(write: Write) -> None:
    first, second, third = load_problem(write("dt.py", DOCTESTED)).tests
    assert first.context == ("y = 3\n",)
    assert second.context == ("y = 3\n", "f(y)\n")
    assert third.context == ("y = 3\n", "f(y)\n", "f(-1)\n", 'print("ignored")  # doctest: +SKIP\n')


def test_doctests_exception_example_keeps_exception_line(write: Write) -> None:
    test = load_problem(write("dt.py", DOCTESTED)).tests[1]
    assert test.exc_msg == "ValueError: negative\n"
    assert test.want.startswith("Traceback (most recent call last):")


def test_doctests_option_directive_sets_flags(write: Write) -> None:
    tests = load_problem(write("dt.py", DOCTESTED)).tests
    assert tests[2].doctest_flags & doctest.ELLIPSIS
    assert tests[0].doctest_flags == 0


def test_doctests_lines_point_at_each_example_in_the_file(write: Write) -> None:
    path = write("dt.py", DOCTESTED)
    lines = DOCTESTED.splitlines()
    loaded = load_problem(path)
    assert [t.line for t in loaded.tests] == [8, 10, 15]
    for test in loaded.tests:
        assert test.line is not None and test.source is not None
        assert lines[test.line - 1].strip() == ">>> " + test.source.strip()


def test_doctests_lines_right_for_decorated_function_with_one_line_docstring_start(write: Write) -> None:
    text = ('import functools\n\n\n@functools.cache\ndef g(n):\n'
            '    """\n    >>> g(2)\n    4\n    """\n    return n * n\n')
    (test,) = load_problem(write("g.py", text)).tests
    assert test.line == 7


def test_doctests_several_functions_raise_naming_them_with_hint(problem: Copy) -> None:
    path = problem("doctest_several") / "funcs.py"
    error = load_error(path)
    assert str(error) == f"{path}: several functions have doctests (inc, dec)"
    assert error.hint == "pick one with --function NAME"


def test_doctests_function_flag_picks_one_of_several(problem: Copy) -> None:
    loaded = load_problem(problem("doctest_several") / "funcs.py", function="dec")
    assert loaded.target == FunctionTarget("dec")
    assert [(t.source, t.want) for t in loaded.tests] == [("dec(1)\n", "0\n"), ("dec(10)\n", "9\n")]
    assert [t.line for t in loaded.tests] == [14, 16]


def test_doctests_function_flag_on_function_without_examples_raises_no_tests(problem: Copy) -> None:
    path = problem("doctest_several") / "funcs.py"
    error = load_error(path, function="plain")
    assert str(error) == f"{path}: no tests found for plain: no sidecar and no doctest examples"
    assert error.hint is not None


def test_doctests_function_flag_naming_missing_function_raises_not_defined(problem: Copy) -> None:
    path = problem("doctest_several") / "funcs.py"
    error = load_error(path, function="nope")
    assert str(error) == f"{path}: function 'nope' is not defined at the top level of the file"


@pytest.mark.parametrize("name", ["1x", "f()", "a b", "", "C.", ".m", "C..m", "C.m()"])
def test_doctests_function_flag_not_a_name_raises(write: Write, name: str) -> None:
    error = load_error(write("dt.py", DOCTESTED), function=name)
    assert str(error) == f"--function {name!r} is not a Python name"


def test_doctests_examples_without_any_output_raise_naming_function_line(write: Write) -> None:
    path = write("dt.py", 'X = 1\n\n\ndef f():\n    """\n    >>> f()\n    """\n')
    error = load_error(path)
    assert str(error) == f"{path}:4: the doctests of f show no expected output"


def test_doctests_malformed_example_raises_naming_function(write: Write) -> None:
    path = write("dt.py", 'def f():\n    """\n      >>> f()\n    1\n    """\n')
    error = load_error(path)
    assert str(error).startswith(f"{path}:2: malformed doctest in f: ")


def test_doctests_async_function_examples_loaded(write: Write) -> None:
    loaded = load_problem(write("a.py", 'async def h():\n    """\n    >>> 1 + 1\n    2\n    """\n'))
    assert loaded.target == FunctionTarget("h") and len(loaded.tests) == 1


def test_doctests_method_examples_are_the_methods_tests(write: Write) -> None:
    path = write("m.py", 'class C:\n    def m(self):\n        """\n        >>> C().m()\n        1\n        """\n'
                         '        return 1\n')
    loaded = load_problem(path)
    assert loaded.target == FunctionTarget("C.m") and loaded.origin == "doctests of C.m"
    assert [(t.source, t.want, t.line) for t in loaded.tests] == [("C().m()\n", "1\n", 4)]


STATS = Path(__file__).parents[2] / "data" / "problems" / "methods" / "stats.py"
METHOD_DOCTESTS = '''class Stats:
    def __init__(self, values):
        self.values = values

    def mean(self):
        """
        >>> Stats([1, 2, 3]).mean()
        2.0
        """
        return sum(self.values) / len(self.values)

    @property
    def size(self):
        """
        >>> Stats([1, 2]).size
        2
        """
        return len(self.values)

    @size.setter
    def size(self, value):
        """
        >>> 1
        1
        """


def plain():
    """
    >>> plain()
    1
    """
    return 1
'''


@pytest.mark.parametrize("function", ["Stats.mean", "Stats.square", "Stats.of", "Stats.size", "Stats.spread",
                                      "Stats.Summary.line", "fetch_total"])
def test_function_flag_names_a_method_by_its_qualified_name(problem: Copy, function: str) -> None:
    loaded = load_problem(problem("methods") / "stats.py", function=function)
    assert loaded.target == FunctionTarget(function)
    assert loaded.tests[0].source == "assert Stats([1, 2, 3]).mean() == 2"


@pytest.mark.parametrize(("function", "message"), [
    ("Stat.mean", "class 'Stat' is not defined at the top level of the file"),
    ("Stats.median", "method 'Stats.median' is not defined: class 'Stats' has no method 'median'"),
    ("Stats.values", "method 'Stats.values' is not defined: class 'Stats' has no method 'values'"),
    ("Stats.Outline.line", "class 'Stats.Outline' is not defined in the file"),
    ("traced.inner", "class 'traced' is not defined at the top level of the file"),  # nested defs are no targets
    ("Stats.mean.total", "class 'Stats.mean' is not defined in the file"),
])
def test_function_flag_naming_a_missing_method_raises_saying_what_is_missing(problem: Copy, function: str,
                                                                             message: str) -> None:
    path = problem("methods") / "stats.py"
    error = load_error(path, function=function)
    assert str(error) == f"{path}: {message}"
    assert error.hint == "check --function or the tests' entry_point"


def test_doctests_of_methods_are_listed_by_qualified_name(write: Write) -> None:
    path = write("stats.py", METHOD_DOCTESTS)
    error = load_error(path)
    assert str(error) == f"{path}: several functions have doctests (Stats.mean, Stats.size, plain)"
    loaded = load_problem(path, function="Stats.size")
    assert loaded.target == FunctionTarget("Stats.size")  # the getter's examples, not the setter's
    assert [(t.source, t.want) for t in loaded.tests] == [("Stats([1, 2]).size\n", "2\n")]
    assert load_problem(path, function="Stats.mean").origin == "doctests of Stats.mean"


def test_function_flag_naming_a_method_without_doctests_raises_no_tests(write: Write) -> None:
    path = write("stats.py", METHOD_DOCTESTS)
    error = load_error(path, function="Stats.__init__")
    assert str(error) == f"{path}: no tests found for Stats.__init__: no sidecar and no doctest examples"


def test_doctests_of_a_nested_function_are_not_collected(write: Write) -> None:
    path = write("n.py", 'def f():\n    def g():\n        """\n        >>> 1\n        1\n        """\n')
    assert "no tests found" in str(load_error(path))


# -- online-judge-tools layout ------------------------------------------------------------------------------
def test_oj_cases_sorted_naturally_and_other_files_ignored(problem: Copy) -> None:
    folder = problem("oj_natural")
    loaded = load_problem(folder / "sol.py")
    assert [t.id for t in loaded.tests] == ["1", "2", "10", "sample-2", "sample-10"]
    assert all(t.input == t.expected == f"{t.id}\n" for t in loaded.tests)


def test_oj_cases_are_stdio_tests_of_a_program(problem: Copy) -> None:
    folder = problem("oj_natural")
    loaded = load_problem(folder / "sol.py")
    assert loaded.kind is ProblemKind.PROGRAM and loaded.origin == str(folder / "test")
    first = loaded.tests[0]
    assert (first.kind, first.path, first.line) == (Kind.STDIO, folder / "test" / "1.in", 1)


def test_oj_missing_out_raises_naming_the_input_with_hint(problem: Copy) -> None:
    folder = problem("oj_natural")
    (folder / "test" / "10.out").unlink()
    error = load_error(folder / "sol.py")
    assert str(error) == f"{folder / 'test' / '10.in'}: 10.in has no matching 10.out"
    assert error.hint and "expected output" in error.hint


def test_oj_out_without_in_ignored(problem: Copy) -> None:
    folder = problem("oj_natural")
    (folder / "test" / "99.out").write_text("99\n", encoding="utf-8")
    assert "99" not in [t.id for t in load_problem(folder / "sol.py").tests]


def test_oj_folder_without_in_files_means_no_tests(write: Write) -> None:
    write("test/1.out", "1\n")
    error = load_error(write("sol.py", ECHO))
    assert "no tests found" in str(error)


def test_oj_unreadable_input_raises_naming_it(write: Write) -> None:
    infile = write("test/1.in", "")
    infile.write_bytes(b"\xff\xfe\n")
    write("test/1.out", "1\n")
    error = load_error(write("sol.py", ECHO))
    assert str(error).startswith(f"{infile}: cannot read")


def test_oj_ignored_when_function_flag_given(problem: Copy) -> None:
    folder = problem("oj_natural")
    error = load_error(folder / "sol.py", function="main")
    assert "'main' is not defined" in str(error)


def test_a_pep_263_coding_line_is_read_as_python_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "cafe.py"
    source = "# -*- coding: latin-1 -*-\ndef name():\n    \"\"\"\n    >>> name()\n    'café'\n    \"\"\"\n" \
             "    return 'café'\r\n"
    path.write_bytes(source.encode("latin-1"))
    loaded = load_problem(path)
    assert loaded.source == source  # decoded as latin-1, line endings as they were
    assert run_tests(loaded).all_passed
    path.write_bytes(b"# coding: no-such-codec\nx = 1\n")
    with pytest.raises(InputError, match="encoding declaration is not usable"):
        load_problem(path)


def test_a_programs_sidecar_and_its_test_folder_are_both_run_and_counted(write: Write) -> None:
    write("sol.tests.json", json.dumps(cc()))
    write("test/1.in", "2\n")
    write("test/1.out", "2\n")
    write("test/sample-2.in", "3\n")
    write("test/sample-2.out", "3\n")
    loaded = load_problem(write("sol.py", ECHO))
    assert [t.id for t in loaded.tests] == ["1", "test/1", "sample-2"]  # a clashing id is told apart
    assert "tests: 1 from sol.tests.json, 2 from" in " ".join(loaded.notes)


def test_a_function_sidecar_says_its_test_folder_is_not_run(write: Write) -> None:
    write("sol.tests.json", json.dumps({"entry_point": "f", "asserts": ["assert f(1) == 1"]}))
    write("test/1.in", "2\n")
    write("test/1.out", "2\n")
    loaded = load_problem(write("sol.py", "def f(x):\n    return x\n"))
    assert [t.id for t in loaded.tests] == ["1"] and "not run" in " ".join(loaded.notes)
