"""Engine records to lsprotocol objects: ranges, diagnostics, markdown. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls import uris

from orps_engine.report.editor import Note

SOURCE = "orps"
_SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning,
             "information": types.DiagnosticSeverity.Information, "hint": types.DiagnosticSeverity.Hint}


def uri_of(path: Path) -> str:
    return uris.from_fs_path(str(path.resolve())) or path.resolve().as_uri()


def path_of(uri: str) -> Path | None:
    fs = uris.to_fs_path(uri)
    return Path(fs) if fs else None


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def line_range(lines: Sequence[str], line: int) -> types.Range:
    """The whole of 1-based ``line`` (past the end: the last line)."""
    index = min(max(0, line - 1), max(0, len(lines) - 1))
    text = lines[index] if lines else ""
    indent = len(text) - len(text.lstrip())
    return types.Range(start=types.Position(line=index, character=utf16_len(text[:indent])),
                       end=types.Position(line=index, character=utf16_len(text.rstrip("\r\n"))))


def span_range(lines: Sequence[str], first: int, last: int) -> types.Range:
    """Lines ``first``..``last`` (1-based, inclusive) as a range ending at the next line's start."""
    end_line = min(last, len(lines))
    return types.Range(start=types.Position(line=first - 1, character=0),
                       end=types.Position(line=end_line, character=0))


def diagnostic(note: Note, lines: Sequence[str], code: str = "test") -> types.Diagnostic:
    return types.Diagnostic(range=line_range(lines, note.line), message=note.message, source=SOURCE, code=code,
                            severity=_SEVERITY[note.severity])


def uri_argument(args: tuple[Any, ...]) -> str:
    """A command's document: its first argument, a URI or an object with ``uri``."""
    first = args[0] if args else ""
    return str(first.get("uri")) if isinstance(first, dict) else str(first)


def markdown(text: str) -> types.MarkupContent:
    return types.MarkupContent(kind=types.MarkupKind.Markdown, value=text)
