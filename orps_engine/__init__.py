"""orps engine: problems and tests, sandboxed execution and measurement, the model client, the
ORPS search, and the texts people read of them.

No editor code here: the language server and the CLI are thin layers over this API, and the
server imports nothing else of the engine.
"""

from typing import TYPE_CHECKING

from .companion import ImportedProblem, ProblemWriter, SidecarWrite
from .config import DEFAULT_LISTEN_PORT, Settings, resolve_settings
from .errors import HarnessError, InputError, MissingPackage, ModelUnreachable, NoTestsFound, OrpsError, PortBusy
from .file_run import FileRun, Refinement, TargetEdit
from .history import Figures, HistoryEntry, HistoryStore, Outcome
from .hunks import Decision, Hunk, HunkReview, PlacedHunk
from .judge import arun_tests, run_tests
from .listen import BatchProgress, Listener, ListenEvent, ListenEventKind
from .model import open_model
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


if TYPE_CHECKING:
    from .model import OpenAIChatModel


def __getattr__(name: str) -> object:
    """``OpenAIChatModel`` on first use (``model``'s reason: ``openai`` is slow to import)."""
    if name == "OpenAIChatModel":
        from .model.client import OpenAIChatModel

        return OpenAIChatModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
