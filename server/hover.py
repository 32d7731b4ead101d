"""textDocument/hover on the target's ``def`` line: the last run's table and the latest critique."""

from __future__ import annotations

from lsprotocol import types

from orps_engine import def_line, hover_markdown

from . import convert
from .server import OrpsServer, guarded


def register(ls: OrpsServer) -> None:
    ls.feature(types.TEXT_DOCUMENT_HOVER)(hover)


@guarded("hover")
async def hover(ls: OrpsServer, params: types.HoverParams) -> types.Hover | None:
    state = ls.docs.get(params.text_document.uri)
    if state is None or state.run.problem is None or state.run.suite is None:
        return None
    line = def_line(state.run.problem) - 1
    if params.position.line != line:
        return None
    refinement = state.run.refinement
    critique = refinement.result.best.critique or None if refinement is not None else None
    lines = ls.workspace.get_text_document(state.uri).lines
    return types.Hover(contents=convert.markdown(hover_markdown(state.run.problem, state.run.suite, critique)),
                       range=convert.line_range(lines, line + 1))
