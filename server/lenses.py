"""textDocument/codeLens: "Run tests" and "Refine with ORPS" above the tested target's ``def``."""

from __future__ import annotations

from lsprotocol import types

from orps_engine import def_line, function_name

from . import convert
from .commands import DocumentArgs, RefineArgs, unstructure
from .server import OrpsServer, guarded


def register(ls: OrpsServer) -> None:
    ls.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))(code_lenses)


@guarded("code lenses", default=[])
async def code_lenses(ls: OrpsServer, params: types.CodeLensParams) -> list[types.CodeLens]:
    state = ls.docs.get(params.text_document.uri)
    if state is None or state.run.problem is None:
        return []
    problem = state.run.problem
    where = convert.line_range(ls.workspace.get_text_document(state.uri).lines, def_line(problem))
    run = types.Command(title="Run tests", command="orps.runTests",
                        arguments=[unstructure(DocumentArgs(uri=state.uri))])
    refine = types.Command(title="Refine with ORPS", command="orps.refine",
                           arguments=[unstructure(RefineArgs(uri=state.uri, function=function_name(problem.target)))])
    return [types.CodeLens(range=where, command=run), types.CodeLens(range=where, command=refine)]
