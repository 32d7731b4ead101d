"""The search view: the tree of candidates of a file's latest refine, and each candidate's document.

Commands: ``orps.searchTree`` {uri} lists the latest refine's nodes (parents before children, each
with its parent, verdict counts, critic score and cost) as rows for a tree view, or None before any
refine; ``orps.candidate`` {uri, node} is one node's code, execution report and critique as a
read-only document. The latest search outlives rejecting its refinement and closing the editor
(``OrpsServer.searches``).
"""

from __future__ import annotations

from typing import Any

from orps_engine import InputError, candidate_text, function_name, refine_line, row_document, search_rows

from .commands import DocumentArgs, NodeArgs
from .server import OrpsServer, guarded


def register(ls: OrpsServer) -> None:
    ls.command("orps.searchTree")(search_tree)
    ls.command("orps.candidate")(candidate)


@guarded("listing the search tree")
async def search_tree(ls: OrpsServer, args: DocumentArgs) -> dict[str, Any] | None:
    result = ls.searches.get(args.uri)
    if result is None:
        return None
    return {"uri": args.uri, "function": function_name(result.problem.target) or "the program",
            "summary": refine_line(result), "nodes": [row_document(r) for r in search_rows(result)]}


@guarded("showing the candidate")
async def candidate(ls: OrpsServer, args: NodeArgs) -> dict[str, Any]:
    result = ls.searches.get(args.uri)
    if result is None:
        raise InputError("no refine of this file to show a candidate of: refine it first")
    node = next((n for n in result.nodes if n.id == args.node), None)
    if node is None:
        raise InputError(f"no candidate {args.node!r} in the latest refine of this file")
    return {"uri": args.uri, "node": node.id, "text": candidate_text(result, node)}
