"""The listener Competitive Companion posts problems to: a small HTTP server (loopback only, by
default) that checks each POST, writes the problem (``companion.ProblemWriter``) and reports it,
or the reason it was refused, as a typed event; it counts a contest's problems as they arrive.

No printing here: the CLI and the language server each show the events their own way. Requests
are served on threads (``ThreadingHTTPServer``); the callback is called on them.
"""

from __future__ import annotations

import errno
import logging
import socket
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from .companion import ImportedProblem, ProblemWriter, parse_problem
from .config import LISTEN_BODY_LIMIT_BYTES
from .errors import InputError, PortBusy

log = logging.getLogger(__name__)
LOOPBACK = "127.0.0.1"
FREE_PORT_SEARCH = 100  # ports above a busy one tried for the offer
REQUEST_TIMEOUT_S = 10.0  # a client that stops sending mid-request is dropped
POLL_S = 0.1  # how soon close() stops the serving thread


class ListenEventKind(str, Enum):
    IMPORTED = "imported"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchProgress:
    """How much of a contest has arrived."""

    id: str
    received: int
    size: int

    @property
    def complete(self) -> bool:
        return self.received >= self.size


@dataclass(frozen=True, slots=True, kw_only=True)
class ListenEvent:
    """A POST's outcome: the problem written (and its contest's progress), or why it was refused."""

    kind: ListenEventKind
    problem: ImportedProblem | None = None
    batch: BatchProgress | None = None
    reason: str | None = None  # REJECTED: what the HTTP answer said

    @property
    def ends_unit(self) -> bool:
        """A problem on its own, or the last of its contest: where ``orps listen --once`` stops."""
        return self.kind is ListenEventKind.IMPORTED and (self.batch is None or self.batch.complete)


class Listener:
    """Serves POSTs on ``host:port`` (0: any free port) on a thread of its own until closed."""

    def __init__(self, writer: ProblemWriter, *, port: int, on_event: Callable[[ListenEvent], object],
                 host: str = LOOPBACK) -> None:
        self.writer = writer
        self.host = host
        self.requested_port = port
        self.on_event = on_event
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._batches: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        return self._server.server_address[1] if self._server is not None else self.requested_port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self) -> None:
        """Bind and serve; PortBusy (with the next free port) if the port is taken."""
        try:
            self.writer.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create the folder {self.writer.folder}: {exc.strerror}") from None
        if not self.writer.folder.is_dir():
            raise InputError(f"{self.writer.folder} is not a folder", hint="choose another folder to write into")
        try:
            self._server = _Server((self.host, self.requested_port), _Handler, listener=self)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortBusy(self.requested_port, next_free_port(self.host, self.requested_port)) from None
            raise InputError(f"cannot listen on {self.host}:{self.requested_port}: {exc.strerror}",
                             hint="choose a port from 1024 to 65535") from None
        self._thread = threading.Thread(target=self._server.serve_forever, args=(POLL_S,), name="orps-listen",
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> Listener:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def receive(self, body: bytes) -> ListenEvent:
        """A POST's body in, its event out (InputError, or OSError writing, when it is refused)."""
        problem = self.writer.write(parse_problem(body))
        return ListenEvent(kind=ListenEventKind.IMPORTED, problem=problem, batch=self._progress(problem))

    def _progress(self, problem: ImportedProblem) -> BatchProgress | None:
        """Counted by solution file, so a problem sent twice counts once; a complete contest is
        forgotten, so sending it again counts afresh."""
        batch = problem.batch
        if batch is None:
            return None
        with self._lock:
            received = self._batches.setdefault(batch.id, set())
            received.add(str(problem.solution))
            progress = BatchProgress(id=batch.id, received=len(received), size=batch.size)
            if progress.complete:
                del self._batches[batch.id]
        return progress

    def report(self, event: ListenEvent) -> None:
        try:
            self.on_event(event)
        except Exception:  # the callback's failure is the caller's bug; the listener goes on
            log.exception("orps listen: the event callback failed")


def next_free_port(host: str, busy: int) -> int | None:
    """The first port above ``busy`` that can be bound on ``host`` now, within FREE_PORT_SEARCH."""
    for port in range(busy + 1, min(busy + FREE_PORT_SEARCH, 65535) + 1):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the listener itself binds
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    return None


class _Server(ThreadingHTTPServer):
    # close() waits for the requests in flight: a problem reported is answered before the process ends
    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], handler: type[_Handler], *, listener: Listener) -> None:
        self.listener = listener
        super().__init__(address, handler)

    def server_bind(self) -> None:
        """HTTPServer's, without its reverse DNS lookup of the host (slow or hanging offline)."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("orps listen: a request from %s failed", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = REQUEST_TIMEOUT_S
    server_version = "orps-listen"

    def do_POST(self) -> None:
        listener = self.server.listener
        body = self._body()
        if body is None:
            return
        try:
            event = listener.receive(body)
        except InputError as exc:
            self._refuse(400, str(exc))
            return
        except OSError as exc:
            self._refuse(500, f"cannot write the problem's files: {exc}")
            return
        listener.report(event)  # first: once the POST is answered, the event is out
        self._answer(200, f"imported {event.problem.name if event.problem else ''}")

    def do_GET(self) -> None:
        self._answer(405, "orps listen: Competitive Companion POSTs problems here", allow="POST")

    def _body(self) -> bytes | None:
        """The request's body, within bounds and from a browser extension; None once refused."""
        origin = urlsplit(self.headers.get("Origin") or "").scheme
        if origin in ("http", "https"):  # a web page's script; Competitive Companion posts from the extension
            self._refuse(403, "refused: a web page may not post problems here (only Competitive Companion)")
            return None
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self._refuse(411, "a Content-Length header is needed")
            return None
        if int(length) > LISTEN_BODY_LIMIT_BYTES:
            self._refuse(413, f"the problem is {int(length)} bytes, over the limit of {LISTEN_BODY_LIMIT_BYTES}")
            return None
        body = self.rfile.read(int(length))
        if len(body) < int(length):
            self._refuse(400, f"the body ended after {len(body)} of {length} bytes")
            return None
        return body

    def _refuse(self, status: int, reason: str) -> None:
        self.server.listener.report(ListenEvent(kind=ListenEventKind.REJECTED, reason=reason))
        self._answer(status, reason)

    def _answer(self, status: int, text: str, allow: str | None = None) -> None:
        data = (text + "\n").encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if allow:
            self.send_header("Allow", allow)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("orps listen: %s " + format, self.address_string(), *args)
