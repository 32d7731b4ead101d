"""Code actions on a refined function: cheap to list, the edit built in codeAction/resolve.

The edit is a TextDocumentEdit carrying the document's *current* version and the function's
*current* range (found again by name), so edits elsewhere in the file never make it stale. If
the function itself changed since the refine began, nothing is applied and the action says why.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from lsprotocol import types

from orps_engine.errors import InputError
from orps_engine.problem import Problem
from orps_engine.problem.target import as_block, function_name, replace_target, target_source, target_span
from orps_engine.report.refine import refine_line
from orps_engine.search import RefineResult

from . import convert
from .server import DocState, OrpsServer, guarded, server

APPLY = "Apply ORPS refinement"
KIND = types.CodeActionKind.RefactorRewrite


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                types.CodeActionOptions(code_action_kinds=[KIND], resolve_provider=True))
@guarded("code actions", default=[])
async def code_actions(ls: OrpsServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    if params.context.only and not any(KIND.value.startswith(str(k)) or str(k).startswith(KIND.value)
                                       for k in params.context.only):
        return []
    state = ls.docs.get(params.text_document.uri)
    result = _result(state)
    if state is None or result is None or state.refine is None:
        return []
    data = {"uri": state.uri, "function": function_name(state.refine.target)}
    apply = types.CodeAction(title=f"{APPLY} ({refine_line(result).removeprefix('ORPS refinement: ')})",
                             kind=KIND, data=data, is_preferred=True)
    stale = _stale_reason(ls, state)
    if stale:
        apply.disabled = types.CodeActionDisabled(reason=stale)
    return [
        apply,
        types.CodeAction(title="Show ORPS critique", kind=KIND,
                         command=types.Command(title="Show ORPS critique", command="orps.showCritique",
                                               arguments=[state.uri])),
        types.CodeAction(title="Review ORPS refinement side by side", kind=KIND,
                         command=types.Command(title="Review ORPS refinement", command="orps.showProposal",
                                               arguments=[state.uri])),
    ]


@server.feature(types.CODE_ACTION_RESOLVE)
@guarded("resolving the code action")
async def resolve(ls: OrpsServer, action: types.CodeAction) -> types.CodeAction:
    data: Any = action.data or {}
    state = ls.docs.get(str(data.get("uri"))) if isinstance(data, dict) else None
    result = _result(state)
    if state is None or result is None:
        action.disabled = types.CodeActionDisabled(reason="the refinement is no longer available")
        return action
    stale = _stale_reason(ls, state)
    if stale:
        action.disabled = types.CodeActionDisabled(reason=stale)
        return action
    action.edit = function_edit(ls, state, result)
    return action


def _result(state: DocState | None) -> RefineResult | None:
    if state is None or state.refine is None or state.refine.result is None or not state.refine.result.improved:
        return None
    return state.refine.result


def _stale_reason(ls: OrpsServer, state: DocState) -> str | None:
    """Why applying now would clobber the user's work, if it would."""
    assert state.refine is not None
    text, _version = ls.text(state.uri)
    target = state.refine.target
    try:
        current = target_source(text, target)
    except InputError:
        return f"{target} is no longer in the file"
    if current != state.refine.target_source:
        return f"{target} changed since the refine began; refine it again"
    return None


def function_edit(ls: OrpsServer, state: DocState, result: RefineResult) -> types.WorkspaceEdit:
    """Replace exactly the function's current lines with the refined code."""
    assert state.refine is not None and result.best.code is not None
    text, version = ls.text(state.uri)
    first, last = target_span(text, state.refine.target)
    lines = text.splitlines(keepends=True)
    new_text = as_block(result.best.code, text)
    if last >= len(lines) and not lines[-1].endswith("\n"):  # the function ends the file, unterminated
        end = types.Position(line=last - 1, character=convert.utf16_len(lines[-1]))
        new_text = new_text.rstrip("\r\n")
    else:
        end = types.Position(line=last, character=0)
    edit = types.TextEdit(range=types.Range(start=types.Position(line=first - 1, character=0), end=end),
                          new_text=new_text)
    document = types.OptionalVersionedTextDocumentIdentifier(uri=state.uri, version=version)
    return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(text_document=document, edits=[edit])])


@server.command("orps.showCritique")
@guarded("showing the critique")
async def show_critique(ls: OrpsServer, *args: Any) -> None:
    state = ls.docs.get(convert.uri_argument(args))
    result = state.refine.result if state and state.refine else None
    if result is None:
        ls.show("orps: no refinement to show for this file yet")
        return
    title = function_name(result.problem.target) or result.problem.path.name
    text = f"# ORPS critique: {title}\n\n{refine_line(result)}\n\n"
    text += (result.best.critique or "(the critic gave no review)") + "\n"
    await _open(ls, _scratch(result.problem, "critique.md", text), text)


@server.command("orps.showProposal")
@guarded("showing the proposal")
async def show_proposal(ls: OrpsServer, *args: Any) -> None:
    review = await proposal(ls, *args)
    if review is None:
        ls.show("orps: no refinement to review for this file")
        return
    await _open(ls, Path(review["proposalPath"]), review["proposal"])


@server.command("orps.proposal")
@guarded("preparing the review")
async def proposal(ls: OrpsServer, *args: Any) -> dict[str, Any] | None:
    """The whole file as it would be after applying (for a side-by-side review)."""
    state = ls.docs.get(convert.uri_argument(args))
    result = _result(state)
    if state is None or state.refine is None or result is None or result.best.code is None:
        return None
    stale = _stale_reason(ls, state)
    text, _version = ls.text(state.uri)
    source = text if stale else replace_target(text, state.refine.target, result.best.code)
    path = _scratch(result.problem, f"proposal{result.problem.path.suffix}", source)
    return {"uri": state.uri, "proposalUri": convert.uri_of(path), "proposalPath": str(path), "proposal": source,
            "summary": refine_line(result), "stale": stale, "critique": result.best.critique}


@server.command("orps.applyRefinement")
@guarded("applying the refinement")
async def apply_refinement(ls: OrpsServer, *args: Any) -> dict[str, Any]:
    """Apply through workspace/applyEdit (for clients without code actions, e.g. a review's
    Accept button); the same versioned, re-targeted edit and the same stale check."""
    state = ls.docs.get(convert.uri_argument(args))
    result = _result(state)
    if state is None or result is None:
        return {"applied": False, "reason": "no refinement to apply"}
    stale = _stale_reason(ls, state)
    if stale:
        ls.show(f"orps: not applied: {stale}", types.MessageType.Warning)
        return {"applied": False, "reason": stale}
    answer = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(
        edit=function_edit(ls, state, result), label=APPLY))
    return {"applied": bool(answer.applied), "reason": answer.failure_reason}


def _scratch(problem: Problem, suffix: str, text: str) -> Path:
    folder = Path(tempfile.gettempdir()) / "orps-review"
    folder.mkdir(exist_ok=True)
    path = folder / f"{problem.path.stem}.orps-{suffix}"
    path.write_text(text, encoding="utf-8")
    return path


async def _open(ls: OrpsServer, path: Path, text: str) -> None:
    window = ls.client_capabilities.window
    if window is not None and window.show_document is not None and window.show_document.support:
        await ls.window_show_document_async(types.ShowDocumentParams(uri=convert.uri_of(path), take_focus=True))
    else:
        ls.show(text[:2000])
