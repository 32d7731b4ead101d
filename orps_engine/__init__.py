"""orps engine: problems and tests, sandboxed execution and measurement, judging, reports.

No editor code here: the language server and the CLI are thin layers over this API.
"""

from .errors import HarnessError, InputError, ModelUnreachable, OrpsError
from .judge import arun_tests, run_tests
from .problem import Problem, Target, TestCase, TestKind, load_problem
from .results import ExecutionResult, RunError, SuiteResult, Verdict

__version__ = "0.1.0"

__all__ = [
    "ExecutionResult", "HarnessError", "InputError", "ModelUnreachable", "OrpsError", "Problem", "RunError",
    "SuiteResult", "Target", "TestCase", "TestKind", "Verdict", "__version__", "arun_tests", "load_problem",
    "run_tests",
]
