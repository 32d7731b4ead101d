"""Length-prefixed JSON messages over Unix stream sockets, optionally carrying file descriptors.

Every channel between orps processes uses this one framing so that no process ever has to
guess where a message ends; a peer that sends garbage gets a ``WireError``, not a hang.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

_HEADER = struct.Struct(">I")
MAX_MESSAGE_BYTES = 256 * 1024 * 1024


class WireError(Exception):
    """The peer closed the channel or sent something that is not a framed message."""


def send(sock: socket.socket, message: Any, fds: list[int] | None = None) -> None:
    body = json.dumps(message, separators=(",", ":")).encode("utf-8")
    frame = _HEADER.pack(len(body)) + body
    if fds:
        socket.send_fds(sock, [frame[:_HEADER.size]], fds)
        sock.sendall(frame[_HEADER.size:])
    else:
        sock.sendall(frame)


def recv(sock: socket.socket, *, with_fds: bool = False) -> Any:
    """Read one message; with ``with_fds`` returns ``(message, fds)``."""
    fds: list[int] = []
    if with_fds:
        head, fds, _flags, _addr = socket.recv_fds(sock, _HEADER.size, 16)
        if not head:
            raise WireError("channel closed")
        head += _recv_exact(sock, _HEADER.size - len(head))
    else:
        head = _recv_exact(sock, _HEADER.size)
    (length,) = _HEADER.unpack(head)
    if length > MAX_MESSAGE_BYTES:
        raise WireError(f"message of {length} bytes exceeds the limit")
    try:
        message = json.loads(_recv_exact(sock, length))
    except ValueError as exc:
        raise WireError(f"malformed message: {exc}") from None
    return (message, fds) if with_fds else message


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks = []
    while size:
        chunk = sock.recv(min(size, 1 << 20))
        if not chunk:
            raise WireError("channel closed")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
