"""Code actions on a refined target, cheap to list, the edit built in codeAction/resolve; and the
commands that show the critique, review the proposal and apply it.

The edit is a TextDocumentEdit carrying the document's *current* version and the target's
*current* range (found again by name; the whole document for a program), so edits elsewhere in
the file never make it stale. If the target itself changed since the refine began, nothing is
applied and the action says why.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from lsprotocol import types

from orps_engine import Refinement, function_name, refine_line

from . import convert, settings
from .commands import DocumentArgs, document_data, unstructure
from .server import OrpsServer, guarded

APPLY = "Apply ORPS refinement"
KIND = types.CodeActionKind.RefactorRewrite


def register(ls: OrpsServer) -> None:
    ls.feature(types.TEXT_DOCUMENT_CODE_ACTION,
               types.CodeActionOptions(code_action_kinds=[KIND], resolve_provider=True))(code_actions)
    ls.feature(types.CODE_ACTION_RESOLVE)(resolve)
    ls.command("orps.showCritique")(show_critique)
    ls.command("orps.showProposal")(show_proposal)
    ls.command("orps.proposal")(proposal)
    ls.command("orps.critique")(critique)
    ls.command("orps.applyRefinement")(apply_refinement)


@guarded("code actions", default=[])
async def code_actions(ls: OrpsServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    if params.context.only and not any(KIND.value.startswith(str(k)) or str(k).startswith(KIND.value)
                                       for k in params.context.only):
        return []
    uri = params.text_document.uri
    refinement = _improvement(ls, uri)
    if refinement is None:
        return []
    document = unstructure(DocumentArgs(uri=uri))
    text = ls.text(uri)[0]
    critique = types.CodeAction(title="Show ORPS critique", kind=KIND,
                                command=types.Command(title="Show ORPS critique", command="orps.showCritique",
                                                      arguments=[document]))
    if refinement.is_applied(text):
        return [critique]  # nothing left to apply or review
    apply = types.CodeAction(title=f"{APPLY} ({refine_line(refinement.result).removeprefix('ORPS refinement: ')})",
                             kind=KIND, data=document, is_preferred=True)
    stale = refinement.stale_reason(text)
    if stale:  # shown disabled, with why; a review of it would compare with code no longer there
        apply.disabled = types.CodeActionDisabled(reason=stale)
        return [apply, critique]
    if settings.review_inline(ls.values()):
        review = types.CodeAction(title="Review ORPS refinement inline, hunk by hunk", kind=KIND,
                                  command=types.Command(title="Review ORPS refinement inline",
                                                        command="orps.reviewInline", arguments=[document]))
    else:
        review = types.CodeAction(title="Review ORPS refinement side by side", kind=KIND,
                                  command=types.Command(title="Review ORPS refinement", command="orps.showProposal",
                                                        arguments=[document]))
    return [apply, critique, review]


@guarded("resolving the code action")
async def resolve(ls: OrpsServer, action: types.CodeAction) -> types.CodeAction:
    data = document_data(action.data)
    refinement = _improvement(ls, data.uri) if data is not None else None
    if data is None or refinement is None:
        action.disabled = types.CodeActionDisabled(reason="the refinement is no longer available")
        return action
    stale = refinement.stale_reason(ls.text(data.uri)[0])
    if stale:
        action.disabled = types.CodeActionDisabled(reason=stale)
        return action
    action.edit = _workspace_edit(ls, data.uri, refinement)
    return action


def _improvement(ls: OrpsServer, uri: str) -> Refinement | None:
    """The document's last refinement, if it beat the original."""
    state = ls.docs.get(uri)
    refinement = state.run.refinement if state is not None else None
    return refinement if refinement is not None and refinement.result.improved else None


def _workspace_edit(ls: OrpsServer, uri: str, refinement: Refinement) -> types.WorkspaceEdit:
    """Replace exactly the target's current lines with the refined code."""
    text, version = ls.text(uri)
    edit = convert.text_edit(refinement.edit(text), text)
    document = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
    return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(text_document=document, edits=[edit])])


@guarded("showing the critique")
async def show_critique(ls: OrpsServer, args: DocumentArgs) -> None:
    """For clients that cannot show a virtual document: the critique as a read-only scratch file."""
    shown = await critique(ls, args)
    if shown is None:
        ls.show("orps: no refinement to show for this file yet")
        return
    await _open(ls, _scratch(Path(shown["path"]), "critique.md", shown["text"]), shown["text"])


@guarded("preparing the critique")
async def critique(ls: OrpsServer, args: DocumentArgs) -> dict[str, Any] | None:
    """The last refine's critique as a Markdown text (the editor shows it as a read-only document)."""
    state = ls.docs.get(args.uri)
    refinement = state.run.refinement if state is not None else None
    if refinement is None:
        return None
    result = refinement.result
    title = function_name(result.problem.target) or result.problem.path.name
    text = f"# ORPS critique: {title}\n\n{refine_line(result)}\n\n"
    text += (result.best.critique or "(the critic gave no review)") + "\n"
    return {"uri": args.uri, "path": str(result.problem.path), "title": title, "text": text}


@guarded("showing the proposal")
async def show_proposal(ls: OrpsServer, args: DocumentArgs) -> None:
    """For clients that cannot show a virtual document: the proposal as a read-only scratch file
    (VS Code's extension shows it as an ``orps-proposal:`` document in a diff instead)."""
    review = await proposal(ls, args)
    if review is None:
        ls.show("orps: no refinement to review for this file")
        return
    state = ls.docs[args.uri]
    await _open(ls, _scratch(state.path, f"proposal{state.path.suffix}", review["proposal"]), review["proposal"])


@guarded("preparing the review")
async def proposal(ls: OrpsServer, args: DocumentArgs) -> dict[str, Any] | None:
    """The whole file as it would be after applying (for a side-by-side review)."""
    refinement = _improvement(ls, args.uri)
    if refinement is None:
        return None
    text, _version = ls.text(args.uri)
    stale = refinement.stale_reason(text)
    source = text if stale else refinement.applied_to(text)
    result = refinement.result
    return {"uri": args.uri, "proposal": source, "summary": refine_line(result), "stale": stale,
            "critique": result.best.critique}


@guarded("applying the refinement")
async def apply_refinement(ls: OrpsServer, args: DocumentArgs) -> dict[str, Any]:
    """Apply through workspace/applyEdit (for clients without code actions, e.g. a review's
    Accept button); the same versioned, re-targeted edit and the same stale check."""
    refinement = _improvement(ls, args.uri)
    if refinement is None:
        return {"applied": False, "reason": "no refinement to apply"}
    stale = refinement.stale_reason(ls.text(args.uri)[0])
    if stale:
        ls.show(f"orps: not applied: {stale}", types.MessageType.Warning)
        return {"applied": False, "reason": stale}
    answer = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(
        edit=_workspace_edit(ls, args.uri, refinement), label=APPLY))
    return {"applied": bool(answer.applied), "reason": answer.failure_reason}


def _scratch(source: Path, suffix: str, text: str) -> Path:
    """A read-only copy of ``text`` in a folder of this user's own, named for the full path of the file
    it is about: two ``total.py`` in different projects, or two users, never share one."""
    folder = _scratch_folder()
    digest = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:12]
    path = folder / f"{source.stem}-{digest}.orps-{suffix}"
    path.unlink(missing_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o444)  # a review, not a place to edit: typing there would be lost
    return path


def _scratch_folder() -> Path:
    folder = Path(tempfile.gettempdir()) / f"orps-review-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        info = folder.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
            return Path(tempfile.mkdtemp(prefix="orps-review-"))  # someone else's, or open to others
    return folder


async def _open(ls: OrpsServer, path: Path, text: str) -> None:
    window = ls.client_capabilities.window
    if window is not None and window.show_document is not None and window.show_document.support:
        await ls.window_show_document_async(types.ShowDocumentParams(uri=convert.uri_of(path), take_focus=True))
    else:
        ls.show(text[:2000])
