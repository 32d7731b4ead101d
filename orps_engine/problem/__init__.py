"""Problems and their tests: the model, its loaders, and the target a refine may change. Imports
nothing else of the engine but errors and config."""

from .load import load_problem, read_solution
from .model import FunctionTarget, Problem, ProblemKind, ProjectLayout, Target, TestCase, TestKind, WholeFile
from .sidecar import import_root

__all__ = ["FunctionTarget", "Problem", "ProblemKind", "ProjectLayout", "Target", "TestCase", "TestKind", "WholeFile",
           "import_root", "load_problem", "read_solution"]
