"""The refine history: entries built from a refinement, the store persisting and reloading them,
its bound, an unreadable file, re-applying an entry, and the texts the editor's views show. Pure
but for the store's folder: no sandbox, no model."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path

import pytest

from orps_engine import InputError
from orps_engine.file_run import Refinement
from orps_engine.history import FILE_NAME, HistoryEntry, HistoryStore, Outcome
from orps_engine.model import Usage
from orps_engine.problem import FunctionTarget, Problem, ProblemKind
from orps_engine.problem.target import target_code, target_source
from orps_engine.report.views import entry_rows, entry_text, history_line, search_rows
from orps_engine.results import ExecutionResult, SuiteResult, Verdict
from orps_engine.search.tree import ORIGINAL, Failure, FailureKind, Node, RefineResult

SOURCE = '''def total(values):
    result = 0
    for v in values:
        result += v
    return result


class Box:
    def size(self):
        return 1
'''
PICK = "def total(values):\n    return sum(values)\n"


def suite(cpu_ms: float, *verdicts: Verdict) -> SuiteResult:
    return SuiteResult(results=tuple(
        ExecutionResult(test_id=str(i), verdict=v, wall_ms=cpu_ms, cpu_ms=cpu_ms, peak_kb=2048, instructions=None,
                        bytecodes=100 * (i + 1)) for i, v in enumerate(verdicts)))


def refinement(path: Path, source: str = SOURCE, code: str = PICK, function: str = "total") -> Refinement:
    problem = Problem(path=path, source=source, kind=ProblemKind.MODULE, tests=[], target=FunctionTarget(function))
    original = Node(id=ORIGINAL, parent=None, round=-1, code=target_code(problem),
                    suite=suite(40.0, Verdict.AC, Verdict.WA))
    best = Node(id="r0.k0.s0", parent=ORIGINAL, round=0, code=code, suite=suite(10.0, Verdict.AC, Verdict.AC),
                critic_score=5, critique="sum() is a single C loop.", report="Pass rate: 2/2")
    broken = Node(id="r0.k0.s1", parent=ORIGINAL, round=0, failure=Failure(FailureKind.NO_CODE, "no code block"))
    result = RefineResult(problem=problem, original=original, best=best, nodes=[original, best, broken],
                          usage=Usage(), rounds_run=1)
    return Refinement(result=result, started_source=target_source(source, problem.target))


def entry(path: Path, outcome: Outcome = Outcome.ACCEPTED, **kwargs: object) -> HistoryEntry:
    return HistoryEntry.of(refinement(path, **kwargs), outcome, "applied")  # type: ignore[arg-type]


def test_entry_of_a_refinement_keeps_its_figures_critique_and_both_codes(tmp_path: Path) -> None:
    made = entry(tmp_path / "m.py")
    assert (made.function, made.outcome, made.path) == ("total", Outcome.ACCEPTED, str((tmp_path / "m.py").resolve()))
    f = made.figures
    assert (f.passed_before, f.passed_after, f.total) == (1, 2, 2)
    assert (f.cpu_ms_before, f.cpu_ms_after, f.bytecodes_before, f.bytecodes_after) == (80.0, 20.0, 300, 300)
    assert f.cpu_significant is False  # no final measurement: nothing was tested for significance
    assert made.critique == "sum() is a single C loop." and made.code == PICK
    assert made.replaced == target_code(refinement(tmp_path / "m.py").result.problem)
    assert made.summary.startswith("ORPS refinement: 2/2 passed")


def test_store_persists_and_reloads_every_field(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "storage")
    first, second = entry(tmp_path / "m.py"), entry(tmp_path / "m.py", Outcome.REJECTED)
    assert store.record(first) and store.record(second) and store.saved
    again = HistoryStore(tmp_path / "storage")
    assert again.entries(tmp_path / "m.py") == [first, second]
    assert again.get(second.id) == second and again.entries(tmp_path / "other.py") == []
    assert json.loads((tmp_path / "storage" / FILE_NAME).read_text())["version"] == 1


def test_store_records_each_refinement_once(tmp_path: Path) -> None:
    store = HistoryStore(None)
    kept = refinement(tmp_path / "m.py")
    assert store.record(HistoryEntry.of(kept, Outcome.ACCEPTED, "applied"))
    assert not store.record(HistoryEntry.of(kept, Outcome.REJECTED, "superseded by a new refine"))
    assert [e.outcome for e in store.entries(tmp_path / "m.py")] == [Outcome.ACCEPTED]


def test_store_without_a_folder_keeps_entries_in_memory_and_says_so(tmp_path: Path) -> None:
    store = HistoryStore(None)
    store.record(entry(tmp_path / "m.py"))
    assert not store.saved and store.problem and "this session only" in store.problem
    assert len(store.entries(tmp_path / "m.py")) == 1
    assert not list(tmp_path.rglob(FILE_NAME))


def test_store_is_bounded_and_drops_the_oldest(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path, limit=3)
    made = [entry(tmp_path / "m.py") for _ in range(5)]
    for e in made:
        store.record(e)
    assert store.entries(tmp_path / "m.py") == made[2:]
    assert HistoryStore(tmp_path, limit=3).entries(tmp_path / "m.py") == made[2:]


@pytest.mark.parametrize("text", ["{not json", "[]", '{"version": 1, "entries": [{"id": 3}]}',
                                  '{"version": 99, "entries": []}'],
                         ids=["not-json", "not-an-object", "malformed-entry", "unknown-version"])
def test_store_with_an_unreadable_file_starts_empty_with_a_warning(tmp_path: Path, text: str,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / FILE_NAME).write_text(text)
    with caplog.at_level(logging.WARNING, logger="orps_engine.history"):
        store = HistoryStore(tmp_path)
    assert store.entries(tmp_path / "m.py") == [] and store.saved
    assert "unreadable" in caplog.text and "starting an empty history" in caplog.text
    assert (tmp_path / (FILE_NAME + ".corrupt")).read_text() == text  # kept aside, not overwritten
    store.record(entry(tmp_path / "m.py"))
    assert len(HistoryStore(tmp_path).entries(tmp_path / "m.py")) == 1


def test_store_that_cannot_write_keeps_the_session_and_says_why(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "storage")
    (tmp_path / "storage").write_text("")  # a file where the folder was to be: it can never be made
    assert store.record(entry(tmp_path / "m.py"))
    assert not store.saved and store.problem and "cannot be saved" in store.problem
    assert len(store.entries(tmp_path / "m.py")) == 1


def test_entry_edit_puts_its_code_back_and_refuses_a_function_that_is_gone(tmp_path: Path) -> None:
    made = entry(tmp_path / "m.py")
    edit = made.edit(SOURCE)
    lines = SOURCE.splitlines(keepends=True)
    assert "".join(lines[: edit.first - 1]) + edit.text + "".join(lines[edit.last:]) == SOURCE.replace(
        "    result = 0\n    for v in values:\n        result += v\n    return result\n", "    return sum(values)\n")
    assert made.current_code(SOURCE) == made.replaced
    with pytest.raises(InputError, match="not re-applied: 'total' is not a top-level function"):
        made.edit("def other():\n    return 0\n")


def test_method_entry_is_reapplied_at_the_method_indentation(tmp_path: Path) -> None:
    made = entry(tmp_path / "m.py", code="def size(self):\n    return 2\n", function="Box.size")
    edit = made.edit(SOURCE)
    assert edit.text == "    def size(self):\n        return 2\n"


def test_views_texts_list_rows_newest_first_and_a_hover_line(tmp_path: Path) -> None:
    older = entry(tmp_path / "m.py", Outcome.REJECTED)
    newer = HistoryEntry.of(refinement(tmp_path / "m.py"), Outcome.ACCEPTED, "applied",
                            when=datetime(2030, 1, 2, 3, 4, tzinfo=timezone.utc))
    rows = entry_rows([older, newer])
    assert [r.id for r in rows] == [newer.id, older.id]
    assert rows[0].label.startswith("accepted: 2/2 passed") and rows[0].group == "total"
    assert history_line([older, newer]) == ("**ORPS history**: 2 refinements (1 accepted); last, accepted (applied): "
                                            + newer.summary.removeprefix("ORPS refinement: "))
    assert history_line([]) is None
    text = entry_text(newer, newer.replaced)
    assert "| tests passed | 1/2 | 2/2 |" in text and "sum() is a single C loop." in text
    assert "```diff" in text and "+    return sum(values)" in text and "-    result = 0" in text
    assert "is no longer in the file" in entry_text(newer, None)


def test_search_rows_carry_parents_verdicts_scores_and_costs(tmp_path: Path) -> None:
    result = refinement(tmp_path / "m.py").result
    rows = search_rows(result)
    assert [(r.id, r.parent, r.pick) for r in rows] == [(ORIGINAL, None, False), ("r0.k0.s0", ORIGINAL, True),
                                                          ("r0.k0.s1", ORIGINAL, False)]
    original, best, broken = rows
    assert original.description == "original · 1 AC, 1 WA · 80 ms CPU"
    assert best.description == "round 0 · 2 AC · critic 5/5 · 20 ms CPU" and best.label == "★ r0.k0.s0"
    assert (broken.passed, broken.failure, broken.cost) == (None, "parse failure: no code block", "no cost")
    assert broken.description == "round 0 · parse failure · no cost"
