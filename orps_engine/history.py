"""A refine history per function: every refinement the user accepted or rejected, with its figures,
its critique, the code it proposed and the code it replaced; and the store that keeps it.

The store persists as one JSON file in a folder the editor gives (its per-workspace storage), so
the history outlives the session; without a folder it is kept in memory and says it is not saved.
It is bounded (the oldest entries go first), and a file it cannot read starts an empty history
with a logged warning, the unreadable file moved aside: a history is never worth a crash. The file
is the store's own state, not a document for people, so its JSON lives here and not in ``report/``.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any

from .errors import InputError
from .file_run import Refinement, TargetEdit
from .problem import FunctionTarget, Target, WholeFile
from .problem.target import replacement, shown_code
from .report.refine import refine_line
from .search import RefineResult

log = logging.getLogger(__name__)

FILE_NAME = "orps-history.json"
FORMAT_VERSION = 1
MAX_ENTRIES = 500  # over every file and function: enough for a long project, small enough to load at once


class Outcome(str, Enum):
    """What became of a refinement."""

    ACCEPTED = "accepted"  # its code went into the file (by whichever edit)
    REJECTED = "rejected"  # the user rejected it, or a new refine replaced it unapplied


@dataclass(frozen=True, slots=True, kw_only=True)
class Figures:
    """The refinement against the code it replaced: tests passed, and the measured medians (the final
    measurement's where there was one, else the search's runs). None: not measured or not available."""

    passed_before: int
    passed_after: int
    total: int
    cpu_ms_before: float | None
    cpu_ms_after: float | None
    peak_kb_before: int | None
    peak_kb_after: int | None
    bytecodes_before: int | None
    bytecodes_after: int | None
    cpu_significant: bool  # the CPU change passed the rank test (see ``measure``)

    @classmethod
    def of(cls, result: RefineResult) -> Figures:
        original, best = result.original.suite, result.best.suite
        if original is None or best is None:
            raise InputError("a refine without a run of the original and of its pick has no figures")
        delta = result.delta
        counted = delta.bytecodes if delta is not None else None
        return cls(
            passed_before=original.passed, passed_after=best.passed, total=best.total,
            cpu_ms_before=delta.cpu.before.median if delta else original.total_cpu_ms,
            cpu_ms_after=delta.cpu.after.median if delta else best.total_cpu_ms,
            peak_kb_before=int(delta.peak.before.median) if delta else original.max_peak_kb,
            peak_kb_after=int(delta.peak.after.median) if delta else best.max_peak_kb,
            bytecodes_before=counted.before if counted else original.total_bytecodes,
            bytecodes_after=counted.after if counted else best.total_bytecodes,
            cpu_significant=bool(delta and delta.cpu.significant))


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryEntry:
    """One decided refinement of one function (``function`` None: the whole program)."""

    id: str
    refinement_id: str  # the refinement it records: each is recorded once
    path: str  # the file, resolved
    function: str | None
    when: datetime  # UTC
    outcome: Outcome
    reason: str  # how it was decided: "applied", "rejected by the user", "superseded by a new refine"
    summary: str  # the refine's one line, as the editor's hint said it
    figures: Figures
    critique: str
    code: str  # what the refine proposed (the target's code at column 0)
    replaced: str  # the target's code when the refine began (likewise)

    @classmethod
    def of(cls, refinement: Refinement, outcome: Outcome, reason: str, *, when: datetime | None = None) -> HistoryEntry:
        result = refinement.result
        target = result.problem.target
        return cls(id=uuid.uuid4().hex[:12], refinement_id=refinement.id, path=str(result.problem.path.resolve()),
                   function=target.qualname if isinstance(target, FunctionTarget) else None,
                   when=when or datetime.now(timezone.utc), outcome=outcome, reason=reason,
                   summary=refine_line(result), figures=Figures.of(result), critique=result.best.critique,
                   code=refinement.code, replaced=result.original.code or "")

    @property
    def target(self) -> Target:
        return FunctionTarget(self.function) if self.function is not None else WholeFile()

    def current_code(self, text: str) -> str:
        """The target's code in ``text`` now, as the entry's code is written (column 0); raises
        InputError when the function is no longer in the file."""
        return shown_code(text, self.target)

    def edit(self, text: str) -> TargetEdit:
        """Put this entry's code in place of the target's current lines in ``text``; raises InputError
        (saying why) when the function is no longer in the file, or the file does not parse."""
        try:
            placed = replacement(text, self.target, self.code)
        except InputError as exc:
            raise InputError(f"not re-applied: {exc.message}",
                             hint="restore the function, or copy the entry's code by hand") from exc
        return TargetEdit(first=placed.first, last=placed.last, text=placed.text)


class HistoryStore:
    """Every decided refinement, newest last; saved to ``folder`` after each record when there is one."""

    def __init__(self, folder: Path | None, *, limit: int = MAX_ENTRIES) -> None:
        self.folder = folder
        self.limit = limit
        self.problem: str | None = None  # why the history is not being saved, if it is not
        self._entries: list[HistoryEntry] = []
        if folder is None:
            self.problem = "no storage folder was given: the history is kept for this session only"
        else:
            self._entries = self._load(folder / FILE_NAME)[-limit:]

    @property
    def saved(self) -> bool:
        return self.problem is None

    @property
    def path(self) -> Path | None:
        return self.folder / FILE_NAME if self.folder is not None else None

    def record(self, entry: HistoryEntry) -> bool:
        """Keep ``entry`` unless its refinement was recorded already (True: it was kept)."""
        if self.decided(entry.refinement_id):
            return False
        self._entries.append(entry)
        del self._entries[:-self.limit]
        self._save()
        return True

    def decided(self, refinement_id: str) -> bool:
        return any(e.refinement_id == refinement_id for e in self._entries)

    def entries(self, path: Path, function: str | None = None) -> list[HistoryEntry]:
        """The file's entries, oldest first; only ``function``'s when it is given."""
        where = str(path.resolve())
        return [e for e in self._entries if e.path == where and (function is None or e.function == function)]

    def get(self, entry_id: str) -> HistoryEntry | None:
        return next((e for e in self._entries if e.id == entry_id), None)

    # -- the file ------------------------------------------------------------------------------
    def _load(self, path: Path) -> list[HistoryEntry]:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as exc:
            self.problem = f"the history file {path} cannot be read ({exc}): the history is not saved"
            log.warning("%s", self.problem)
            return []
        try:
            return _entries_from(json.loads(text))
        except (ValueError, TypeError, KeyError) as exc:
            aside = path.with_name(path.name + ".corrupt")
            log.warning("the history file %s is unreadable (%s): starting an empty history; the file is kept as %s",
                        path, exc, aside)
            try:
                os.replace(path, aside)
            except OSError as move:
                self.problem = f"the unreadable history file {path} cannot be moved aside ({move}): not saved"
                log.warning("%s", self.problem)
            return []

    def _save(self) -> None:
        """Atomically: a temporary file in the same folder, then a rename."""
        path = self.path
        if path is None or self.problem is not None:
            return
        document = {"version": FORMAT_VERSION, "entries": [_entry_document(e) for e in self._entries]}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{FILE_NAME}.", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(document, out, indent=1)
            os.replace(temporary, path)
        except OSError as exc:
            self.problem = f"the history cannot be saved to {path} ({exc}): it is kept for this session only"
            log.warning("%s", self.problem)


def _entry_document(entry: HistoryEntry) -> dict[str, Any]:
    f = entry.figures
    return {"id": entry.id, "refinement": entry.refinement_id, "path": entry.path, "function": entry.function,
            "when": entry.when.isoformat(), "outcome": entry.outcome.value, "reason": entry.reason,
            "summary": entry.summary, "critique": entry.critique, "code": entry.code, "replaced": entry.replaced,
            "figures": {"passed_before": f.passed_before, "passed_after": f.passed_after, "total": f.total,
                        "cpu_ms_before": f.cpu_ms_before, "cpu_ms_after": f.cpu_ms_after,
                        "peak_kb_before": f.peak_kb_before, "peak_kb_after": f.peak_kb_after,
                        "bytecodes_before": f.bytecodes_before, "bytecodes_after": f.bytecodes_after,
                        "cpu_significant": f.cpu_significant}}


def _entries_from(document: Any) -> list[HistoryEntry]:
    """The entries of a history file; raises ValueError, TypeError or KeyError on anything malformed."""
    if not isinstance(document, dict) or document.get("version") != FORMAT_VERSION:
        raise ValueError(f"not a version {FORMAT_VERSION} history document")
    entries = document["entries"]
    if not isinstance(entries, list):
        raise TypeError("entries is not a list")
    return [_entry_from(item) for item in entries]


def _entry_from(item: dict[str, Any]) -> HistoryEntry:
    f = item["figures"]
    when = datetime.fromisoformat(_text(item["when"]))
    return HistoryEntry(
        id=_text(item["id"]), refinement_id=_text(item["refinement"]), path=_text(item["path"]),
        function=_optional_text(item["function"]), when=when, outcome=Outcome(item["outcome"]),
        reason=_text(item["reason"]), summary=_text(item["summary"]), critique=_text(item["critique"]),
        code=_text(item["code"]), replaced=_text(item["replaced"]),
        figures=Figures(passed_before=_int(f["passed_before"]), passed_after=_int(f["passed_after"]),
                        total=_int(f["total"]), cpu_ms_before=_number(f["cpu_ms_before"]),
                        cpu_ms_after=_number(f["cpu_ms_after"]), peak_kb_before=_optional_int(f["peak_kb_before"]),
                        peak_kb_after=_optional_int(f["peak_kb_after"]),
                        bytecodes_before=_optional_int(f["bytecodes_before"]),
                        bytecodes_after=_optional_int(f["bytecodes_after"]),
                        cpu_significant=bool(f["cpu_significant"])))


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


def _optional_int(value: Any) -> int | None:
    return None if value is None else _int(value)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return float(value)
