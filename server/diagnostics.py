"""didOpen / didSave / didClose and ``orps.runTests`` -> a debounced, cancellable test run ->
publishDiagnostics.

A newer save cancels the older run (its sandbox is killed, so it stops at once); the server
answers other requests meanwhile, since runs happen in the engine's sandbox off the event loop.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types

from orps_engine import InputError, load_problem

from . import convert, settings
from .commands import DocumentArgs
from .server import DocState, OrpsServer, guarded

DEBOUNCE_S = 0.15


def register(ls: OrpsServer) -> None:
    ls.feature(types.TEXT_DOCUMENT_DID_OPEN)(did_open)
    ls.feature(types.TEXT_DOCUMENT_DID_SAVE)(did_save)
    ls.feature(types.TEXT_DOCUMENT_DID_CLOSE)(did_close)
    ls.command("orps.runTests")(run_tests_command)


async def did_open(ls: OrpsServer, params: types.DidOpenTextDocumentParams) -> None:
    uri = params.text_document.uri
    if not _is_test_file(convert.path_of(uri)):
        schedule(ls, uri, on_save=True)


async def did_save(ls: OrpsServer, params: types.DidSaveTextDocumentParams) -> None:
    uri = params.text_document.uri
    saved = convert.path_of(uri)
    if uri.endswith(".py") and not _is_test_file(saved):
        schedule(ls, uri, on_save=True)
    for state in list(ls.docs.values()):  # a tests file: rerun the solutions it belongs to
        if state.uri == uri:
            continue
        sidecar = state.path.with_name(state.path.stem + ".tests.json")
        tests = state.run.problem.tests if state.run.problem else ()
        project = state.run.problem.project if state.run.problem else None
        if saved in (sidecar, *(t.path for t in tests)) or (saved and saved.parent == state.path.parent / "test") \
                or (project is not None and saved is not None and _is_test_file(saved)
                    and project.root in saved.parents):
            schedule(ls, state.uri, on_save=True)


def _is_test_file(path: Path | None) -> bool:
    """A pytest test module or conftest (by pytest's default names): tests, not code under test."""
    if path is None or path.suffix != ".py":
        return False
    return path.name.startswith("test_") or path.stem.endswith("_test") or path.name == "conftest.py"


async def did_close(ls: OrpsServer, params: types.DidCloseTextDocumentParams) -> None:
    state = ls.docs.pop(params.text_document.uri, None)
    if state is None:
        return
    for task in (state.run_task, state.refining.task if state.refining else None):
        if task is not None and not task.done():
            task.cancel()
    for uri in state.published:
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
    await state.run.close()


async def run_tests_command(ls: OrpsServer, args: DocumentArgs) -> None:
    schedule(ls, args.uri, on_save=False, debounce=0.0)


def schedule(ls: OrpsServer, uri: str, *, on_save: bool, debounce: float = DEBOUNCE_S) -> None:
    """(Re)start the document's test run; a run still going is cancelled."""
    state = ls.state(uri)
    if state is None or (on_save and not settings.run_on_save(ls.values())):
        return
    if state.run_task is not None and not state.run_task.done():
        state.run_task.cancel()
    state.generation += 1
    state.run_task = asyncio.create_task(_run(ls, state, state.generation, debounce))


@guarded("running the tests")
async def _run(ls: OrpsServer, state: DocState, generation: int, debounce: float) -> None:
    await asyncio.sleep(debounce)
    text, _version = ls.text(state.uri)
    try:  # off the loop: finding a project's tests may run them (once per change of the tests)
        problem = (await asyncio.to_thread(load_problem, state.path, python=ls.python)).with_source(text)
    except InputError as exc:
        state.run.forget_tests()
        ls.publish(state)  # the old results no longer hold
        if exc.path is not None and exc.path.resolve() != state.path.resolve():
            raise  # a malformed tests file: a diagnostic on that file (see OrpsServer.report)
        ls.log_line(f"{state.path.name}: {exc}")  # no tests, or not a solution: nothing to show
        return
    problem = settings.with_limits(problem, ls.values())
    await state.run.test(problem)
    if generation != state.generation:
        return
    ls.publish(state)
    ls.notify_status(state)
    if _can_refresh_hints(ls):
        ls.workspace_inlay_hint_refresh(None)


def _can_refresh_hints(ls: OrpsServer) -> bool:
    workspace = ls.client_capabilities.workspace
    hints = workspace.inlay_hint if workspace else None
    return bool(hints and hints.refresh_support)
