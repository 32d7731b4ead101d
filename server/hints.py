"""textDocument/inlayHint: the last run's summary after the target's ``def``, and each test's
verdict and CPU time at the end of its line in the tests file."""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types

from orps_engine import def_line, result_label, suite_line

from . import convert
from .server import DocState, OrpsServer, guarded


def register(ls: OrpsServer) -> None:
    ls.feature(types.TEXT_DOCUMENT_INLAY_HINT, types.InlayHintOptions(resolve_provider=False))(inlay_hints)


@guarded("inlay hints", default=[])
async def inlay_hints(ls: OrpsServer, params: types.InlayHintParams) -> list[types.InlayHint]:
    uri = params.text_document.uri
    state = _owner(ls, uri)
    if state is None or state.run.problem is None or state.run.suite is None:
        return []
    problem, suite = state.run.problem, state.run.suite
    path = convert.path_of(uri)
    lines = ls.workspace.get_text_document(uri).lines
    hints = []
    if path == state.path:
        hints.append(_hint(lines, def_line(problem), f"  {suite_line(suite)}"))
    tests = {t.id: t for t in problem.tests}
    for result in suite.results:
        test = tests.get(result.test_id)
        if test is not None and test.path == path and test.line is not None:
            hints.append(_hint(lines, test.line, f"  {result_label(result)}"))
    first, last = params.range.start.line, params.range.end.line
    return [h for h in hints if first <= h.position.line <= last]


def _owner(ls: OrpsServer, uri: str) -> DocState | None:
    """The tested document behind ``uri``: itself, or the solution whose tests file it is."""
    state = ls.docs.get(uri)
    if state is not None:
        return state
    path = convert.path_of(uri)
    for candidate in ls.docs.values():
        problem = candidate.run.problem
        if problem is not None and any(t.path == path for t in problem.tests):
            return candidate
    return None


def _hint(lines: Sequence[str], line: int, label: str) -> types.InlayHint:
    end = convert.line_range(lines, line).end
    return types.InlayHint(position=end, label=label, kind=types.InlayHintKind.Parameter, padding_left=True)
