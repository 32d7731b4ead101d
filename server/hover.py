"""textDocument/hover on a ``def`` line: on the target's, the last run's table and the latest
critique; on any function with a refine history, how many refinements it had and how many were
accepted, the last one's summary, and a link that opens the history view (``orps.showHistory``, a
client command: VS Code runs it only from a hover its client marks trusted for that command)."""

from __future__ import annotations

from lsprotocol import types

from orps_engine import WholeFile, def_line, function_target_at, history_line, hover_markdown, target_line

from . import convert
from .server import DocState, OrpsServer, guarded

SHOW_HISTORY = "orps.showHistory"


def register(ls: OrpsServer) -> None:
    ls.feature(types.TEXT_DOCUMENT_HOVER)(hover)


@guarded("hover")
async def hover(ls: OrpsServer, params: types.HoverParams) -> types.Hover | None:
    state = ls.docs.get(params.text_document.uri)
    if state is None:
        return None
    line = params.position.line
    parts = [part for part in (_run_markdown(state, line), _history_markdown(ls, state, line)) if part]
    if not parts:
        return None
    lines = ls.workspace.get_text_document(state.uri).lines
    return types.Hover(contents=convert.markdown("\n\n".join(parts)), range=convert.line_range(lines, line + 1))


def _run_markdown(state: DocState, line: int) -> str | None:
    problem, suite = state.run.problem, state.run.suite
    if problem is None or suite is None or def_line(problem) - 1 != line:
        return None
    refinement = state.run.refinement
    critique = refinement.result.best.critique or None if refinement is not None else None
    return hover_markdown(problem, suite, critique)


def _history_markdown(ls: OrpsServer, state: DocState, line: int) -> str | None:
    """The history of the function whose ``def`` is on ``line`` (the program's on line 0 of a program)."""
    text = ls.text(state.uri)[0]
    target = function_target_at(text, line + 1)
    if target is not None and target_line(text, target) == line + 1:
        function: str | None = target.qualname
    elif line == 0 and state.run.problem is not None and isinstance(state.run.problem.target, WholeFile):
        function = None
    else:
        return None
    entries = [e for e in ls.history.entries(state.path, function) if e.function == function]
    summary = history_line(entries)
    if summary is None:
        return None
    link = convert.command_link("Open the refine history", SHOW_HISTORY, {"uri": state.uri, "function": function})
    return f"{summary}\n\n{link}"
