"""orps engine: problems and tests, sandboxed execution and measurement, the model client, the
ORPS search, and the texts people read of them.

No editor code here: the language server and the CLI are thin layers over this API, and the
server imports nothing else of the engine.
"""

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the names as the type checker sees them; at run time each is imported on first use
    from .companion import ImportedProblem, ProblemWriter, SidecarWrite
    from .config import DEFAULT_LISTEN_PORT, Settings, resolve_settings
    from .errors import HarnessError, InputError, MissingPackage, ModelUnreachable, NoTestsFound, OrpsError, PortBusy
    from .file_run import FileRun, Refinement, TargetEdit
    from .history import Figures, HistoryEntry, HistoryStore, Outcome
    from .hunks import Decision, Hunk, HunkReview, PlacedHunk
    from .judge import arun_tests, run_tests
    from .listen import BatchProgress, Listener, ListenEvent, ListenEventKind
    from .model import open_model
    from .model.client import OpenAIChatModel
    from .problem import (
        FunctionTarget,
        Overrides,
        Problem,
        ProblemKind,
        Target,
        TestCase,
        TestKind,
        WholeFile,
        with_overrides,
    )
    from .problem.limits import MEMORY_LIMIT_RULE, TIME_LIMIT_RULE, memory_limit_mb, time_limit_s
    from .problem.sidecar_edit import SidecarChange, add_test, delete_test, sidecar_path, update_test
    from .problem.target import def_line, function_name, function_target_at, target_line
    from .project import load_problem
    from .report.editor import (
        Note,
        NoteCode,
        Severity,
        efficiency_notes,
        failure_notes,
        file_error_note,
        hover_markdown,
        refinement_note,
        result_label,
        suite_line,
        tested_functions,
    )
    from .report.listen import listen_event_lines
    from .report.panel import PanelRow, adding_refusal, editing_refusal, panel_row_document, panel_rows
    from .report.refine import progress_text, refine_line
    from .report.views import (
        EntryRow,
        NodeRow,
        candidate_text,
        entry_rows,
        entry_text,
        history_line,
        row_document,
        search_rows,
    )
    from .results import ExecutionResult, RunError, SuiteResult, Verdict
    from .search import Event, EventKind, RefineResult

__version__ = "0.1.0"

# Each public name and the module it lives in: importing orps_engine imports none of them, so that a
# command (``orps test``) loads only what it uses, not the listener, the history or the search.
_LAZY = {
    "ImportedProblem": "companion",
    "ProblemWriter": "companion",
    "SidecarWrite": "companion",
    "DEFAULT_LISTEN_PORT": "config",
    "Settings": "config",
    "resolve_settings": "config",
    "HarnessError": "errors",
    "InputError": "errors",
    "MissingPackage": "errors",
    "ModelUnreachable": "errors",
    "NoTestsFound": "errors",
    "OrpsError": "errors",
    "PortBusy": "errors",
    "FileRun": "file_run",
    "Refinement": "file_run",
    "TargetEdit": "file_run",
    "Figures": "history",
    "HistoryEntry": "history",
    "HistoryStore": "history",
    "Outcome": "history",
    "Decision": "hunks",
    "Hunk": "hunks",
    "HunkReview": "hunks",
    "PlacedHunk": "hunks",
    "arun_tests": "judge",
    "run_tests": "judge",
    "BatchProgress": "listen",
    "ListenEvent": "listen",
    "ListenEventKind": "listen",
    "Listener": "listen",
    "open_model": "model",
    "OpenAIChatModel": "model.client",
    "FunctionTarget": "problem",
    "Overrides": "problem",
    "Problem": "problem",
    "ProblemKind": "problem",
    "Target": "problem",
    "TestCase": "problem",
    "TestKind": "problem",
    "WholeFile": "problem",
    "with_overrides": "problem",
    "MEMORY_LIMIT_RULE": "problem.limits",
    "TIME_LIMIT_RULE": "problem.limits",
    "memory_limit_mb": "problem.limits",
    "time_limit_s": "problem.limits",
    "SidecarChange": "problem.sidecar_edit",
    "add_test": "problem.sidecar_edit",
    "delete_test": "problem.sidecar_edit",
    "sidecar_path": "problem.sidecar_edit",
    "update_test": "problem.sidecar_edit",
    "def_line": "problem.target",
    "function_name": "problem.target",
    "function_target_at": "problem.target",
    "target_line": "problem.target",
    "load_problem": "project",
    "Note": "report.editor",
    "NoteCode": "report.editor",
    "Severity": "report.editor",
    "efficiency_notes": "report.editor",
    "failure_notes": "report.editor",
    "file_error_note": "report.editor",
    "hover_markdown": "report.editor",
    "refinement_note": "report.editor",
    "result_label": "report.editor",
    "suite_line": "report.editor",
    "tested_functions": "report.editor",
    "listen_event_lines": "report.listen",
    "PanelRow": "report.panel",
    "adding_refusal": "report.panel",
    "editing_refusal": "report.panel",
    "panel_row_document": "report.panel",
    "panel_rows": "report.panel",
    "progress_text": "report.refine",
    "refine_line": "report.refine",
    "EntryRow": "report.views",
    "NodeRow": "report.views",
    "candidate_text": "report.views",
    "entry_rows": "report.views",
    "entry_text": "report.views",
    "history_line": "report.views",
    "row_document": "report.views",
    "search_rows": "report.views",
    "ExecutionResult": "results",
    "RunError": "results",
    "SuiteResult": "results",
    "Verdict": "results",
    "Event": "search",
    "EventKind": "search",
    "RefineResult": "search",
}

__all__ = [
    "DEFAULT_LISTEN_PORT",
    "MEMORY_LIMIT_RULE",
    "TIME_LIMIT_RULE",
    "BatchProgress",
    "Decision",
    "EntryRow",
    "Event",
    "EventKind",
    "ExecutionResult",
    "Figures",
    "FileRun",
    "FunctionTarget",
    "HarnessError",
    "HistoryEntry",
    "HistoryStore",
    "Hunk",
    "HunkReview",
    "ImportedProblem",
    "InputError",
    "ListenEvent",
    "ListenEventKind",
    "Listener",
    "MissingPackage",
    "ModelUnreachable",
    "NoTestsFound",
    "NodeRow",
    "Note",
    "NoteCode",
    "OpenAIChatModel",
    "OrpsError",
    "Outcome",
    "Overrides",
    "PanelRow",
    "PlacedHunk",
    "PortBusy",
    "Problem",
    "ProblemKind",
    "ProblemWriter",
    "RefineResult",
    "Refinement",
    "RunError",
    "Settings",
    "Severity",
    "SidecarChange",
    "SidecarWrite",
    "SuiteResult",
    "Target",
    "TargetEdit",
    "TestCase",
    "TestKind",
    "Verdict",
    "WholeFile",
    "__version__",
    "add_test",
    "adding_refusal",
    "arun_tests",
    "candidate_text",
    "def_line",
    "delete_test",
    "editing_refusal",
    "efficiency_notes",
    "entry_rows",
    "entry_text",
    "failure_notes",
    "file_error_note",
    "function_name",
    "function_target_at",
    "history_line",
    "hover_markdown",
    "listen_event_lines",
    "load_problem",
    "memory_limit_mb",
    "open_model",
    "panel_row_document",
    "panel_rows",
    "progress_text",
    "refine_line",
    "refinement_note",
    "resolve_settings",
    "result_label",
    "row_document",
    "run_tests",
    "search_rows",
    "sidecar_path",
    "suite_line",
    "target_line",
    "tested_functions",
    "time_limit_s",
    "update_test",
    "with_overrides",
]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # the next lookup is a plain one
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
