"""End to end: the test panel's commands and the selection's code action, on the real server.

A program's tests are listed with their last results; one test runs alone and keeps the others'
results only while the code is the one they ran; a test added, changed or deleted through the panel
changes the sidecar (through the engine's one writer) and reruns the file's tests; a function's
tests file is refused with why and left as it was; a selection in a program offers to become a
test's input.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from lsprotocol import types

from tests.server.test_lsp import (
    Client,
    Launcher,
    change_document,
    execute,
    lsp,
    open_and_wait,
    open_document,
    wait_until,
    write_problem,
)

__all__ = ["lsp"]  # the fixture, used by name

DOUBLE_PY = "n = int(input())\nprint(n * 2 if n < 100 else n)\n"  # wrong from 100 on
FIXED_PY = "n = int(input())\nprint(n * 2)\n"
DOUBLE_TESTS = {"name": "Double", "tests": [{"input": "3\n", "output": "6\n"}, {"input": "200\n", "output": "400\n"}]}
ADD_PY = "def add(a, b):\n    return a + b\n"


def write_program(folder: Path, tests: dict[str, Any] = DOUBLE_TESTS) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    py, sidecar = folder / "double.py", folder / "double.tests.json"
    py.write_text(DOUBLE_PY, encoding="utf-8")
    sidecar.write_text(json.dumps(tests, indent=2) + "\n", encoding="utf-8")
    return py, sidecar


def watch_tests(client: Client) -> list[Any]:
    """The ``orps/tests`` notifications the server sends from now on."""
    seen: list[Any] = []

    @client.feature("orps/tests")
    def tests_changed(params: Any) -> None:
        seen.append(params)

    return seen


async def listed(client: Client, uri: str) -> dict[str, Any]:
    answer = await execute(client, "orps.tests", {"uri": uri})
    assert isinstance(answer, dict), answer
    return answer


async def run_ended_with(client: Client, uri: str, total: int) -> None:
    """Wait for the end of a whole run of ``total`` tests (``orps/status``)."""
    await wait_until(client, "orps/status", lambda: any(
        s.uri == uri and s.total == total and not s.refining for s in client.statuses),
        f"a run of {total} tests")


async def test_the_tests_are_listed_with_their_last_results(lsp: Launcher, tmp_path: Path) -> None:
    client = await lsp.start()
    py, _sidecar = write_program(tmp_path / "work")
    uri = await open_and_wait(client, py)
    answer = await listed(client, uri)
    assert answer["summary"].startswith("1/2 passed"), answer
    assert answer["canAdd"] is True and answer["message"] is None
    first, second = answer["tests"]
    assert (first["number"], first["id"], first["label"], first["verdict"]) == (1, "1", "Test 1", "AC")
    assert first["description"].startswith("AC ") and first["description"].endswith("MB"), first
    assert first["origin"] == "double.tests.json:4" and first["line"] == 4 and first["editable"] is True
    assert (first["input"], first["expected"], first["actual"]) == ("3\n", "6\n", "6\n")
    assert second["verdict"] == "WA" and second["actual"].strip() == "200" and second["expected"] == "400\n"
    assert first["cpu_ms"] is not None and first["peak_kb"] is not None and first["wall_ms"] is not None


async def test_one_test_runs_alone_and_the_others_stay_only_for_the_same_code(lsp: Launcher, tmp_path: Path) -> None:
    client = await lsp.start()
    py, _sidecar = write_program(tmp_path / "work")
    uri = await open_and_wait(client, py)
    seen = watch_tests(client)

    again = await execute(client, "orps.runTest", {"uri": uri, "id": "2"})
    assert [r["verdict"] for r in again["tests"]] == ["AC", "WA"], again  # test 1 kept: same code, same test
    await wait_until(client, "orps/tests", lambda: seen, "orps/tests after the run")

    change_document(client, uri, FIXED_PY)  # not saved: the panel runs what the editor holds
    fixed = await execute(client, "orps.runTest", {"uri": uri, "id": "2"})
    assert (fixed["tests"][0]["verdict"], fixed["tests"][0]["description"]) == (None, "not run"), fixed
    assert fixed["tests"][1]["verdict"] == "AC" and fixed["summary"].startswith("1/1 passed"), fixed
    assert [r["verdict"] for r in (await listed(client, uri))["tests"]] == [None, "AC"]

    unknown = await execute(client, "orps.runTest", {"uri": uri, "id": "9"})
    assert unknown is None  # an InputError: shown to the user as a message, not raised
    assert any("no test '9'" in m.message for m in client.messages), client.messages


async def test_tests_are_added_changed_and_deleted_in_the_sidecar_and_rerun(lsp: Launcher, tmp_path: Path) -> None:
    client = await lsp.start()
    py, sidecar = write_program(tmp_path / "work", {**DOUBLE_TESTS, "url": "https://example.com/p"})
    uri = await open_and_wait(client, py)
    seen = watch_tests(client)

    added = await execute(client, "orps.addTest", {"uri": uri, "input": "5\n", "expected": "10\n"})
    assert added == {"changed": True, "reason": None, "number": 3, "total": 3, "path": str(sidecar),
                     "created": False}
    data = json.loads(sidecar.read_text(encoding="utf-8"))
    assert data["tests"][2] == {"input": "5\n", "output": "10\n"} and data["url"] == "https://example.com/p"
    await wait_until(client, "orps/tests", lambda: seen, "orps/tests after the change")
    await run_ended_with(client, uri, 3)
    assert [r["verdict"] for r in (await listed(client, uri))["tests"]] == ["AC", "WA", "AC"]

    changed = await execute(client, "orps.updateTest", {"uri": uri, "number": 2, "expected": "200\n"})
    assert changed["changed"] is True, changed
    assert json.loads(sidecar.read_text(encoding="utf-8"))["tests"][1] == {"input": "200\n", "output": "200\n"}
    await wait_until(client, "orps/status", lambda: any(
        s.uri == uri and s.passed == 3 for s in client.statuses), "the rerun after the change")

    deleted = await execute(client, "orps.deleteTest", {"uri": uri, "number": 1})
    assert deleted["changed"] is True and deleted["total"] == 2, deleted
    assert [t["input"] for t in json.loads(sidecar.read_text(encoding="utf-8"))["tests"]] == ["200\n", "5\n"]
    await run_ended_with(client, uri, 2)

    missing = await execute(client, "orps.deleteTest", {"uri": uri, "number": 7})
    assert missing == {"changed": False, "reason": "no test 7: double.py has 2"}


async def test_a_test_is_added_to_a_file_with_no_tests_yet(lsp: Launcher, tmp_path: Path) -> None:
    client = await lsp.start()
    folder = tmp_path / "work"
    folder.mkdir()
    py = folder / "fresh.py"
    py.write_text(DOUBLE_PY, encoding="utf-8")
    uri = await open_and_wait(client, py)
    empty = await listed(client, uri)
    assert empty["tests"] == [] and empty["canAdd"] is True and "No tests" in empty["message"]
    added = await execute(client, "orps.addTest", {"uri": uri, "input": "1\n", "expected": "2\n"})
    assert added["created"] is True and (folder / "fresh.tests.json").is_file(), added
    await run_ended_with(client, uri, 1)
    assert [r["verdict"] for r in (await listed(client, uri))["tests"]] == ["AC"]


async def test_a_functions_tests_file_is_refused_and_left_as_it_was(lsp: Launcher, tmp_path: Path) -> None:
    client = await lsp.start()
    py, sidecar = write_problem(tmp_path / "work", "adder", ADD_PY, ["assert add(1, 2) == 3"], entry_point="add")
    before = sidecar.read_text(encoding="utf-8")
    uri = await open_and_wait(client, py)
    answer = await listed(client, uri)
    [row] = answer["tests"]
    assert row["editable"] is False and row["kind"] == "assert" and row["verdict"] == "AC"
    assert answer["canAdd"] is False and "tested as a module" in answer["message"]

    changed = await execute(client, "orps.updateTest", {"uri": uri, "number": 1, "expected": "4"})
    assert changed == {"changed": False, "reason": "test 1 is an assert of a function's tests file: "
                                                   "edit adder.tests.json:4 as text"}, changed
    deleted = await execute(client, "orps.deleteTest", {"uri": uri, "number": 1})
    assert deleted["changed"] is False
    added = await execute(client, "orps.addTest", {"uri": uri, "input": "1\n", "expected": "2\n"})
    assert added["changed"] is False and "would replace those tests" in added["reason"], added
    assert sidecar.read_text(encoding="utf-8") == before


async def test_unsaved_changes_to_the_tests_file_are_never_overwritten(lsp: Launcher, tmp_path: Path) -> None:
    client = await lsp.start()
    py, sidecar = write_program(tmp_path / "work")
    uri = await open_and_wait(client, py)
    tests_uri = open_document(client, sidecar, "json")
    change_document(client, tests_uri, sidecar.read_text(encoding="utf-8").replace("400", "401"))
    refused = await execute(client, "orps.addTest", {"uri": uri, "input": "5\n", "expected": "10\n"})
    assert refused == {"changed": False,
                       "reason": "double.tests.json has changes not saved in the editor: save or revert them first"}
    assert len(json.loads(sidecar.read_text(encoding="utf-8"))["tests"]) == 2


async def selection_actions(client: Client, uri: str, start: tuple[int, int], end: tuple[int, int],
                            only: list[str] | None = None) -> list[types.CodeAction | types.Command]:
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line=start[0], character=start[1]),
                          end=types.Position(line=end[0], character=end[1])),
        context=types.CodeActionContext(diagnostics=[], only=only)))
    return [a for a in actions or [] if a.title == "ORPS: Add the selected text as a test's input"]


def command_of(action: types.CodeAction | types.Command) -> Any:
    """The action's command as the server sent it. lsprotocol's client-side converter reads a
    CodeAction that carries a Command (``Command | CodeAction`` told apart by keys) as a Command,
    with the sent command's dict, as text, in its ``command`` field: read that text back."""
    if isinstance(action, types.CodeAction):
        assert action.command is not None
        return {"title": action.command.title, "command": action.command.command, "arguments": action.command.arguments}
    return ast.literal_eval(action.command)


async def test_a_selection_in_a_program_is_offered_as_a_tests_input(lsp: Launcher, tmp_path: Path) -> None:
    client = await lsp.start()
    folder = tmp_path / "work"
    py, _sidecar = write_program(folder)
    text = DOUBLE_PY + "# sample:\n# 7\n"
    py.write_text(text, encoding="utf-8")
    uri = await open_and_wait(client, py)
    [action] = await selection_actions(client, uri, (3, 2), (3, 3))
    assert command_of(action) == {"title": "ORPS: Add the selected text as a test's input",
                                  "command": "orps.addSelectionAsTest", "arguments": [{"uri": uri, "input": "7\n"}]}
    assert await selection_actions(client, uri, (3, 2), (3, 2)) == []  # no selection
    assert await selection_actions(client, uri, (3, 2), (3, 3), only=["refactor"]) == []  # not the kind asked

    adder, _tests = write_problem(folder, "adder", ADD_PY, ["assert add(1, 2) == 3"], entry_point="add")
    adder_uri = await open_and_wait(client, adder)
    assert await selection_actions(client, adder_uri, (0, 0), (0, 3)) == []  # a function's tests
