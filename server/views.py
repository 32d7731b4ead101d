"""Inlay hints, code lenses and hover: views of the last run's results, computing nothing heavy."""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types

from orps_engine.problem.target import def_line, function_name
from orps_engine.report.editor import hover_markdown, result_label, suite_line

from . import convert
from .server import DocState, OrpsServer, guarded, server


def _owner(ls: OrpsServer, uri: str) -> DocState | None:
    """The tested document behind ``uri``: itself, or the solution whose tests file it is."""
    state = ls.docs.get(uri)
    if state is not None:
        return state
    path = convert.path_of(uri)
    for candidate in ls.docs.values():
        if candidate.problem is not None and any(t.path == path for t in candidate.problem.tests):
            return candidate
    return None


@server.feature(types.TEXT_DOCUMENT_INLAY_HINT, types.InlayHintOptions(resolve_provider=False))
@guarded("inlay hints", default=[])
async def inlay_hints(ls: OrpsServer, params: types.InlayHintParams) -> list[types.InlayHint]:
    uri = params.text_document.uri
    state = _owner(ls, uri)
    if state is None or state.problem is None or state.suite is None:
        return []
    path = convert.path_of(uri)
    lines = ls.workspace.get_text_document(uri).lines
    hints = []
    if path == state.path:
        hints.append(_hint(lines, def_line(state.problem), f"  {suite_line(state.suite)}"))
    tests = {t.id: t for t in state.problem.tests}
    for result in state.suite.results:
        test = tests.get(result.test_id)
        if test is not None and test.path == path and test.line is not None:
            hints.append(_hint(lines, test.line, f"  {result_label(result)}"))
    first, last = params.range.start.line, params.range.end.line
    return [h for h in hints if first <= h.position.line <= last]


def _hint(lines: Sequence[str], line: int, label: str) -> types.InlayHint:
    end = convert.line_range(lines, line).end
    return types.InlayHint(position=end, label=label, kind=types.InlayHintKind.Parameter, padding_left=True)


@server.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
@guarded("code lenses", default=[])
async def code_lenses(ls: OrpsServer, params: types.CodeLensParams) -> list[types.CodeLens]:
    state = ls.docs.get(params.text_document.uri)
    if state is None or state.problem is None:
        return []
    lines = ls.workspace.get_text_document(state.uri).lines
    where = convert.line_range(lines, def_line(state.problem))
    target = function_name(state.problem.target) or "the program"
    run = types.Command(title="Run tests", command="orps.runTests", arguments=[state.uri])
    refine = types.Command(title="Refine with ORPS", command="orps.refine", arguments=[state.uri, target])
    return [types.CodeLens(range=where, command=run), types.CodeLens(range=where, command=refine)]


@server.feature(types.TEXT_DOCUMENT_HOVER)
@guarded("hover")
async def hover(ls: OrpsServer, params: types.HoverParams) -> types.Hover | None:
    state = ls.docs.get(params.text_document.uri)
    if state is None or state.problem is None or state.suite is None:
        return None
    line = def_line(state.problem) - 1
    if params.position.line != line:
        return None
    critique = None
    if state.refine is not None and state.refine.result is not None:
        critique = state.refine.result.best.critique or None
    lines = ls.workspace.get_text_document(state.uri).lines
    return types.Hover(contents=convert.markdown(hover_markdown(state.problem, state.suite, critique)),
                       range=convert.line_range(lines, line + 1))
