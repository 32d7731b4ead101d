"""Engine records to lsprotocol objects: ranges, diagnostics, markdown. Pure."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls import uris

from orps_engine import Note, Severity, TargetEdit

SOURCE = "orps"
_SEVERITY = {Severity.ERROR: types.DiagnosticSeverity.Error, Severity.WARNING: types.DiagnosticSeverity.Warning,
             Severity.INFORMATION: types.DiagnosticSeverity.Information, Severity.HINT: types.DiagnosticSeverity.Hint}


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


def diagnostic(note: Note, lines: Sequence[str]) -> types.Diagnostic:
    return types.Diagnostic(range=line_range(lines, note.line), message=note.message, source=SOURCE,
                            code=note.code.value, severity=_SEVERITY[note.severity])


def text_edit(edit: TargetEdit, text: str) -> types.TextEdit:
    """Lines ``edit.first``..``edit.last`` of ``text`` replaced by ``edit.text``. Where those
    lines end the file without a line break, the replacement ends without one too."""
    lines = text.splitlines(keepends=True)
    new_text = edit.text
    if lines and edit.last >= len(lines) and not lines[-1].endswith(("\n", "\r")):
        end = types.Position(line=len(lines) - 1, character=utf16_len(lines[-1]))
        new_text = new_text.rstrip("\r\n")
    else:
        end = types.Position(line=edit.last, character=0)
    return types.TextEdit(range=types.Range(start=types.Position(line=edit.first - 1, character=0), end=end),
                          new_text=new_text)


def markdown(text: str) -> types.MarkupContent:
    return types.MarkupContent(kind=types.MarkupKind.Markdown, value=text)


def command_link(title: str, command: str, argument: Any) -> str:
    """A Markdown link that runs ``command`` with ``argument`` (a client shows it only where it
    trusts the Markdown for that command)."""
    return f"[{title}](command:{command}?{urllib.parse.quote(json.dumps([argument]))})"
