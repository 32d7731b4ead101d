"""didOpen / didSave / didClose and ``orps.runTests`` -> a cancellable test run -> publishDiagnostics.

A save is deliberate, so its run starts at once: no debounce (nothing runs on edits, which are
what a debounce is for). A newer save cancels the older run (its sandbox is killed, so it stops
at once) and its results win (``DocState.generation``); only a save that cancels a run still
going waits ``orps.saveBurstDelay`` for more saves, so that a burst (Save All, auto-save) runs the
tests once instead of restarting the sandbox for each. The server answers other requests
meanwhile, since runs happen in the engine's sandbox off the event loop. Each run logs where its
time went (loading the tests, running them, publishing), for ``benchmarks/lsp_latency.py``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types

from orps_engine import InputError, MissingPackage, suite_line

from . import convert, settings
from .commands import DocumentArgs
from .server import DocState, OrpsServer, guarded


def register(ls: OrpsServer) -> None:
    ls.feature(types.TEXT_DOCUMENT_DID_OPEN)(did_open)
    ls.feature(types.TEXT_DOCUMENT_DID_SAVE)(did_save)
    ls.feature(types.TEXT_DOCUMENT_DID_CLOSE)(did_close)
    ls.command("orps.runTests")(run_tests_command)
    ls.on_run(lambda server, uri: schedule(server, uri, on_save=False))


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
    ls.keep_refinement(state)  # a finished refine outlives its editor, until the function changes
    for task in (state.run_task, state.refining.task if state.refining else None):
        if task is not None and not task.done():
            task.cancel()
    for uri in state.published:
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
    await state.run.close()


async def run_tests_command(ls: OrpsServer, args: DocumentArgs) -> None:
    schedule(ls, args.uri, on_save=False)


def schedule(ls: OrpsServer, uri: str, *, on_save: bool) -> None:
    """(Re)start the document's test run now; a run still going is cancelled, and then a save
    waits for the rest of its burst (see the module docstring)."""
    state = ls.state(uri)
    if state is None or (on_save and not settings.run_on_save(ls.values())):
        return
    cancelled = False
    if state.run_task is not None and not state.run_task.done():
        state.run_task.cancel()
        cancelled = True
    state.generation += 1
    state.run_task = asyncio.create_task(_run(ls, state, state.generation, cancelled and on_save))


@guarded("running the tests")
async def _run(ls: OrpsServer, state: DocState, generation: int, in_burst: bool) -> None:
    delay = settings.save_burst_delay_s(ls.values()) if in_burst else 0.0
    if delay > 0:
        await asyncio.sleep(delay)
    started = time.perf_counter()
    try:
        problem, version = await ls.problem_of(state)
    except InputError as exc:
        state.run.forget_tests()
        ls.publish(state)  # the old results no longer hold
        ls.notify_status(state)  # nor the status bar's figures
        if isinstance(exc, MissingPackage) or (exc.path is not None and exc.path.resolve() != state.path.resolve()):
            raise  # a malformed tests file, or pytest missing: a diagnostic on that file (see OrpsServer.report)
        ls.log_line(f"{state.path.name}: {exc}")  # no tests, or not a solution: nothing to show
        return
    loaded = time.perf_counter()
    suite = await state.run.test(problem)
    if generation != state.generation:
        return
    ran = time.perf_counter()
    state.tested_version = version
    ls.publish(state)
    ls.notify_status(state)
    if _can_refresh_hints(ls):
        ls.workspace_inlay_hint_refresh(None)
    ls.refresh_lenses()  # an editor asks for lenses at didOpen, before the first run found the tests
    ls.log_line(f"{state.path.name}: {suite_line(suite)}; {RunTimes.between(started, loaded, ran)}")


@dataclass(frozen=True, slots=True)
class RunTimes:
    """Where a run's time went, in ms, from the start of the run (after any burst delay) until
    its diagnostics were sent: what the save -> diagnostics latency is made of."""

    load_ms: float
    run_ms: float
    publish_ms: float

    @classmethod
    def between(cls, started: float, loaded: float, ran: float) -> RunTimes:
        return cls(load_ms=(loaded - started) * 1000, run_ms=(ran - loaded) * 1000,
                   publish_ms=(time.perf_counter() - ran) * 1000)

    def __str__(self) -> str:
        return f"timing: load {self.load_ms:.1f} ms, run {self.run_ms:.1f} ms, publish {self.publish_ms:.1f} ms"


def _can_refresh_hints(ls: OrpsServer) -> bool:
    workspace = ls.client_capabilities.workspace
    hints = workspace.inlay_hint if workspace else None
    return bool(hints and hints.refresh_support)
