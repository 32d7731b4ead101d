"""What ``orps listen`` and the editor's listener say about each problem that arrives; no I/O."""

from __future__ import annotations

from ..companion import ImportedProblem, SidecarWrite
from ..listen import BatchProgress, ListenEvent, ListenEventKind
from ..text import one_line


def listen_event_lines(event: ListenEvent) -> list[str]:
    """The event in a few lines: the first what was written, then notes (the contest's progress,
    why orps cannot judge the problem yet)."""
    if event.kind is ListenEventKind.REJECTED or event.problem is None:
        return [f"refused a POST: {one_line(event.reason or 'no reason given', 300)}"]
    problem = event.problem
    lines = [f"{one_line(problem.name, 120)}: {_solution(problem)}; {_tests(problem)}"]
    if event.batch is not None:
        lines.append(_batch(event.batch))
    if problem.unsupported:
        lines.append(f"note: {problem.unsupported}")
    return lines


def _solution(problem: ImportedProblem) -> str:
    name = problem.solution.name
    return f"created {name}" if problem.solution_created else f"kept the existing {name}"


def _tests(problem: ImportedProblem) -> str:
    count = f"{problem.test_count} test{'' if problem.test_count == 1 else 's'}"
    name = problem.tests.name
    if problem.sidecar is SidecarWrite.CREATED:
        return f"{count} in {name}"
    if problem.sidecar is SidecarWrite.UNCHANGED:
        return f"{name} holds these {count} already"
    if problem.sidecar is SidecarWrite.UPDATED:
        backup = problem.backup.name if problem.backup else "a backup"
        return f"{count} in {name} (it held other tests: those are in {backup})"
    return "no sample tests in the problem: no tests file written"


def _batch(batch: BatchProgress) -> str:
    if batch.complete:
        return f"contest complete: {batch.size} of {batch.size} problems received"
    return f"contest: {batch.received} of {batch.size} problems received"
