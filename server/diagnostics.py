"""didOpen / didSave / didClose -> a debounced, cancellable test run -> publishDiagnostics.

A newer save cancels the older run (its sandbox is killed, so it stops at once); the server
answers other requests meanwhile, since runs happen in the engine's sandbox off the event loop.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from lsprotocol import types

from orps_engine.errors import InputError, OrpsError
from orps_engine.judge import arun_tests, open_sandbox
from orps_engine.problem import load_problem
from orps_engine.problem.target import def_line
from orps_engine.report.editor import Note, efficiency_notes, failure_notes
from orps_engine.report.refine import refine_line

from . import convert, settings
from .server import DocState, OrpsServer, guarded, server

DEBOUNCE_S = 0.15


@server.feature(types.INITIALIZE)
def initialize(ls: OrpsServer, params: types.InitializeParams) -> None:
    options = params.initialization_options
    if isinstance(options, dict):
        ls.api_key = options.pop("apiKey", None) or None
        nested = options.get("settings")
        ls.init_options = dict(nested) if isinstance(nested, dict) else dict(options)
    ls.log_line(f"orps server starting; settings: {settings.describe(ls.init_options)}; "
                f"API key {'from the client' if ls.api_key else 'from the environment, if set'}")


@server.feature(types.INITIALIZED)
async def initialized(ls: OrpsServer, params: types.InitializedParams) -> None:
    await refresh_configuration(ls)


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def configuration_changed(ls: OrpsServer, params: types.DidChangeConfigurationParams) -> None:
    await refresh_configuration(ls)


async def refresh_configuration(ls: OrpsServer) -> None:
    """Ask the client for the ``orps`` section, where it can answer."""
    workspace = ls.client_capabilities.workspace
    if workspace is None or not workspace.configuration:
        return
    try:
        answer = await ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section="orps")]))
    except Exception as exc:  # a client that cannot answer keeps the initializationOptions
        ls.log_line(f"workspace/configuration failed: {exc}")
        return
    section = answer[0] if answer else None
    ls.client_settings = dict(section) if isinstance(section, dict) else {}
    ls.client_settings.pop("apiKey", None)  # a key belongs in the secret store, not in settings
    ls.log_line(f"orps settings: {settings.describe(ls.values())}")


@server.feature(types.SHUTDOWN)
async def shutdown(ls: OrpsServer, params: None) -> None:
    await ls.close_all()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
async def did_open(ls: OrpsServer, params: types.DidOpenTextDocumentParams) -> None:
    schedule(ls, params.text_document.uri, on_save=True)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
async def did_save(ls: OrpsServer, params: types.DidSaveTextDocumentParams) -> None:
    uri = params.text_document.uri
    if uri.endswith(".py"):
        schedule(ls, uri, on_save=True)
        return
    saved = convert.path_of(uri)  # a tests file: rerun the solutions it belongs to
    for state in list(ls.docs.values()):
        sidecar = state.path.with_name(state.path.stem + ".tests.json")
        tests = state.problem.tests if state.problem else ()
        if saved in (sidecar, *(t.path for t in tests)) or (saved and saved.parent == state.path.parent / "test"):
            schedule(ls, state.uri, on_save=True)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
async def did_close(ls: OrpsServer, params: types.DidCloseTextDocumentParams) -> None:
    state = ls.docs.pop(params.text_document.uri, None)
    if state is None:
        return
    for task in (state.run_task, state.refine.task if state.refine else None):
        if task is not None and not task.done():
            task.cancel()
    for uri in state.published:
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
    if state.sandbox is not None:
        box, state.sandbox = state.sandbox, None
        await asyncio.to_thread(box.close)


@server.command("orps.runTests")
async def run_tests_command(ls: OrpsServer, *args: object) -> None:
    uri = convert.uri_argument(args)
    if uri:
        schedule(ls, uri, on_save=False, debounce=0.0)


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
    try:
        problem = settings.with_limits(load_problem(state.path).with_source(text), ls.values())
    except InputError as exc:
        if exc.path is not None and exc.path.resolve() != state.path.resolve():
            state.problem = state.suite = None
            publish(ls, state)  # the old results no longer hold
            raise  # a malformed tests file: a diagnostic on that file (see OrpsServer.report)
        ls.log_line(f"{state.path.name}: {exc}")  # no tests, or not a solution: nothing to show
        state.problem = state.suite = None
        publish(ls, state)
        return
    box = state.sandbox
    if box is None:
        box = state.sandbox = await asyncio.to_thread(open_sandbox, problem)
    try:
        suite = await arun_tests(problem, sandbox=box)
    except asyncio.CancelledError:  # a newer run is coming; arun_tests killed this sandbox
        state.sandbox = None
        asyncio.get_running_loop().run_in_executor(None, box.close)
        raise
    if generation != state.generation:
        return
    state.problem, state.suite = problem, suite
    publish(ls, state)
    ls.notify_status(state)
    if _can_refresh_hints(ls):
        ls.workspace_inlay_hint_refresh(None)


def _can_refresh_hints(ls: OrpsServer) -> bool:
    workspace = ls.client_capabilities.workspace
    hints = workspace.inlay_hint if workspace else None
    return bool(hints and hints.refresh_support)


def publish(ls: OrpsServer, state: DocState) -> None:
    """Publish what the document's state says (its last run, its refinement) to every file it
    concerns, clearing files no longer concerned."""
    notes: list[Note] = []
    if state.problem is not None and state.suite is not None:
        notes = failure_notes(state.problem, state.suite) + efficiency_notes(state.problem, state.suite)
    if state.refine is not None and state.refine.result is not None and state.problem is not None:
        notes.append(Note(path=state.path, line=def_line(state.problem), severity="hint",
                          message=refine_line(state.refine.result)))
    by_uri: dict[str, list[types.Diagnostic]] = defaultdict(list)
    lines_of: dict[str, Sequence[str]] = {}
    for note in notes:
        uri = convert.uri_of(note.path)
        if uri not in lines_of:
            lines_of[uri] = _lines(ls, uri, note.path)
        code = "refinement" if note.severity == "hint" and note.message.startswith("ORPS") else "test"
        by_uri[uri].append(convert.diagnostic(note, lines_of[uri], code))
    by_uri.setdefault(convert.uri_of(state.path), [])  # always: a run's end is news even when all pass
    for uri in state.published | set(by_uri):
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=by_uri.get(uri, [])))
    state.published = set(by_uri)


def publish_file_error(ls: OrpsServer, exc: OrpsError) -> None:
    """A malformed tests file: an error diagnostic on that file, at the line the error names."""
    assert exc.path is not None
    uri = convert.uri_of(exc.path)
    message = exc.message + (f" ({exc.hint})" if exc.hint else "")
    note = Note(path=exc.path, line=exc.line or 1, message=message, severity="error")
    diagnostic = convert.diagnostic(note, _lines(ls, uri, exc.path), code="tests-file")
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[diagnostic]))
    for state in ls.docs.values():  # cleared with the owning document's next publish
        if state.path.parent == exc.path.parent:
            state.published.add(uri)


def _lines(ls: OrpsServer, uri: str, path: Path) -> Sequence[str]:
    try:
        return ls.workspace.get_text_document(uri).lines if uri in ls.workspace.text_documents else \
            path.read_text(encoding="utf-8").splitlines(keepends=True)
    except OSError:
        return []
