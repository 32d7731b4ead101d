"""Plain-text helpers every layer may use: cutting text to a size, flattening it to one line,
showing control characters, and aligning columns. One way to do each, so the CLI, the editor and
the prompts cut alike."""

from __future__ import annotations

import re
from collections.abc import Sequence

ELLIPSIS = "..."
_EXCERPT_MARKER_ROOM = 42  # ``... (N more characters)`` for any N a str can have

# What a terminal or an editor acts on instead of showing: C0 controls but the line feed and the
# tab, DEL, C1 controls, and the Unicode marks that reorder text (bidi embeddings, overrides,
# isolates, marks) or break lines outside the layout (line and paragraph separators).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def clip(text: str, limit: int, marker: str = ELLIPSIS) -> str:
    """``text`` if it fits in ``limit`` characters, else its start and ``marker`` in that room."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(marker))] + marker


def excerpt(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters, else its start and how much was left out, in
    that room: for texts a run produced, whose size the run chose."""
    if len(text) <= limit:
        return text
    keep = max(0, limit - _EXCERPT_MARKER_ROOM)
    return f"{text[:keep]}{ELLIPSIS} ({len(text) - keep} more characters)"


def printable(text: str) -> str:
    """``text`` with every control character written as a visible escape (``\\x1b``, ``\\r``,
    ``\\u202e``), line feeds and tabs kept: what a run printed or raised reaches a terminal or an
    editor as text to read, never as cursor moves, clipboard writes (OSC 52), overwritten lines or
    reordered characters that could fake a verdict."""
    return _CONTROLS.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return {"\r": "\\r", "\b": "\\b", "\a": "\\a", "\f": "\\f", "\v": "\\v"}.get(char) or (
        f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def one_line(text: str, limit: int) -> str:
    """``text`` with every run of whitespace made one space and its control characters shown
    (``printable``), clipped to ``limit``."""
    return clip(printable(" ".join(text.split())), limit)


def escaped_line(text: str, limit: int) -> str:
    """``text`` on one line with its line breaks shown as ``\\n``, clipped to ``limit``."""
    return clip(text.strip().replace("\n", "\\n"), limit)


def columns(rows: Sequence[Sequence[str]]) -> str:
    """Rows of cells as left-aligned columns two spaces apart, without trailing spaces."""
    if not rows:
        return ""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows)
