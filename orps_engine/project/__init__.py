"""The user's project: its root, its own tests (collected and run by pytest in the sandbox), the
ones that exercise a target, and the problem that puts them together with the file's doctests."""

from .discovery import DiscoveredTest, Discovery, discover
from .load import load_problem
from .root import find_root
from .select import Selection, select_tests

__all__ = ["DiscoveredTest", "Discovery", "Selection", "discover", "find_root", "load_problem", "select_tests"]
