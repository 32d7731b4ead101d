"""Plain-text helpers every layer may use: cutting text to a size, flattening it to one line, and
aligning columns. One way to do each, so the CLI, the editor and the prompts cut alike."""

from __future__ import annotations

from collections.abc import Sequence

ELLIPSIS = "..."


def clip(text: str, limit: int, marker: str = ELLIPSIS) -> str:
    """``text`` if it fits in ``limit`` characters, else its start and ``marker`` in that room."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(marker))] + marker


def one_line(text: str, limit: int) -> str:
    """``text`` with every run of whitespace made one space, clipped to ``limit``."""
    return clip(" ".join(text.split()), limit)


def escaped_line(text: str, limit: int) -> str:
    """``text`` on one line with its line breaks shown as ``\\n``, clipped to ``limit``."""
    return clip(text.strip().replace("\n", "\\n"), limit)


def columns(rows: Sequence[Sequence[str]]) -> str:
    """Rows of cells as left-aligned columns two spaces apart, without trailing spaces."""
    if not rows:
        return ""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows)
