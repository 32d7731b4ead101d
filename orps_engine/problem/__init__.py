"""Problems and their tests: the model, its loaders, and the target a refine may change. Imports
nothing else of the engine but errors and config."""

from .compare import CompareKind, Comparison, parse_comparison
from .load import load_problem, read_solution
from .model import FunctionTarget, Problem, ProblemKind, ProjectLayout, Target, TestCase, TestKind, WholeFile
from .overrides import Overrides, only_tests, with_overrides
from .sidecar import import_root

__all__ = ["CompareKind", "Comparison", "FunctionTarget", "Overrides", "Problem", "ProblemKind", "ProjectLayout",
           "Target", "TestCase", "TestKind", "WholeFile", "import_root", "load_problem", "only_tests",
           "parse_comparison", "read_solution", "with_overrides"]
