"""The refine history: every refinement accepted or rejected, per function, and re-applying one.

Commands: ``orps.history`` {uri, function?} lists a file's entries (newest first) as rows for a tree
view; ``orps.historyEntry`` {uri, entry} is an entry as a read-only document (figures, critique, its
code against the function's current code); ``orps.reapplyHistory`` {uri, entry} puts an entry's code
back through a versioned ``workspace/applyEdit`` (refused, with why, if the function is gone);
``orps.rejectRefinement`` {uri} records the current refinement as rejected and drops it.

A refinement is recorded as accepted when its code is seen in the file (``didChange``), whichever
edit put it there: the code action, the review's Accept, ``orps.applyRefinement``, or by hand. A
new refine that replaces an unapplied one records that one as rejected (``refine``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsprotocol import types

from orps_engine import HistoryEntry, InputError, Outcome, entry_rows, entry_text, row_document

from . import convert
from .commands import DocumentArgs, EntryArgs, HistoryArgs
from .server import OrpsServer, guarded

LABEL = "Re-apply an ORPS refinement from the history"
APPLIED, REJECTED = "applied", "rejected by the user"


def register(ls: OrpsServer) -> None:
    ls.command("orps.history")(history)
    ls.command("orps.historyEntry")(history_entry)
    ls.command("orps.reapplyHistory")(reapply)
    ls.command("orps.rejectRefinement")(reject)
    ls.on_change(document_changed)


@guarded("listing the refine history")
async def history(ls: OrpsServer, args: HistoryArgs) -> dict[str, Any]:
    path = _path(args.uri)
    rows = entry_rows(ls.history.entries(path, args.function))
    return {"uri": args.uri, "saved": ls.history.saved, "problem": ls.history.problem,
            "entries": [row_document(r) for r in rows]}


@guarded("showing the history entry")
async def history_entry(ls: OrpsServer, args: EntryArgs) -> dict[str, Any]:
    entry = _entry(ls, args)
    try:
        current: str | None = entry.current_code(ls.text(args.uri)[0])
    except InputError:
        current = None
    return {"uri": args.uri, "title": entry.function or "the program", "text": entry_text(entry, current)}


@guarded("re-applying the history entry")
async def reapply(ls: OrpsServer, args: EntryArgs) -> dict[str, Any]:
    entry = _entry(ls, args)
    text, version = ls.text(args.uri)
    try:
        edit = entry.edit(text)
    except InputError as exc:
        reason = exc.message + (f" ({exc.hint})" if exc.hint else "")
        ls.show(f"orps: {reason}", types.MessageType.Warning)
        return {"applied": False, "reason": reason}
    if entry.current_code(text) == entry.code:
        return {"applied": False, "reason": f"{entry.target} already has this entry's code"}
    document = types.OptionalVersionedTextDocumentIdentifier(uri=args.uri, version=version)
    change = types.TextDocumentEdit(text_document=document, edits=[convert.text_edit(edit, text)])
    answer = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(
        edit=types.WorkspaceEdit(document_changes=[change]), label=LABEL))
    return {"applied": bool(answer.applied), "reason": answer.failure_reason}


@guarded("rejecting the refinement")
async def reject(ls: OrpsServer, args: DocumentArgs) -> dict[str, Any]:
    state = ls.docs.get(args.uri)
    refinement = state.run.refinement if state is not None else None
    if state is None or refinement is None or not refinement.result.improved:
        return {"rejected": False, "reason": "no refinement to reject for this file"}
    if refinement.is_applied(ls.text(args.uri)[0]):
        return {"rejected": False, "reason": "the refinement is applied already: undo the edit to take it back"}
    ls.decide(state, Outcome.REJECTED, REJECTED)
    state.run.refinement = None  # no code actions, review or hint after
    if state.review is not None:
        state.review = None
        ls.notify_review(state)
    if state.run.problem is not None:
        ls.publish(state)
    ls.refresh_lenses()
    return {"rejected": True, "reason": None}


@guarded("recording an applied refinement")
async def document_changed(ls: OrpsServer, params: types.DidChangeTextDocumentParams) -> None:
    state = ls.docs.get(params.text_document.uri)
    refinement = state.run.refinement if state is not None else None
    if state is None or refinement is None or not refinement.result.improved \
            or ls.history.decided(refinement.id):
        return
    if refinement.is_applied(ls.text(state.uri)[0]):
        ls.decide(state, Outcome.ACCEPTED, APPLIED)


def _path(uri: str) -> Path:
    path = convert.path_of(uri)
    if path is None:
        raise InputError(f"not a file: {uri}")
    return path


def _entry(ls: OrpsServer, args: EntryArgs) -> HistoryEntry:
    entry = ls.history.get(args.entry)
    if entry is None or entry.path != str(_path(args.uri).resolve()):
        raise InputError(f"no entry {args.entry!r} in this file's refine history")
    return entry
