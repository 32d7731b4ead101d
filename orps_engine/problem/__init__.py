"""Problems and their tests: the model and its loaders. Imports nothing else of the engine but
errors and config."""

from .load import load_problem, read_solution
from .model import Problem, Target, TestCase, TestKind

__all__ = ["Problem", "Target", "TestCase", "TestKind", "load_problem", "read_solution"]
