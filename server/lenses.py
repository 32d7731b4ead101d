"""textDocument/codeLens: "Run tests" and "Refine with ORPS" above the tested target's ``def``, or above
every function the project's tests exercise; during an inline review, Accept and Reject above each
pending hunk instead."""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types

from orps_engine import FunctionTarget, HunkReview, def_line, function_name, target_line, tested_functions

from . import convert
from .commands import AllHunksArgs, DocumentArgs, HunkArgs, RefineArgs, unstructure
from .server import OrpsServer, guarded


def register(ls: OrpsServer) -> None:
    ls.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))(code_lenses)


@guarded("code lenses", default=[])
async def code_lenses(ls: OrpsServer, params: types.CodeLensParams) -> list[types.CodeLens]:
    state = ls.docs.get(params.text_document.uri)
    if state is None or state.run.problem is None:
        return []
    lines = ls.workspace.get_text_document(state.uri).lines
    if state.review is not None:
        return _hunk_lenses(state.uri, state.review, lines)
    problem = state.run.problem
    run = types.Command(title="Run tests", command="orps.runTests",
                        arguments=[unstructure(DocumentArgs(uri=state.uri))])
    functions = tested_functions(problem)
    if not functions:  # a program, or tests of the file as a whole
        where = convert.line_range(lines, def_line(problem))
        refine = _refine(state.uri, function_name(problem.target))
        return [types.CodeLens(range=where, command=run), types.CodeLens(range=where, command=refine)]
    lenses = []
    for name in functions:  # every function the tests exercise, methods too
        where = convert.line_range(lines, target_line(problem.source, FunctionTarget(name)))
        lenses += [types.CodeLens(range=where, command=run),
                   types.CodeLens(range=where, command=_refine(state.uri, name))]
    return lenses


def _hunk_lenses(uri: str, review: HunkReview, lines: Sequence[str]) -> list[types.CodeLens]:
    """While a file is reviewed inline: Accept and Reject above each pending hunk (above the first, for
    all of them too); the run and refine lenses come back when the review ends."""
    placed = review.placed()
    lenses = []
    for number, place in enumerate(placed, 1):
        where = convert.line_range(lines, place.first + 1)
        hunk = place.hunk
        size = f"-{len(hunk.removed)} +{len(hunk.added)}"
        lenses += [_decide(where, f"ORPS hunk {number}/{len(placed)} ({size}): Accept", uri, hunk.index, True),
                   _decide(where, "Reject", uri, hunk.index, False)]
        if number == 1 and len(placed) > 1:
            lenses += [_decide(where, "Accept all", uri, None, True), _decide(where, "Reject all", uri, None, False)]
    return lenses


def _decide(where: types.Range, title: str, uri: str, index: int | None, accept: bool) -> types.CodeLens:
    if index is None:
        command = types.Command(title=title, command="orps.decideAllHunks",
                                arguments=[unstructure(AllHunksArgs(uri=uri, accept=accept))])
    else:
        command = types.Command(title=title, command="orps.decideHunk",
                                arguments=[unstructure(HunkArgs(uri=uri, index=index, accept=accept))])
    return types.CodeLens(range=where, command=command)


def _refine(uri: str, function: str | None) -> types.Command:
    return types.Command(title="Refine with ORPS", command="orps.refine",
                         arguments=[unstructure(RefineArgs(uri=uri, function=function))])
