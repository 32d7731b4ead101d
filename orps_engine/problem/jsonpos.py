"""Line numbers for the elements of a JSON test file, so errors and diagnostics can point at
the test they are about. The standard ``json`` module parses; this only walks the text."""

from __future__ import annotations

import json

_DECODER = json.JSONDecoder()
_WS = " \t\n\r"


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def _line(text: str, i: int) -> int:
    return text.count("\n", 0, i) + 1


def array_element_lines(text: str, key: str) -> list[int]:
    """Lines of the elements of the top-level array ``key`` (empty if the shape is unexpected)."""
    try:
        start = _top_level_value_index(text, key)
        if start is None or text[start] != "[":
            return []
        lines, i = [], _skip(text, start + 1)
        while i < len(text) and text[i] != "]":
            lines.append(_line(text, i))
            _value, i = _DECODER.raw_decode(text, i)
            i = _skip(text, i)
            if i < len(text) and text[i] == ",":
                i = _skip(text, i + 1)
        return lines
    except (ValueError, IndexError, RecursionError):
        return []


def key_line(text: str, key: str) -> int | None:
    try:
        start = _top_level_value_index(text, key)
    except (ValueError, IndexError, RecursionError):
        return None
    return None if start is None else _line(text, start)


def _top_level_value_index(text: str, key: str) -> int | None:
    """Where the value of ``key`` starts: its last occurrence, the one ``json`` keeps."""
    found, i = None, _skip(text, 0)
    if text[i] != "{":
        return None
    i = _skip(text, i + 1)
    while i < len(text) and text[i] != "}":
        name, i = _DECODER.raw_decode(text, i)
        i = _skip(text, i)
        i = _skip(text, i + 1)  # the colon
        if name == key:
            found = i
        _value, i = _DECODER.raw_decode(text, i)
        i = _skip(text, i)
        if i < len(text) and text[i] == ",":
            i = _skip(text, i + 1)
    return found
