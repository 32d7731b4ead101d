"""``orps.listen`` and ``orps.stopListening``: Competitive Companion's problems imported into the
workspace while the server runs.

The engine's ``Listener`` serves the POSTs on a thread of its own and writes each problem; its
events come back to the event loop, where each imported problem's solution is opened
(``window/showDocument``) and each refused POST shown. A busy port (cph listens on 27121 too) is
answered with an offer to listen on the next free one (``window/showMessageRequest``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lsprotocol import types

from orps_engine import (
    DEFAULT_LISTEN_PORT,
    InputError,
    Listener,
    ListenEvent,
    ListenEventKind,
    OrpsError,
    PortBusy,
    ProblemWriter,
    listen_event_lines,
)

from . import convert
from .commands import ListenArgs
from .server import OrpsServer, guarded


def register(ls: OrpsServer) -> None:
    ls.command("orps.listen")(listen)
    ls.command("orps.stopListening")(stop_listening)


@guarded("listening for Competitive Companion")
async def listen(ls: OrpsServer, args: ListenArgs) -> dict[str, Any]:
    folder = _folder(ls, args.dir)
    writer = ProblemWriter(folder, _template(folder, args.template))
    port = args.port if args.port is not None else DEFAULT_LISTEN_PORT
    return _start(ls, asyncio.get_running_loop(), writer, port)


@guarded("stopping the listener")
async def stop_listening(ls: OrpsServer, *_args: Any) -> dict[str, Any]:
    if ls.listener is None:
        ls.show("orps: not listening for Competitive Companion")
        return {"listening": False}
    port = ls.listener.port
    _close(ls)
    ls.show(f"orps: stopped listening for Competitive Companion on port {port}")
    return {"listening": False, "port": port}


def _start(ls: OrpsServer, loop: asyncio.AbstractEventLoop, writer: ProblemWriter, port: int) -> dict[str, Any]:
    """Listen (instead of any listener before); a busy port is answered with the offer of a free one."""
    _close(ls)
    listener = Listener(writer, port=port, on_event=lambda event: loop.call_soon_threadsafe(_arrived, ls, event))
    try:
        listener.start()
    except PortBusy as exc:
        if exc.free_port is None:
            raise
        _offer(ls, loop, writer, exc)
        return {"listening": False, "port": port, "freePort": exc.free_port}
    ls.listener = listener
    ls.show(f"orps: listening for Competitive Companion on port {listener.port}; "
            f"its problems go into {writer.folder}")
    return {"listening": True, "port": listener.port, "dir": str(writer.folder)}


def _offer(ls: OrpsServer, loop: asyncio.AbstractEventLoop, writer: ProblemWriter, busy: PortBusy) -> None:
    free = busy.free_port
    action = types.MessageActionItem(title=f"Listen on port {free}")

    def chosen(answer: types.MessageActionItem | None) -> None:
        if answer is None or answer.title != action.title or free is None:
            return
        try:
            _start(ls, loop, writer, free)
        except OrpsError as exc:
            ls.report(exc, "listening for Competitive Companion")

    ls.window_show_message_request(types.ShowMessageRequestParams(
        type=types.MessageType.Warning, actions=[action],
        message=f"orps: {busy}. Listen on port {free} instead? (Add it to Competitive Companion's "
                "custom ports, in its settings.)"), callback=chosen)


def _close(ls: OrpsServer) -> None:
    if ls.listener is not None:
        ls.listener.close()
        ls.listener = None


def _arrived(ls: OrpsServer, event: ListenEvent) -> None:
    """On the event loop: say what arrived, and open the problem's solution."""
    first, *notes = listen_event_lines(event)
    if event.kind is ListenEventKind.REJECTED or event.problem is None:
        ls.show(f"orps listen: {first}", types.MessageType.Warning)
        return
    problem = event.problem
    ls.show("orps: " + "; ".join([first, *notes]),
            types.MessageType.Warning if problem.unsupported else types.MessageType.Info)
    window = ls.client_capabilities.window
    if window is not None and window.show_document is not None and window.show_document.support:
        ls.window_show_document(types.ShowDocumentParams(uri=convert.uri_of(problem.solution), take_focus=True))


def _folder(ls: OrpsServer, given: str | None) -> Path:
    """The folder to write into: ``given`` (a path or a file URI; relative to the workspace
    folder), else the workspace folder."""
    base = _workspace_folder(ls)
    if given:
        path = convert.path_of(given) if given.startswith("file:") else Path(given).expanduser()
        if path is None:
            raise InputError(f"not a folder: {given}")
        if not path.is_absolute():
            if base is None:
                raise InputError(f"{given} is relative, and no workspace folder is open to resolve it in")
            path = base / path
        return path
    if base is None:
        raise InputError("no workspace folder is open to write the problems into",
                         hint="open a folder, or give orps.listen a dir")
    return base


def _workspace_folder(ls: OrpsServer) -> Path | None:
    for folder in ls.workspace.folders.values():
        path = convert.path_of(folder.uri)
        if path is not None:
            return path
    root = ls.workspace.root_path
    return Path(root) if root else None


def _template(folder: Path, given: str | None) -> str | None:
    if not given:
        return None
    path = Path(given).expanduser()
    path = path if path.is_absolute() else folder / path
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the template {path}: {exc}") from None
