"""What the editor's two views list, as typed rows with their texts: the search tree of the latest
refine (a row per candidate, and a document of its code, report and critique) and the refine
history of a file (a row per decided refinement, and a document of its figures, critique and code
against the current one); their JSON for the editor; the hover's history line.

Texts only: the editor shows them as given (no logic in the client). The model's and the runs'
texts are escaped (``printable``) wherever they reach the editor.
"""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from .. import units
from ..history import Figures, HistoryEntry, Outcome
from ..problem.target import function_name
from ..search import ORIGINAL, Node, RefineResult
from ..text import one_line, printable

LABEL_CHARS = 120


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeRow:
    """One candidate of the search tree, as a tree view lists it (``parent`` None: a root)."""

    id: str
    parent: str | None
    round: int
    label: str
    description: str
    tooltip: str
    passed: int | None
    total: int | None
    critic_score: int | None
    exec_score: float
    cost: str
    failure: str | None
    pick: bool  # the refine's final pick


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryRow:
    """One decided refinement, as a tree view lists it under its function."""

    id: str
    function: str | None
    group: str  # the function's name, or "the program"
    label: str
    description: str
    tooltip: str
    outcome: Outcome
    when: str


# -- the search tree ----------------------------------------------------------------------------------
def search_rows(result: RefineResult) -> list[NodeRow]:
    """Every node of the refine, parents before their children (the search's own order)."""
    return [_node_row(node, pick=node.id == result.best.id) for node in result.nodes]


def _node_row(node: Node, *, pick: bool) -> NodeRow:
    suite = node.suite
    parts = ["original" if node.id == ORIGINAL else f"round {node.round}", verdict_counts(node)]
    if node.critic_score is not None:
        parts.append(f"critic {node.critic_score}/5")
    parts.append(cost_text(node))
    tooltip = [f"{node.id}: {', '.join(parts)}", f"execution score {node.exec_score:.3f}"]
    if node.strategy:
        tooltip.append(f"strategy: {one_line(node.strategy, LABEL_CHARS)}")
    if node.failure is not None:
        tooltip.append(one_line(str(node.failure), LABEL_CHARS))
    return NodeRow(id=node.id, parent=node.parent, round=node.round, label=("★ " if pick else "") + node.id,
                   description=" · ".join(parts), tooltip="\n".join(tooltip),
                   passed=suite.passed if suite else None, total=suite.total if suite else None,
                   critic_score=node.critic_score, exec_score=round(node.exec_score, 4), cost=cost_text(node),
                   failure=one_line(str(node.failure), LABEL_CHARS) if node.failure is not None else None, pick=pick)


def verdict_counts(node: Node) -> str:
    """``4 AC, 1 TLE`` (accepted first), or why the candidate did not run."""
    if node.suite is None:
        return "not run" if node.failure is None else _failure_word(node)
    counts = Counter(r.verdict.value for r in node.suite.results)
    ordered = sorted(counts.items(), key=lambda kv: (kv[0] != "AC", kv[0]))
    return ", ".join(f"{n} {verdict}" for verdict, n in ordered) or "no tests"


def _failure_word(node: Node) -> str:
    assert node.failure is not None
    return str(node.failure).split(":", 1)[0]


def cost_text(node: Node) -> str:
    """What the search ranked it by: instructions where counted, else CPU time (see ``Node.cost``)."""
    suite = node.suite
    if suite is None:
        return "no cost"
    if suite.total_instructions is not None:
        return f"{units.count(suite.total_instructions)} instructions"
    return f"{units.ms(suite.total_cpu_ms)} CPU"


def candidate_text(result: RefineResult, node: Node) -> str:
    """A candidate as a read-only Markdown document: where it sits in the search, its code, the
    execution report the critic read, and the critique."""
    row = _node_row(node, pick=node.id == result.best.id)
    title = function_name(result.problem.target) or result.problem.path.name
    origin = f", from {node.parent}" if node.parent else ""
    parts = [f"# ORPS candidate {node.id} ({title}{origin})",
             row.description + (" · the final pick" if row.pick else "")]
    if node.failure is not None:
        parts.append(f"**{node.failure}**")
    if node.strategy:
        parts.append(f"Strategy: {node.strategy}")
    parts.append("## Code\n\n```python\n" + (node.code or "(no code)").rstrip("\n") + "\n```")
    parts.append("## Execution report\n\n" + (node.report.strip() or "(no report: the candidate was not reviewed)"))
    parts.append("## Critique\n\n" + (node.critique.strip() or "(no critique)"))
    return printable("\n\n".join(parts)) + "\n"


# -- the history --------------------------------------------------------------------------------------
def entry_rows(entries: list[HistoryEntry]) -> list[EntryRow]:
    """The entries, newest first."""
    return [_entry_row(e) for e in reversed(entries)]


def _entry_row(entry: HistoryEntry) -> EntryRow:
    when = entry.when.astimezone().strftime("%Y-%m-%d %H:%M")
    summary = entry.summary.removeprefix("ORPS refinement: ")
    return EntryRow(id=entry.id, function=entry.function, group=entry.function or "the program",
                    label=f"{entry.outcome.value}: {one_line(summary, LABEL_CHARS)}", description=when,
                    tooltip=f"{entry.reason}, {when}\n{one_line(entry.critique, 2 * LABEL_CHARS) or '(no critique)'}",
                    outcome=entry.outcome, when=entry.when.isoformat())


def history_line(entries: list[HistoryEntry]) -> str | None:
    """``ORPS history: 3 refinements (1 accepted); last: ...``, for a hover (None: no history)."""
    if not entries:
        return None
    accepted = sum(1 for e in entries if e.outcome is Outcome.ACCEPTED)
    last = entries[-1]
    noun = "refinement" if len(entries) == 1 else "refinements"
    return printable(f"**ORPS history**: {len(entries)} {noun} ({accepted} accepted); last, "
                     f"{last.outcome.value} ({last.reason}): {last.summary.removeprefix('ORPS refinement: ')}")


def entry_text(entry: HistoryEntry, current: str | None) -> str:
    """An entry as a read-only Markdown document: its figures, its critique, and its code against the
    function's current code (``current`` None: the function is no longer in the file)."""
    title = entry.function or "the program"
    when = entry.when.astimezone().strftime("%Y-%m-%d %H:%M")
    parts = [f"# ORPS history: {title}", f"{entry.outcome.value.capitalize()} ({entry.reason}), {when}",
             entry.summary, figures_table(entry.figures),
             "## Critique\n\n" + (entry.critique.strip() or "(the critic gave no review)")]
    if current is None:
        parts.append(f"## Code\n\n{title} is no longer in the file; the entry's code:\n\n```python\n"
                     + entry.code.rstrip("\n") + "\n```")
    elif current == entry.code:
        parts.append("## Code\n\nThe function's current code is this entry's.\n\n```python\n"
                     + entry.code.rstrip("\n") + "\n```")
    else:
        diff = difflib.unified_diff(current.splitlines(keepends=True), entry.code.splitlines(keepends=True),
                                    "current", f"entry {entry.id}")
        parts.append("## Code: the current function against this entry's\n\n```diff\n"
                     + "".join(line if line.endswith("\n") else line + "\n" for line in diff) + "```")
    return printable("\n\n".join(parts)) + "\n"


def figures_table(figures: Figures) -> str:
    rows = ["| | before | after |", "|---|---|---|",
            f"| tests passed | {figures.passed_before}/{figures.total} | {figures.passed_after}/{figures.total} |",
            f"| CPU time | {units.ms(figures.cpu_ms_before)} | {units.ms(figures.cpu_ms_after)}"
            + (" |" if figures.cpu_significant else " (within noise) |"),
            f"| peak memory | {units.kb(figures.peak_kb_before)} | {units.kb(figures.peak_kb_after)} |",
            f"| bytecodes | {units.count(figures.bytecodes_before)} | {units.count(figures.bytecodes_after)} |"]
    return "\n".join(rows)


# -- JSON for the editor ------------------------------------------------------------------------------
def row_document(row: NodeRow | EntryRow) -> dict[str, Any]:
    document = asdict(row)
    if isinstance(row, EntryRow):
        document["outcome"] = row.outcome.value
    return document
