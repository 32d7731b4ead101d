"""Length-prefixed JSON messages over Unix stream sockets, optionally carrying file descriptors.

Every socket between orps processes uses this one framing so that no process ever has to
guess where a message ends; a peer that sends garbage gets a ``WireError``, not a hang. What the
messages hold is ``protocol``'s business: ``recv`` returns plain JSON (``object``), for one of
``protocol``'s readers to check.
"""

from __future__ import annotations

import json
import os
import socket
import struct
from collections.abc import Mapping

_HEADER = struct.Struct(">I")
MAX_MESSAGE_BYTES = 256 * 1024 * 1024


class WireError(Exception):
    """The peer closed the channel or sent something that is not a framed message."""


class ChannelClosed(WireError):
    """The peer closed the channel (it went away, rather than sending garbage)."""


def send(sock: socket.socket, message: Mapping[str, object], fds: list[int] | None = None) -> None:
    body = json.dumps(message, separators=(",", ":")).encode("utf-8")
    frame = _HEADER.pack(len(body)) + body
    if fds:
        socket.send_fds(sock, [frame[:_HEADER.size]], fds)
        sock.sendall(frame[_HEADER.size:])
    else:
        sock.sendall(frame)


def recv(sock: socket.socket) -> object:
    """Read one message."""
    return _body(sock, _recv_exact(sock, _HEADER.size))


def recv_with_fds(sock: socket.socket) -> tuple[object, list[int]]:
    """Read one message and the file descriptors sent along with it."""
    head, fds, _flags, _addr = socket.recv_fds(sock, _HEADER.size, 16)
    try:
        if not head:
            raise ChannelClosed("channel closed")
        head += _recv_exact(sock, _HEADER.size - len(head))
        return _body(sock, head), fds
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise


def _body(sock: socket.socket, head: bytes) -> object:
    (length,) = _HEADER.unpack(head)
    if length > MAX_MESSAGE_BYTES:
        raise WireError(f"message of {length} bytes exceeds the limit")
    try:
        message: object = json.loads(_recv_exact(sock, length))
    except (ValueError, RecursionError) as exc:  # RecursionError: nested past what the parser can take
        raise WireError(f"malformed message: {exc}"[:200]) from None
    return message


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks = []
    while size:
        chunk = sock.recv(min(size, 1 << 20))
        if not chunk:
            raise ChannelClosed("channel closed")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
