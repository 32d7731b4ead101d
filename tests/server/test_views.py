"""End to end: the refine history and the search view, on the real server with the scripted refine.

The history records a refinement as accepted when its code reaches the file (whichever edit put it
there), as rejected when the user rejects it or a new refine replaces it, once each; it is saved in
the storage folder the client names and comes back in the next session; an entry is re-applied
through a versioned workspace/applyEdit. The search view lists the latest refine's candidates and
opens each one's code, report and critique.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from pathlib import Path
from typing import Any

from lsprotocol import types

from tests.fixtures.scripted_model import ScriptedModel
from tests.server.test_lsp import (
    CRITIQUE,
    FAST_CODE,
    PRIMES_PY,
    WAIT_S,
    Client,
    Launcher,
    apply_action,
    apply_text_edits,
    change_document,
    code_actions,
    execute,
    line_of,
    lsp,
    open_and_wait,
    refine_request,
    refined_primes,
    wait_until,
)

__all__ = ["lsp"]  # the fixture, used by name
DEF_LINE = line_of(PRIMES_PY, "def sum_primes_below")


async def history(client: Client, uri: str, function: str | None = "sum_primes_below") -> dict[str, Any]:
    answer = await execute(client, "orps.history", {"uri": uri, "function": function})
    assert isinstance(answer, dict), answer
    return answer


async def apply_by_applyrefinement(client: Client, uri: str) -> str:
    """Accept as the review does (``orps.applyRefinement``), then make the editor's change, as VS Code
    does after applying; wait for the history to say so."""
    applied = await execute(client, "orps.applyRefinement", {"uri": uri})
    assert applied == {"applied": True, "reason": None}, applied
    changes = client.applied_edits[-1].edit.document_changes or []
    assert isinstance(changes[0], types.TextDocumentEdit)
    new_text = apply_text_edits(PRIMES_PY, changes[0].edits)
    seen = len(client.view_updates)
    change_document(client, uri, new_text)
    await wait_until(client, "orps/views", lambda: len(client.view_updates) > seen, "the history to change")
    return new_text


async def hover_text(client: Client, uri: str) -> str:
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=DEF_LINE, character=4)))
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    return hover.contents.value


async def test_an_applied_refinement_is_recorded_once_shown_on_hover_and_saved(
        lsp: Launcher, tmp_path: Path, scripted_model: ScriptedModel) -> None:
    storage = tmp_path / "storage"
    client, py, uri, result = await refined_primes(lsp, tmp_path, scripted_model, storageFolder=str(storage))
    assert (await history(client, uri))["entries"] == []

    new_text = await apply_by_applyrefinement(client, uri)
    change_document(client, uri, new_text + "\n# an edit elsewhere\n")  # still applied: not recorded again
    listed = await history(client, uri)
    assert listed["saved"] is True and listed["problem"] is None
    [row] = listed["entries"]
    assert row["outcome"] == "accepted" and row["function"] == "sum_primes_below"
    assert row["label"] == "accepted: " + result["summary"].removeprefix("ORPS refinement: ")

    shown = await hover_text(client, uri)
    assert "**ORPS history**: 1 refinement (1 accepted); last, accepted (applied)" in shown, shown
    link = shown[shown.index("(command:orps.showHistory?") + len("(command:orps.showHistory?"):].split(")")[0]
    assert json.loads(urllib.parse.unquote(link)) == [{"uri": uri, "function": "sum_primes_below"}]

    entry = await execute(client, "orps.historyEntry", {"uri": uri, "entry": row["id"]})
    assert "The function's current code is this entry's." in entry["text"] and CRITIQUE in entry["text"]
    assert "| tests passed | 5/5 | 5/5 |" in entry["text"]

    # the next session, with the same storage folder, has it
    await lsp.stop(client)
    again = await lsp.start({"storageFolder": str(storage)})
    uri = await open_and_wait(again, py)
    assert [e["id"] for e in (await history(again, uri))["entries"]] == [row["id"]]


async def test_without_a_storage_folder_the_history_says_it_is_not_saved(
        lsp: Launcher, tmp_path: Path, scripted_model: ScriptedModel) -> None:
    client, _py, uri, _result = await refined_primes(lsp, tmp_path, scripted_model)
    listed = await history(client, uri)
    assert listed["saved"] is False and "this session only" in listed["problem"], listed


async def test_rejected_and_superseded_refinements_are_recorded_and_dropped(
        lsp: Launcher, tmp_path: Path, scripted_model: ScriptedModel) -> None:
    client, _py, uri, _result = await refined_primes(lsp, tmp_path, scripted_model)
    again = await asyncio.wait_for(refine_request(client, uri, function="sum_primes_below"), WAIT_S)
    assert again["improved"] is True
    assert [(e["outcome"], e["tooltip"].split(",")[0]) for e in (await history(client, uri))["entries"]] == [
        ("rejected", "superseded by a new refine")]

    rejected = await execute(client, "orps.rejectRefinement", {"uri": uri})
    assert rejected == {"rejected": True, "reason": None}
    assert apply_action(await code_actions(client, uri, DEF_LINE)) is None  # dropped: nothing to apply
    assert [(e["outcome"], e["tooltip"].split(",")[0]) for e in (await history(client, uri))["entries"]] == [
        ("rejected", "rejected by the user"), ("rejected", "superseded by a new refine")]
    nothing = await execute(client, "orps.rejectRefinement", {"uri": uri})
    assert nothing == {"rejected": False, "reason": "no refinement to reject for this file"}
    assert (await execute(client, "orps.searchTree", {"uri": uri}))["nodes"]  # the search outlives it


async def test_an_entry_is_reapplied_through_a_versioned_edit_and_refused_when_the_function_is_gone(
        lsp: Launcher, tmp_path: Path, scripted_model: ScriptedModel) -> None:
    client, _py, uri, _result = await refined_primes(lsp, tmp_path, scripted_model)
    await apply_by_applyrefinement(client, uri)
    [row] = (await history(client, uri))["entries"]

    same = await execute(client, "orps.reapplyHistory", {"uri": uri, "entry": row["id"]})
    assert same == {"applied": False, "reason": "sum_primes_below already has this entry's code"}

    change_document(client, uri, PRIMES_PY)  # the user went back to the slow code
    entry = await execute(client, "orps.historyEntry", {"uri": uri, "entry": row["id"]})
    assert "```diff" in entry["text"] and "+    sieve" in entry["text"], entry["text"]
    edits_before = len(client.applied_edits)
    applied = await execute(client, "orps.reapplyHistory", {"uri": uri, "entry": row["id"]})
    assert applied == {"applied": True, "reason": None}, applied
    assert len(client.applied_edits) == edits_before + 1
    [change] = client.applied_edits[-1].edit.document_changes or []
    assert isinstance(change, types.TextDocumentEdit)
    assert change.text_document.uri == uri and change.text_document.version == client.versions[uri]
    assert FAST_CODE in apply_text_edits(PRIMES_PY, change.edits)

    change_document(client, uri, "def something_else():\n    return 1\n")
    gone = await execute(client, "orps.reapplyHistory", {"uri": uri, "entry": row["id"]})
    assert gone["applied"] is False
    assert gone["reason"].startswith("not re-applied: 'sum_primes_below' is not a top-level function"), gone
    assert len(client.applied_edits) == edits_before + 1
    unknown = await execute(client, "orps.reapplyHistory", {"uri": uri, "entry": "nope"})
    assert unknown is None
    assert any("no entry 'nope'" in m.message for m in client.messages), client.messages


async def test_search_tree_lists_the_candidates_and_opens_one(lsp: Launcher, tmp_path: Path,
                                                              scripted_model: ScriptedModel) -> None:
    client, _py, uri, result = await refined_primes(lsp, tmp_path, scripted_model)
    tree = await execute(client, "orps.searchTree", {"uri": uri})
    assert tree["function"] == "sum_primes_below" and tree["summary"] == result["summary"]
    nodes = tree["nodes"]
    assert nodes[0]["id"] == "original" and nodes[0]["parent"] is None
    ids = [n["id"] for n in nodes]
    assert all(n["parent"] in ids[:i] for i, n in enumerate(nodes) if i > 0), nodes  # parents come first
    [pick] = [n for n in nodes if n["pick"]]
    assert pick["id"] == result["best"] and pick["label"] == "★ " + result["best"]
    assert pick["passed"] == pick["total"] == 5 and pick["critic_score"] == 5
    assert "5 AC" in pick["description"] and "critic 5/5" in pick["description"] and pick["cost"]

    shown = await execute(client, "orps.candidate", {"uri": uri, "node": pick["id"]})
    assert FAST_CODE.rstrip("\n") in shown["text"] and CRITIQUE in shown["text"]
    assert "## Execution report" in shown["text"] and "the final pick" in shown["text"]
    original = await execute(client, "orps.candidate", {"uri": uri, "node": "original"})
    assert "def sum_primes_below" in original["text"]
    assert await execute(client, "orps.candidate", {"uri": uri, "node": "r9.k9.s9"}) is None
    assert any("no candidate 'r9.k9.s9'" in m.message for m in client.messages), client.messages
