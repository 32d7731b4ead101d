"""The inline review's hunks: found against the whole file (code the pick adds above the function
too), placed where they are after earlier hunks were accepted, composed into the file the review
expects, and any other edit making the review stale. Pure: no sandbox, no model."""

from __future__ import annotations

from pathlib import Path

import pytest

from orps_engine.file_run import Refinement
from orps_engine.hunks import Decision, HunkReview, compose, hunks_between
from orps_engine.model import Usage
from orps_engine.problem import FunctionTarget, Problem, ProblemKind
from orps_engine.problem.target import target_code, target_source
from orps_engine.search.tree import ORIGINAL, Node, RefineResult

SOURCE = '''import math


def total(values):
    result = 0
    for v in values:
        result += v
    return result


def other():
    return 1
'''
PICK = '''def total(values):
    """Sum them."""
    return sum(values)
'''


def refinement(source: str = SOURCE, code: str = PICK) -> Refinement:
    problem = Problem(path=Path("/nonexistent/m.py"), source=source, kind=ProblemKind.MODULE, tests=[],
                      target=FunctionTarget("total"))
    original = Node(id=ORIGINAL, parent=None, round=-1, code=target_code(problem))
    best = Node(id="r0.k0.s0", parent=ORIGINAL, round=0, code=code)
    result = RefineResult(problem=problem, original=original, best=best, nodes=[original, best], usage=Usage(),
                          rounds_run=1)
    return Refinement(result=result, started_source=target_source(source, problem.target))


def apply(text: str, review: HunkReview, index: int) -> str:
    """Make the editor's edit for accepting hunk ``index`` on ``text``, as the server sends it."""
    [edit] = review.decide({index}, Decision.ACCEPTED)
    lines = text.splitlines(keepends=True)
    return "".join(lines[: edit.first - 1]) + edit.text + "".join(lines[edit.last:])


def test_hunks_compose_back_into_both_texts() -> None:
    after = refinement().applied_to(SOURCE)
    hunks = hunks_between(SOURCE, after)
    assert hunks and all(h.removed or h.added for h in hunks)
    assert compose(SOURCE, hunks, set()) == SOURCE
    assert compose(SOURCE, hunks, {h.index for h in hunks}) == after


def test_accepting_one_hunk_at_a_time_reaches_the_pick_and_ends_the_review() -> None:
    review = HunkReview.begin(refinement(), SOURCE)
    text = SOURCE
    while review.pending:
        text = apply(text, review, review.pending[-1].index)  # the last first: the others do not move
        assert review.stale_reason(text) is None
    assert review.finished and text == refinement().applied_to(SOURCE)


def test_a_hunk_below_an_accepted_one_is_placed_where_it_is_now() -> None:
    code = 'HELPER = 2\n\n\ndef total(values):\n    """Sum them."""\n    return sum(values) * HELPER // 2\n'
    pick = refinement(code=code)
    review = HunkReview.begin(pick, SOURCE)
    assert len(review.hunks) >= 2, review.hunks
    text = apply(SOURCE, review, review.pending[0].index)  # the first: the ones after it move
    assert review.stale_reason(text) is None
    for place in review.placed():  # the hunk's lines are there, where it says
        lines = text.splitlines(keepends=True)
        assert tuple(lines[place.first:place.first + len(place.hunk.removed)]) == place.hunk.removed
    while review.pending:
        text = apply(text, review, review.pending[0].index)
    assert text == pick.applied_to(SOURCE)


def test_rejected_hunks_stay_as_they_were() -> None:
    review = HunkReview.begin(refinement(), SOURCE)
    assert review.decide({h.index for h in review.pending}, Decision.REJECTED) == []
    assert review.finished and review.expected_text() == SOURCE and review.accepted == ()


def test_an_edit_of_another_line_makes_the_review_stale_and_an_undo_takes_a_decision_back() -> None:
    review = HunkReview.begin(refinement(), SOURCE)
    assert review.stale_reason(SOURCE.replace("return 1", "return 2")) is not None
    index = review.pending[0].index
    review.decide({index}, Decision.ACCEPTED)
    assert review.stale_reason(SOURCE) is not None  # the editor has not made the edit
    review.undo({index})
    assert review.stale_reason(SOURCE) is None and index in {h.index for h in review.pending}


def test_only_pending_hunks_can_be_decided() -> None:
    review = HunkReview.begin(refinement(), SOURCE)
    index = review.pending[0].index
    review.decide({index}, Decision.REJECTED)
    with pytest.raises(KeyError):
        review.decide({index}, Decision.ACCEPTED)


def test_a_hunk_reads_as_a_diff() -> None:
    review = HunkReview.begin(refinement(), SOURCE)
    text = "\n".join(h.diff_text() for h in review.hunks)
    assert "+    return sum(values)" in text and "-    for v in values:" in text
