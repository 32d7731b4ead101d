"""The orps language server: per-document state, the one error wrapper, and start-up.

Handlers live in one module per feature (diagnostics, views, actions, refine); each is thin and
calls engine functions (``orps_engine``) that are tested without an editor. Nothing here runs
user code: tests and candidates run in the engine's sandbox.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

from orps_engine import __version__
from orps_engine.errors import OrpsError
from orps_engine.problem import Problem, Target
from orps_engine.results import SuiteResult
from orps_engine.sandbox import Sandbox
from orps_engine.search import RefineResult

from . import convert, settings

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class RefineState:
    """One refine of one function: running, or finished with a result to apply."""

    target: Target
    started_version: int | None
    target_source: str  # the target as it was when the refine began (the stale check)
    task: asyncio.Task[RefineResult] | None = None
    token: str | None = None
    request_id: Any = None  # the orps.refine request: $/cancelRequest for it cancels the search
    result: RefineResult | None = None
    error: str | None = None


@dataclass
class DocState:
    uri: str
    path: Path
    problem: Problem | None = None
    suite: SuiteResult | None = None
    run_task: asyncio.Task[None] | None = None
    sandbox: Sandbox | None = None
    published: set[str] = field(default_factory=set)
    refine: RefineState | None = None
    generation: int = 0  # bumps with every run, so a late result never overwrites a newer one


class OrpsProtocol(LanguageServerProtocol):
    """pygls cancels only a command's reply on ``$/cancelRequest``; cancel the search too."""

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        super()._handle_cancel_notification(msg_id)
        server = self._server
        for state in getattr(server, "docs", {}).values():
            refine = state.refine
            if refine is not None and refine.request_id == msg_id and refine.task is not None:
                refine.task.cancel()


class OrpsServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("orps", __version__, protocol_cls=OrpsProtocol)
        self.docs: dict[str, DocState] = {}
        self.init_options: dict[str, Any] = {}
        self.client_settings: dict[str, Any] = {}
        self.api_key: str | None = None

    def state(self, uri: str) -> DocState | None:
        path = convert.path_of(uri)
        if path is None or path.suffix != ".py":
            return None
        if uri not in self.docs:
            self.docs[uri] = DocState(uri=uri, path=path)
        return self.docs[uri]

    def values(self) -> dict[str, Any]:
        return settings.client_values(self.init_options, self.client_settings)

    def text(self, uri: str) -> tuple[str, int | None]:
        document = self.workspace.get_text_document(uri)
        return document.source, document.version

    def show(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def log_line(self, message: str, kind: types.MessageType = types.MessageType.Log) -> None:
        log.info("%s", message)
        self.window_log_message(types.LogMessageParams(type=kind, message=message))

    def notify_status(self, state: DocState, refining: bool | None = None) -> None:
        """``orps/status``: what a status bar shows for the file (clients may ignore it)."""
        from orps_engine.report.editor import suite_line

        suite = state.suite
        running = refining if refining is not None else bool(
            state.refine and state.refine.task and not state.refine.task.done())
        self.protocol.notify("orps/status", {
            "uri": state.uri, "summary": suite_line(suite) if suite else None,
            "passed": suite.passed if suite else None, "total": suite.total if suite else None,
            "refining": running})

    def report(self, exc: BaseException, doing: str) -> None:
        """The one place errors become messages: an OrpsError with a file becomes a diagnostic
        there; anything else a message to the user and a log entry. Never re-raised."""
        if isinstance(exc, OrpsError) and exc.path is not None:
            from .diagnostics import publish_file_error

            publish_file_error(self, exc)
            return
        if isinstance(exc, OrpsError):
            text = f"orps: {exc}" + (f" ({exc.hint})" if exc.hint else "")
            self.show(text, types.MessageType.Warning)
            self.log_line(text, types.MessageType.Warning)
            return
        log.exception("orps: %s failed", doing)
        self.show(f"orps: {doing} failed: {type(exc).__name__}: {exc}", types.MessageType.Error)

    async def close_all(self) -> None:
        for state in self.docs.values():
            for task in (state.run_task, state.refine.task if state.refine else None):
                if task is not None and not task.done():
                    task.cancel()
            if state.sandbox is not None:
                await asyncio.to_thread(state.sandbox.close)
                state.sandbox = None


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


class _Redact(logging.Filter):
    """Belt and braces: whatever a library logs, the API key never reaches the log."""

    def __init__(self, ls: OrpsServer) -> None:
        super().__init__()
        self.ls = ls

    def filter(self, record: logging.LogRecord) -> bool:
        import os

        secrets = [s for s in (self.ls.api_key, os.environ.get("OPENAI_API_KEY")) if s and len(s) >= 8]
        if secrets:
            text = record.getMessage()
            if any(s in text for s in secrets):
                for secret in secrets:
                    text = text.replace(secret, "[redacted]")
                record.msg, record.args = text, None
        return True


server = OrpsServer()


def start(tcp: str | None = None) -> None:
    """Serve on stdio, or on ``HOST:PORT``."""
    handler = logging.StreamHandler()  # stderr: stdout carries the protocol
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    handler.addFilter(_Redact(server))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    logging.getLogger("pygls").setLevel(logging.WARNING)  # at INFO it logs whole messages
    from . import actions, diagnostics, refine, views  # noqa: F401  (registers the handlers)

    if tcp:
        host, _, port = tcp.rpartition(":")
        server.start_tcp(host or "127.0.0.1", int(port))
    else:
        server.start_io()
