"""A refinement reviewed hunk by hunk: which lines of the file it changes, and the file after the
hunks the user accepted so far.

The review is anchored to the whole file as it was when it began: the hunks are the differences
between that text and the text with the whole refinement applied, so code the refinement adds
elsewhere (a helper above the decorators) is a hunk like any other. A hunk's edit is computed
against the file as the review expects it now (the start, plus the hunks accepted so far); any other
change to the file ends the review rather than letting a hunk land on lines it was not made for.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from enum import Enum

from .file_run import Refinement, TargetEdit
from .problem import pysource


@dataclass(frozen=True, slots=True, kw_only=True)
class Hunk:
    """Lines ``start``..``start + len(removed) - 1`` (0-based) of the review's starting text, replaced
    by ``added`` (no removed lines: ``added`` goes before line ``start``)."""

    index: int
    start: int
    removed: tuple[str, ...]
    added: tuple[str, ...]

    def diff_text(self) -> str:
        """The hunk as unified-diff lines (``-`` removed, ``+`` added), without line endings."""
        return "\n".join([*(f"-{_bare(x)}" for x in self.removed), *(f"+{_bare(x)}" for x in self.added)])


class Decision(str, Enum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlacedHunk:
    """A pending hunk where it is in the file now: lines ``first``..``first + len(removed) - 1``
    (0-based; for a pure insertion, the line it goes before)."""

    hunk: Hunk
    first: int

    def edit(self) -> TargetEdit:
        """Accepting it: its lines replaced (1-based, as ``TargetEdit`` says; ``last < first`` inserts
        before ``first``)."""
        first = self.first + 1
        return TargetEdit(first=first, last=first + len(self.hunk.removed) - 1, text="".join(self.hunk.added))


@dataclass(slots=True)
class HunkReview:
    """One refinement under review, and what the user decided for each hunk so far."""

    refinement: Refinement
    start_text: str
    hunks: tuple[Hunk, ...]
    decisions: dict[int, Decision] = field(default_factory=dict)

    @classmethod
    def begin(cls, refinement: Refinement, text: str) -> HunkReview:
        """The review of ``refinement`` on the file ``text`` (check ``refinement.stale_reason`` first)."""
        return cls(refinement=refinement, start_text=text, hunks=hunks_between(text, refinement.applied_to(text)))

    @property
    def pending(self) -> tuple[Hunk, ...]:
        return tuple(h for h in self.hunks if h.index not in self.decisions)

    @property
    def finished(self) -> bool:
        return not self.pending

    @property
    def accepted(self) -> tuple[Hunk, ...]:
        return tuple(h for h in self.hunks if self.decisions.get(h.index) is Decision.ACCEPTED)

    def expected_text(self) -> str:
        """The file as it should be now: the start with the accepted hunks applied."""
        return compose(self.start_text, self.hunks, {h.index for h in self.accepted})

    def stale_reason(self, text: str) -> str | None:
        expected = self.expected_text()
        # an editor's edit of a last line without a line break keeps it without one
        if text != expected and text.rstrip("\r\n") != expected.rstrip("\r\n"):
            return "the file changed during the review; review the refinement again"
        return None

    def placed(self) -> tuple[PlacedHunk, ...]:
        """The pending hunks at their lines in the expected text (accepted hunks above shift them)."""
        placed = []
        for hunk in self.pending:
            shift = sum(len(h.added) - len(h.removed) for h in self.accepted if h.start < hunk.start)
            placed.append(PlacedHunk(hunk=hunk, first=hunk.start + shift))
        return tuple(placed)

    def decide(self, indices: set[int], decision: Decision) -> list[TargetEdit]:
        """Record the user's choice for pending hunks; the edits accepting them makes, each on the lines
        of the expected text before any of them (as one editor edit applies them), none for a rejection."""
        placed = [p for p in self.placed() if p.hunk.index in indices]
        if len(placed) != len(indices):
            raise KeyError(sorted(indices - {p.hunk.index for p in placed}))
        for place in placed:
            self.decisions[place.hunk.index] = decision
        return [p.edit() for p in placed] if decision is Decision.ACCEPTED else []

    def undo(self, indices: set[int]) -> None:
        """Take decisions back (the editor refused the edit that made them)."""
        for index in indices:
            self.decisions.pop(index, None)


def hunks_between(before: str, after: str) -> tuple[Hunk, ...]:
    old, new = pysource.lines(before), pysource.lines(after)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    found: list[Hunk] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            found.append(Hunk(index=len(found), start=i1, removed=tuple(old[i1:i2]), added=tuple(new[j1:j2])))
    return tuple(found)


def compose(before: str, hunks: tuple[Hunk, ...], chosen: set[int]) -> str:
    """``before`` with the ``chosen`` hunks applied (the others left as they were)."""
    lines = pysource.lines(before)
    out: list[str] = []
    at = 0
    for hunk in hunks:
        if hunk.index not in chosen:
            continue
        out.extend(lines[at:hunk.start])
        out.extend(hunk.added)
        at = hunk.start + len(hunk.removed)
    out.extend(lines[at:])
    return "".join(out)


def _bare(line: str) -> str:
    return line.rstrip("\r\n")
