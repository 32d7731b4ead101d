"""``orps add``: a test added to a program's tests file from stdin, a file or the clipboard; the
file's other fields and tests kept; bad input said, never a traceback. And the one writer of that
file (``sidecar_edit``): change and delete by number, written whole or not at all."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from orps_engine.errors import InputError
from orps_engine.problem import load_problem
from orps_engine.problem.sidecar_edit import add_test, delete_test, update_test

from .conftest import Run


def umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def solution(tmp_path: Path) -> Path:
    path = tmp_path / "inc.py"
    path.write_text("print(int(input()) + 1)\n")
    return path


def test_added_from_stdin_creates_the_file_and_orps_test_runs_it(run: Run, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = solution(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO("1\n---\n2\n"))
    code, out, _err = run("add", path)
    assert code == 0 and "added test 1" in out and "created inc.tests.json" in out
    monkeypatch.setattr("sys.stdin", io.StringIO("41\n---\n42\n"))
    assert run("add", path)[0] == 0
    problem = load_problem(path)
    assert [(t.input, t.expected) for t in problem.tests] == [("1\n", "2\n"), ("41\n", "42\n")]
    code, out, _err = run("test", path)
    assert code == 0, out
    assert (tmp_path / "inc.tests.json").stat().st_mode & 0o777 == 0o666 & ~umask()  # as open() makes files


def test_added_from_files_keeps_the_other_fields_and_tests(run: Run, tmp_path: Path) -> None:
    path = solution(tmp_path)
    side = tmp_path / "inc.tests.json"
    side.write_text(json.dumps({"name": "A", "url": "https://x", "timeLimit": 1000, "tests": [{"input": "0",
                                                                                               "output": "1"}]}))
    (tmp_path / "in.txt").write_text("9\n")
    (tmp_path / "out.txt").write_text("10\n")
    code, out, _err = run("add", path, "--input-file", tmp_path / "in.txt", "--expected-file", tmp_path / "out.txt")
    assert code == 0 and "added test 2" in out
    document = json.loads(side.read_text())
    assert (document["name"], document["url"], document["timeLimit"]) == ("A", "https://x", 1000)
    assert document["tests"] == [{"input": "0", "output": "1"}, {"input": "9\n", "output": "10\n"}]


@pytest.mark.parametrize(("text", "message"), [("1\n", "no expected output"), ("1\n---\n2\n---\n3\n", "2 lines ---")])
def test_a_test_without_one_separator_is_refused(run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 text: str, message: str) -> None:
    path = solution(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    code, _out, err = run("add", path)
    assert code == 2 and message in err and not (tmp_path / "inc.tests.json").exists()


def test_the_clipboard_without_a_reader_says_what_to_do(run: Run, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no wl-paste, xclip, xsel or pbpaste
    code, _out, err = run("add", solution(tmp_path), "--clipboard")
    assert code == 2 and "no clipboard reader" in err and "orps add FILE < case.txt" in err


def test_a_function_tests_file_or_broken_json_is_never_touched(tmp_path: Path) -> None:
    path = solution(tmp_path)
    side = tmp_path / "inc.tests.json"
    for text in ('{"entry_point": "f", "asserts": ["assert f(1) == 2"]}', '{"tests": [1, 2'):
        side.write_text(text)
        with pytest.raises(InputError):
            add_test(path, "1", "2")
        assert side.read_text() == text


def test_tests_are_changed_and_deleted_by_number(tmp_path: Path) -> None:
    path = solution(tmp_path)
    for value in (1, 2, 3):
        add_test(path, f"{value}\n", f"{value + 1}\n")
    update_test(path, 2, expected="99\n")
    change = delete_test(path, 1)
    assert change.total == 2
    assert [(t.input, t.expected) for t in load_problem(path).tests] == [("2\n", "99\n"), ("3\n", "4\n")]
    with pytest.raises(InputError, match="no test 7: the file holds 2"):
        delete_test(path, 7)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".inc.tests.json.")]  # no temporary left
