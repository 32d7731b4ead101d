"""The test panel: a file's tests with their last results, running one, and adding, changing and
deleting a program's stdin/stdout tests; the code action that adds a selection as a test's input.

Commands: ``orps.tests`` {uri} lists the tests (rows built by the engine, ``panel_rows``);
``orps.runTest`` {uri, id} runs one test through the file's ``FileRun`` (one at a time with its other
runs) and keeps its result in place of the last; ``orps.addTest`` {uri, input, expected},
``orps.updateTest`` {uri, number, input?, expected?} and ``orps.deleteTest`` {uri, number} change the
program's sidecar through the engine's one writer of it (``sidecar_edit``), then rerun the file's
tests. Each change, and each single run, sends ``orps/tests`` {uri}; a whole run's end is
``orps/status``. A change is refused, with why, for tests the panel does not own (a function's
asserts file is edited as text; doctests, ``test/`` files and project tests where they live) and for
a tests file with unsaved changes in the editor (writing it would overwrite them).

Code action (``quickfix``) on a non-empty selection of a program (or a file with no tests yet):
"ORPS: Add the selected text as a test's input", whose command ``orps.addSelectionAsTest`` {uri,
input} is the editor's own: it asks for the expected output and calls ``orps.addTest``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lsprotocol import types

from orps_engine import (
    InputError,
    Problem,
    SidecarChange,
    add_test,
    adding_refusal,
    delete_test,
    editing_refusal,
    panel_row_document,
    panel_rows,
    sidecar_path,
    suite_line,
    update_test,
)

from . import convert
from .commands import AddTestArgs, DocumentArgs, NumberArgs, TestArgs, UpdateTestArgs, unstructure
from .server import DocState, OrpsServer, guarded

ADD_SELECTION = "ORPS: Add the selected text as a test's input"
ADD_SELECTION_COMMAND = "orps.addSelectionAsTest"  # the client's: it asks for the expected output
KIND = types.CodeActionKind.QuickFix
NO_TESTS = "No tests for this file yet: add one (Add Test), or select an input in the file and use its code action."


def register(ls: OrpsServer) -> None:
    ls.command("orps.tests")(tests)
    ls.command("orps.runTest")(run_test)
    ls.command("orps.addTest")(add)
    ls.command("orps.updateTest")(update)
    ls.command("orps.deleteTest")(delete)
    ls.on_code_action(KIND, selection_actions)


@guarded("listing the tests")
async def tests(ls: OrpsServer, args: DocumentArgs) -> dict[str, Any]:
    state = ls.docs.get(args.uri)
    if state is None:
        return {"uri": args.uri, "tests": [], "summary": None, "canAdd": False,
                "message": "Open the file in the editor to see its tests."}
    problem, suite = state.run.problem, state.run.suite
    if problem is None:
        return {"uri": args.uri, "tests": [], "summary": None, "canAdd": True, "message": NO_TESTS}
    refusal = adding_refusal(problem)
    return {"uri": args.uri, "tests": [panel_row_document(r) for r in panel_rows(problem, suite)],
            "summary": suite_line(suite) if suite is not None else None, "canAdd": refusal is None,
            "message": refusal}


@guarded("running the test")
async def run_test(ls: OrpsServer, args: TestArgs) -> dict[str, Any]:
    state = _state(ls, args.uri)
    problem, version = await ls.problem_of(state)
    suite = await state.run.test_one(problem, args.id)
    if state.run.problem is problem:  # no whole run replaced it meanwhile
        state.tested_version = version
        ls.publish(state)
        ls.notify_status(state)
    ls.notify_tests(args.uri)
    return {"uri": args.uri, "summary": suite_line(suite),
            "tests": [panel_row_document(r) for r in panel_rows(problem, suite)]}


@guarded("adding the test")
async def add(ls: OrpsServer, args: AddTestArgs) -> dict[str, Any]:
    state = _state(ls, args.uri)
    if args.expected is None:
        raise InputError("orps.addTest needs the test's expected output (\"expected\")")
    refusal = _unsaved(ls, state) or adding_refusal(await _problem_or_none(ls, state))
    if refusal:
        return _refused(refusal)
    return _changed(ls, state, lambda: add_test(state.path, args.input, args.expected or ""))


@guarded("changing the test")
async def update(ls: OrpsServer, args: UpdateTestArgs) -> dict[str, Any]:
    state = _state(ls, args.uri)
    refusal = await _cannot_edit(ls, state, args.number)
    if refusal:
        return _refused(refusal)
    return _changed(ls, state, lambda: update_test(state.path, args.number, args.input, args.expected))


@guarded("deleting the test")
async def delete(ls: OrpsServer, args: NumberArgs) -> dict[str, Any]:
    state = _state(ls, args.uri)
    refusal = await _cannot_edit(ls, state, args.number)
    if refusal:
        return _refused(refusal)
    return _changed(ls, state, lambda: delete_test(state.path, args.number))


async def _cannot_edit(ls: OrpsServer, state: DocState, number: int) -> str | None:
    """Why test ``number`` of the file cannot be changed from the panel, if it cannot (a tests file
    with unsaved edits, or not a program's sidecar test)."""
    return _unsaved(ls, state) or editing_refusal((await ls.problem_of(state))[0], number)


@guarded("code actions", default=[])
async def selection_actions(ls: OrpsServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    state = ls.docs.get(uri)
    if state is None or params.range.start == params.range.end or adding_refusal(state.run.problem):
        return []
    if state.run.problem is None and sidecar_path(state.path).exists():
        return []  # a tests file that does not load (malformed): fix it first (its diagnostic says how)
    selected = ls.workspace.get_text_document(uri).text_in_client_range(params.range)
    if not selected.strip():
        return []
    text = selected if selected.endswith("\n") else selected + "\n"  # as a file of input ends
    arguments = unstructure(AddTestArgs(uri=uri, input=text))
    return [types.CodeAction(title=ADD_SELECTION, kind=KIND,
                             command=types.Command(title=ADD_SELECTION, command=ADD_SELECTION_COMMAND,
                                                   arguments=[arguments]))]


def _state(ls: OrpsServer, uri: str) -> DocState:
    state = ls.docs.get(uri)
    if state is None:
        raise InputError(f"{uri} is not open in the editor: open it to run or change its tests")
    return state


async def _problem_or_none(ls: OrpsServer, state: DocState) -> Problem | None:
    """The file's tests now; None where it has none yet (a malformed tests file is refused by the
    writer, with where)."""
    try:
        return (await ls.problem_of(state))[0]
    except InputError:
        return None


def _unsaved(ls: OrpsServer, state: DocState) -> str | None:
    """Why the tests file must not be written now: the editor holds changes to it not yet saved."""
    path = sidecar_path(state.path)
    document = ls.workspace.text_documents.get(convert.uri_of(path))
    if document is None or not path.is_file():
        return None
    try:
        on_disk = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None  # the writer says what is wrong with it
    if document.source != on_disk:
        return f"{path.name} has changes not saved in the editor: save or revert them first"
    return None


def _refused(reason: str) -> dict[str, Any]:
    return {"changed": False, "reason": reason}


def _changed(ls: OrpsServer, state: DocState, change: Callable[[], SidecarChange]) -> dict[str, Any]:
    """Make the change (refused, with why, where the tests file is not a program's), rerun the
    file's tests and tell the client."""
    try:
        done = change()
    except InputError as exc:
        return _refused(exc.message + (f" ({exc.hint})" if exc.hint else ""))
    ls.log_line(f"{done.path.name}: test {done.number} changed; {done.total} test(s) now")
    ls.run_tests(state.uri)
    ls.notify_tests(state.uri)
    return {"changed": True, "reason": None, "number": done.number, "total": done.total,
            "path": str(done.path), "created": done.created}
