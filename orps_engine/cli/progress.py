"""The progress line of long commands, on stderr: redrawn in place on a terminal; elsewhere (a
pipe, a log) only the lines worth keeping, one per line."""

from __future__ import annotations

from typing import TextIO

from ..text import printable

BAR_WIDTH = 20


class Progress:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self._drawn = False

    def show(self, text: str, *, transient: bool = False) -> None:
        """Redraw the line; ``transient`` lines (one per test or candidate) are left out of logs.
        Only this class writes control sequences: ``text`` has its own escaped."""
        text = printable(text)
        if self.tty:
            self.stream.write("\r\033[K" + text)
            self._drawn = True
        elif not transient:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._drawn = False


def bar(done: int, total: int) -> str:
    """``[########------------]``: ``done`` of ``total`` as a bar."""
    filled = min(BAR_WIDTH, BAR_WIDTH * done // total) if total else 0
    return f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}]"
