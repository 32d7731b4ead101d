"""The arguments of the server's commands and the data its code actions carry, as typed records.

pygls structures a command's JSON arguments into these from the handler's annotations; a
malformed argument is answered with InvalidParams before any handler runs.
"""

from __future__ import annotations

from typing import Any

import attrs
from cattrs.errors import BaseValidationError
from lsprotocol import converters, types

_CONVERTER = converters.get_converter()


@attrs.define(frozen=True)
class DocumentArgs:
    """A command about one document: ``{"uri": ...}``."""

    uri: str


@attrs.define(frozen=True)
class RefineArgs:
    """``orps.refine``: the document, and the function by qualified name or the cursor's position
    (neither: the target the tests name). ``version`` is the document version the client saw.
    ``progress`` is a work-done progress token the client made for this refine (shown where the client
    chooses, e.g. a notification with a Cancel button); without one the server asks for its own."""

    uri: str
    function: str | None = None
    position: types.Position | None = None
    version: int | None = None
    progress: str | None = None


@attrs.define(frozen=True)
class HunkArgs:
    """``orps.decideHunk``: the document, the hunk's index, and accept (true) or reject (false)."""

    uri: str
    index: int
    accept: bool


@attrs.define(frozen=True)
class AllHunksArgs:
    """``orps.decideAllHunks``: the document, and accept (true) or reject (false) every pending hunk."""

    uri: str
    accept: bool


@attrs.define(frozen=True)
class HistoryArgs:
    """``orps.history``: the document, and one function's entries by qualified name (None: the file's)."""

    uri: str
    function: str | None = None


@attrs.define(frozen=True)
class EntryArgs:
    """``orps.historyEntry``, ``orps.reapplyHistory``: the document and a history entry's id."""

    uri: str
    entry: str


@attrs.define(frozen=True)
class NodeArgs:
    """``orps.candidate``: the document and a node's id in its latest search."""

    uri: str
    node: str


def document_data(data: Any) -> DocumentArgs | None:
    """A code action's ``data`` read back, or None if it is not ours."""
    try:
        return _CONVERTER.structure(data, DocumentArgs)
    except (BaseValidationError, TypeError, ValueError, KeyError):
        return None


def unstructure(args: DocumentArgs | RefineArgs | HunkArgs | AllHunksArgs | HistoryArgs) -> Any:
    """As JSON, for a command's arguments or an action's data."""
    return _CONVERTER.unstructure(args)
