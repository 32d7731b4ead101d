"""textDocument/codeLens: "Run tests" and "Refine with ORPS" above the tested target's ``def``, or above
every function the project's tests exercise."""

from __future__ import annotations

from lsprotocol import types

from orps_engine import FunctionTarget, def_line, function_name, target_line, tested_functions

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
    lines = ls.workspace.get_text_document(state.uri).lines
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


def _refine(uri: str, function: str | None) -> types.Command:
    return types.Command(title="Refine with ORPS", command="orps.refine",
                         arguments=[unstructure(RefineArgs(uri=uri, function=function))])
