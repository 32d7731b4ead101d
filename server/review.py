"""The inline review: a refinement accepted or rejected hunk by hunk, in the file itself.

``orps.reviewInline`` begins it; each pending hunk gets code lenses (Accept, Reject; above the first,
Accept all and Reject all) and ``orps/review`` tells the client which lines each would replace, to
mark them. Accepting a hunk is a versioned ``workspace/applyEdit`` of those lines alone, undoable
like any edit. Any other change to the file ends the review (``HunkReview.stale_reason``): a hunk is
never put on lines it was not computed for.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from orps_engine import Decision, HunkReview, InputError, Outcome

from . import convert
from .commands import AllHunksArgs, DocumentArgs, HunkArgs
from .server import DocState, OrpsServer, guarded

LABEL = "ORPS: accept hunk"


def register(ls: OrpsServer) -> None:
    ls.command("orps.reviewInline")(review_inline)
    ls.command("orps.decideHunk")(decide_hunk)
    ls.command("orps.decideAllHunks")(decide_all)
    ls.on_change(document_changed)


@guarded("starting the inline review")
async def review_inline(ls: OrpsServer, args: DocumentArgs) -> dict[str, Any]:
    state = ls.docs.get(args.uri)
    refinement = state.run.refinement if state is not None else None
    if state is None or refinement is None or not refinement.result.improved:
        raise InputError("no refinement to review for this file: refine it first")
    text = ls.text(args.uri)[0]
    stale = refinement.stale_reason(text)
    if stale:
        raise InputError(f"not reviewed: {stale}")
    state.review = HunkReview.begin(refinement, text)
    ls.notify_review(state)
    return {"hunks": len(state.review.hunks)}


@guarded("deciding a hunk")
async def decide_hunk(ls: OrpsServer, args: HunkArgs) -> dict[str, Any]:
    state, review = _reviewing(ls, args.uri)
    if args.index not in {h.index for h in review.pending}:
        raise InputError(f"hunk {args.index} is not pending in this review")
    return await _decide(ls, state, review, {args.index}, args.accept)


@guarded("deciding the hunks")
async def decide_all(ls: OrpsServer, args: AllHunksArgs) -> dict[str, Any]:
    state, review = _reviewing(ls, args.uri)
    return await _decide(ls, state, review, {h.index for h in review.pending}, args.accept)


async def document_changed(ls: OrpsServer, params: types.DidChangeTextDocumentParams) -> None:
    state = ls.docs.get(params.text_document.uri)
    if state is None or state.review is None:
        return
    text = ls.text(state.uri)[0]
    stale = state.review.stale_reason(text)
    if stale:
        applied_whole = state.review.refinement.is_applied(text)  # the Apply action, during the review
        state.review = None
        if not applied_whole:
            ls.show(f"orps: inline review ended: {stale}", types.MessageType.Warning)
        ls.notify_review(state)


def _reviewing(ls: OrpsServer, uri: str) -> tuple[DocState, HunkReview]:
    state = ls.docs.get(uri)
    review = state.review if state is not None else None
    if state is None or review is None:
        raise InputError("no inline review of this file is going on: start one from the refinement's code actions")
    stale = review.stale_reason(ls.text(uri)[0])
    if stale:
        state.review = None
        ls.notify_review(state)
        raise InputError(stale)
    return state, review


async def _decide(ls: OrpsServer, state: DocState, review: HunkReview, indices: set[int],
                  accept: bool) -> dict[str, Any]:
    """Record the decisions and make the accepted hunks' edits (one versioned edit); if the editor
    refuses it, the decisions are taken back. The review ends when nothing is left to decide."""
    edits = review.decide(indices, Decision.ACCEPTED if accept else Decision.REJECTED)
    applied = True
    if edits:
        text, version = ls.text(state.uri)
        document = types.OptionalVersionedTextDocumentIdentifier(uri=state.uri, version=version)
        change = types.TextDocumentEdit(text_document=document, edits=[convert.text_edit(e, text) for e in edits])
        answer = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(
            edit=types.WorkspaceEdit(document_changes=[change]), label=LABEL))
        applied = bool(answer.applied)
        if not applied:
            review.undo(indices)
            ls.show(f"orps: the editor did not apply the hunk ({answer.failure_reason or 'no reason given'})",
                    types.MessageType.Warning)
    if state.review is review and review.finished:
        state.review = None
        kept, total = len(review.accepted), len(review.hunks)
        ls.log_line(f"inline review of {review.refinement.target} done: {kept} of {total} hunks accepted")
        if kept == 0:
            ls.decide(state, Outcome.REJECTED, "every hunk rejected in the inline review")
        elif kept < total:  # all of them: the change is the whole pick, recorded as applied (server.on_change)
            ls.decide(state, Outcome.ACCEPTED, f"{kept} of {total} hunks accepted in the inline review")
    ls.notify_review(state)
    return {"applied": applied, "pending": len(review.pending)}
