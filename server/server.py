"""The orps language server's state and its one error wrapper: per-document state, publishing what
that state says, and turning every failure into a diagnostic or a message.

Feature handlers live in one module per feature, each registering itself on the server it is
given (see ``app``); they import this module, never each other. Nothing here runs user code:
tests and candidates run in the engine's sandbox (``orps_engine.FileRun``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

from orps_engine import (
    FileRun,
    HistoryEntry,
    HistoryStore,
    HunkReview,
    Note,
    OrpsError,
    Outcome,
    Refinement,
    RefineResult,
    Target,
    __version__,
    efficiency_notes,
    failure_notes,
    file_error_note,
    refinement_note,
    suite_line,
)

from . import convert, settings

log = logging.getLogger(__name__)
T = TypeVar("T")
KEPT_REFINEMENTS = 32  # closed documents whose finished refine is kept for their reopening
KEPT_SEARCHES = 32  # files whose latest search tree is kept for the search view
ChangeHandler = Callable[["OrpsServer", types.DidChangeTextDocumentParams], Coroutine[Any, Any, None]]


@dataclass
class RefineJob:
    """A refine in flight: what it refines, its task, its progress token, the request behind it."""

    target: Target
    task: asyncio.Task[Refinement]
    token: str | None
    request_id: Any  # the orps.refine request: $/cancelRequest for it cancels the search


@dataclass
class DocState:
    uri: str
    run: FileRun
    run_task: asyncio.Task[None] | None = None
    refining: RefineJob | None = None
    published: set[str] = field(default_factory=set)
    generation: int = 0  # bumps with every run, so a late result never overwrites a newer one
    tested_version: int | None = None  # the document version the last run tested: its diagnostics carry it
    review: HunkReview | None = None  # the refinement under review hunk by hunk, if one is

    @property
    def path(self) -> Path:
        return self.run.path


class OrpsProtocol(LanguageServerProtocol):
    """Cancels the search when its request is cancelled.

    pygls runs a command's handler as a task of its own (``workspace/executeCommand`` is a
    generator that yields the handler), and ``$/cancelRequest`` cancels only the request's outer
    future, i.e. the reply: the handler, and so the search, would run on. pygls 2 has no public
    hook for this, so this private one is overridden; ``test_cancel_refine_by_cancel_request``
    pins the behaviour.
    """

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        super()._handle_cancel_notification(msg_id)
        server = self._server
        if isinstance(server, OrpsServer):
            server.cancel_request(msg_id)


class OrpsServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("orps", __version__, protocol_cls=OrpsProtocol)
        self.docs: dict[str, DocState] = {}
        # the finished refines of closed documents (the newest KEPT_REFINEMENTS), by uri
        self.closed_refinements: OrderedDict[str, Refinement] = OrderedDict()
        self.init_options: dict[str, Any] = {}
        self.client_settings: dict[str, Any] = {}
        self.api_key: str | None = None
        # The interpreter that runs the user's code: this server's own, which the editor started
        # with the interpreter the user chose (orps.interpreter, or the Python extension's).
        self.python: str | None = None
        # every decided refinement; saved once the client names a storage folder (initialize)
        self.history = HistoryStore(None)
        # the latest refine's search of each file (the newest KEPT_SEARCHES), by uri: it outlives a
        # rejection and the editor's closing, for the search view
        self.searches: OrderedDict[str, RefineResult] = OrderedDict()
        self._change_handlers: list[ChangeHandler] = []

    # -- document changes: one didChange handler for the features that watch edits ----------------
    def on_change(self, handler: ChangeHandler) -> None:
        """Call ``handler`` after every didChange (pygls keeps one handler per method)."""
        if not self._change_handlers:
            self.feature(types.TEXT_DOCUMENT_DID_CHANGE)(_document_changed)
        self._change_handlers.append(handler)

    # -- the refine history and the search view ----------------------------------------------------
    def decide(self, state: DocState, outcome: Outcome, reason: str) -> HistoryEntry | None:
        """Record the document's refinement in the history as ``outcome``, once per refinement and
        only if it beat the original (there was nothing to accept otherwise); tell the views."""
        refinement = state.run.refinement
        if refinement is None or not refinement.result.improved or self.history.decided(refinement.id):
            return None
        entry = HistoryEntry.of(refinement, outcome, reason)
        self.history.record(entry)
        self.log_line(f"refine history: {entry.function or 'the program'} {outcome.value} ({reason})")
        self.notify_views(state.uri)
        return entry

    def keep_search(self, uri: str, result: RefineResult) -> None:
        self.searches[uri] = result
        self.searches.move_to_end(uri)
        while len(self.searches) > KEPT_SEARCHES:
            self.searches.popitem(last=False)
        self.notify_views(uri)

    def notify_views(self, uri: str) -> None:
        """``orps/views``: the file's history or search changed (a client refreshes its views)."""
        self.protocol.notify("orps/views", {"uri": uri})

    # -- documents ----------------------------------------------------------------------------
    def state(self, uri: str) -> DocState | None:
        """The state of a Python document (created on first use); None for anything else."""
        path = convert.path_of(uri)
        if path is None or path.suffix != ".py":
            return None
        if uri not in self.docs:
            run = FileRun(path)
            run.refinement = self.closed_refinements.pop(uri, None)  # stale, if the function changed meanwhile
            self.docs[uri] = DocState(uri=uri, run=run)
        return self.docs[uri]

    def keep_refinement(self, state: DocState) -> None:
        """Keep a closed document's finished refine for its reopening: reviewing and applying it then
        checks, as always, that the function is still the one it refined."""
        if state.run.refinement is None:
            return
        self.closed_refinements[state.uri] = state.run.refinement
        self.closed_refinements.move_to_end(state.uri)
        while len(self.closed_refinements) > KEPT_REFINEMENTS:
            self.closed_refinements.popitem(last=False)

    def values(self) -> dict[str, Any]:
        return settings.client_values(self.init_options, self.client_settings)

    def text(self, uri: str) -> tuple[str, int | None]:
        document = self.workspace.get_text_document(uri)
        return document.source, document.version

    def lines_of(self, uri: str, path: Path) -> Sequence[str]:
        """The lines of an open document, else of the file on disk."""
        try:
            if uri in self.workspace.text_documents:
                return self.workspace.get_text_document(uri).lines
            return path.read_text(encoding="utf-8").splitlines(keepends=True)
        except OSError:
            return []

    # -- telling the client ---------------------------------------------------------------------
    def show(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def log_line(self, message: str, kind: types.MessageType = types.MessageType.Log) -> None:
        """To the editor's log (``window/logMessage``); stderr, which editors show in the same place,
        gets it only at DEBUG, so that each line is shown once."""
        log.debug("%s", message)
        self.window_log_message(types.LogMessageParams(type=kind, message=message))

    def notify_status(self, state: DocState) -> None:
        """``orps/status``: what a status bar shows for the file (clients may ignore it)."""
        suite = state.run.suite
        self.protocol.notify("orps/status", {
            "uri": state.uri, "summary": suite_line(suite) if suite else None,
            "passed": suite.passed if suite else None, "total": suite.total if suite else None,
            "refining": state.refining is not None})

    def notify_review(self, state: DocState) -> None:
        """``orps/review``: the pending hunks of the file's inline review (none: no review), for a
        client to mark the lines each would replace; the code lenses carry Accept and Reject."""
        review = state.review
        hunks = [] if review is None else [
            {"index": p.hunk.index, "line": p.first, "removed": len(p.hunk.removed), "added": list(p.hunk.added),
             "diff": p.hunk.diff_text()} for p in review.placed()]
        self.protocol.notify("orps/review", {"uri": state.uri, "hunks": hunks})
        self.refresh_lenses()

    def refresh_lenses(self) -> None:
        """Ask the client for code lenses again (an editor asks at didOpen, before a run or a review
        has anything to show), where it supports being asked."""
        workspace = self.client_capabilities.workspace
        lenses = workspace.code_lens if workspace else None
        if lenses and lenses.refresh_support:
            self.workspace_code_lens_refresh(None)

    def publish(self, state: DocState) -> None:
        """Publish what the document's state says (its last run, its refinement) to every file it
        concerns, clearing the files it no longer concerns."""
        run = state.run
        notes: list[Note] = []
        if run.problem is not None and run.suite is not None:
            notes = failure_notes(run.problem, run.suite) + efficiency_notes(run.problem, run.suite)
            if run.refinement is not None:
                notes.append(refinement_note(run.problem, run.refinement.result))
        by_uri: dict[str, list[types.Diagnostic]] = defaultdict(list)
        for note in notes:
            uri = convert.uri_of(note.path)
            by_uri[uri].append(convert.diagnostic(note, self.lines_of(uri, note.path)))
        by_uri.setdefault(convert.uri_of(state.path), [])  # always: a run's end is news even when all pass
        for uri in state.published | set(by_uri):
            version = state.tested_version if uri == state.uri and state.tested_version is not None else None
            self._send_diagnostics(uri, by_uri.get(uri, []), version)
        state.published = set(by_uri)

    def publish_file_error(self, exc: OrpsError) -> None:
        """A malformed tests file: an error diagnostic on that file, at the line the error names."""
        assert exc.path is not None
        uri = convert.uri_of(exc.path)
        note = file_error_note(exc.path, exc.line, exc.message + (f" ({exc.hint})" if exc.hint else ""))
        self._send_diagnostics(uri, [convert.diagnostic(note, self.lines_of(uri, exc.path))])
        for state in self.docs.values():  # cleared with the owning document's next publish
            if state.path.parent == exc.path.parent:
                state.published.add(uri)

    def _send_diagnostics(self, uri: str, diagnostics: list[types.Diagnostic], version: int | None = None) -> None:
        """``version``: the version the diagnostics are about (the tested one); else the document's
        current version, for files whose diagnostics do not come from a run of their text."""
        if version is None:
            document = self.workspace.text_documents.get(uri)
            version = document.version if document is not None else None
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics,
                                                                              version=version))

    def report(self, exc: BaseException, doing: str) -> None:
        """The one place errors become messages: an OrpsError with a file becomes a diagnostic
        there; anything else a message to the user and a log entry. Never re-raised."""
        if isinstance(exc, OrpsError) and exc.path is not None:
            self.publish_file_error(exc)
            return
        if isinstance(exc, OrpsError):
            text = f"orps: {exc}" + (f" ({exc.hint})" if exc.hint else "")
            self.show(text, types.MessageType.Warning)
            self.log_line(text, types.MessageType.Warning)
            return
        log.exception("orps: %s failed", doing)
        self.show(f"orps: {doing} failed: {type(exc).__name__}: {exc}", types.MessageType.Error)

    # -- cancelling and closing ------------------------------------------------------------------
    def cancel_request(self, msg_id: Any) -> None:
        for state in self.docs.values():
            if state.refining is not None and state.refining.request_id == msg_id:
                state.refining.task.cancel()

    async def close_all(self) -> None:
        for state in self.docs.values():
            for task in (state.run_task, state.refining.task if state.refining else None):
                if task is not None and not task.done():
                    task.cancel()
            await state.run.close()


async def _document_changed(ls: OrpsServer, params: types.DidChangeTextDocumentParams) -> None:
    """The one didChange handler: each feature's, in the order they were registered."""
    for handler in ls._change_handlers:
        await handler(ls, params)


Handler = Callable[..., Coroutine[Any, Any, T]]


def guarded(doing: str, default: Any = None) -> Callable[[Handler[T]], Handler[T]]:
    """Wrap an async handler so no exception escapes it (see ``OrpsServer.report``)."""

    def wrap(handler: Handler[T]) -> Handler[T]:
        @functools.wraps(handler)
        async def run(ls: OrpsServer, *args: Any) -> T:
            try:
                return await handler(ls, *args)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                ls.report(exc, doing)
                return default  # type: ignore[no-any-return]

        return run

    return wrap


class Redact(logging.Filter):
    """Belt and braces: whatever a library logs, the API key never reaches the log."""

    def __init__(self, ls: OrpsServer) -> None:
        super().__init__()
        self.ls = ls

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = [s for s in (self.ls.api_key, os.environ.get("OPENAI_API_KEY")) if s and len(s) >= 8]
        if secrets:
            text = record.getMessage()
            if any(s in text for s in secrets):
                for secret in secrets:
                    text = text.replace(secret, "[redacted]")
                record.msg, record.args = text, None
        return True
