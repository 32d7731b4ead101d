"""Adding a stdin/stdout test to a sidecar: kept fields and tests, a new file in Competitive
Companion's format, atomic replacement, and a clear error where the file cannot take one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orps_engine.errors import InputError
from orps_engine.problem import load_problem
from orps_engine.problem.sidecar import append_stdio_test, sidecar_path


def test_sidecar_append_to_a_missing_file_makes_a_companion_file(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("print(input())\n")
    saved = append_stdio_test(sidecar_path(tmp_path / "a.py"), "x\n", "x\n", new_file_fields={"name": "a"})
    assert (saved.number, saved.created, saved.already_there) == (1, True, False)
    problem = load_problem(tmp_path / "a.py")
    assert [(t.input, t.expected) for t in problem.tests] == [("x\n", "x\n")]


def test_sidecar_append_keeps_fields_tests_and_permissions(tmp_path: Path) -> None:
    path = tmp_path / "a.tests.json"
    path.write_text(json.dumps({"url": "u", "tests": [{"input": "1", "output": "1"}], "extra": {"k": [1]}}))
    path.chmod(0o600)
    saved = append_stdio_test(path, "é\n", "2\n", new_file_fields={})
    assert (saved.number, saved.created) == (2, False)
    assert json.loads(path.read_text(encoding="utf-8")) == {
        "url": "u", "tests": [{"input": "1", "output": "1"}, {"input": "é\n", "output": "2\n"}], "extra": {"k": [1]}}
    assert path.stat().st_mode & 0o777 == 0o600
    assert not list(tmp_path.glob(".a.tests.json.*"))  # no temporary file left


def test_sidecar_append_of_an_input_already_there_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "a.tests.json"
    text = json.dumps({"tests": [{"input": "1\n", "output": "1\n"}]})
    path.write_text(text)
    saved = append_stdio_test(path, "1\n", "other\n", new_file_fields={})
    assert (saved.number, saved.already_there) == (1, True)
    assert path.read_text() == text


@pytest.mark.parametrize(("text", "message"), [
    pytest.param("{\"tests\": [", "not valid JSON", id="broken-json"),
    pytest.param("{\"asserts\": [\"assert f()\"]}", "holds no \"tests\" list", id="function-tests"),
])
def test_sidecar_append_to_a_file_that_cannot_take_it_says_why_and_keeps_it(tmp_path: Path, text: str,
                                                                             message: str) -> None:
    path = tmp_path / "a.tests.json"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as caught:
        append_stdio_test(path, "1\n", "1\n", new_file_fields={})
    assert caught.value.hint is not None and "--no-save" in caught.value.hint
    assert path.read_text() == text
