"""Problems and test cases: what is tested, how, under which limits, and what a refine may change.

A ``TestCase`` keeps its expected values here, in the parent: the sandbox job built from it
carries only what the code under test may see (stdin for programs; the checker, a separate
process, receives assert tests and doctests).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path

from ..config import DEFAULT_MEMORY_LIMIT_MB, DEFAULT_OUTPUT_LIMIT_MB, DEFAULT_TIME_LIMIT_S
from .compare import TOKENS, Comparison


class ProblemKind(str, Enum):
    """How the tests reach the code."""

    PROGRAM = "program"  # the file runs as ``__main__`` on each test's stdin
    MODULE = "module"  # the tests import the file as a module and call into it


@dataclass(frozen=True, slots=True)
class FunctionTarget:
    """One function of the file, by qualified name: ``f``, or a method ``Class.method``."""

    qualname: str

    @property
    def name(self) -> str:
        """The name the code must define: the last part of the qualified name."""
        return self.qualname.rpartition(".")[2]

    def __str__(self) -> str:
        return self.qualname


@dataclass(frozen=True, slots=True)
class WholeFile:
    """The whole file: a stdin/stdout program, or a module whose tested function is unknown."""

    def __str__(self) -> str:
        return "the program"


Target = FunctionTarget | WholeFile


class TestKind(str, Enum):
    STDIO = "stdio"
    ASSERT = "assert"
    DOCTEST = "doctest"
    PYTEST = "pytest"  # an item of the project's own tests, by pytest node id (unittest cases too)


@dataclass(frozen=True, slots=True, kw_only=True)
class TestCase:
    id: str
    kind: TestKind
    path: Path | None = None  # the file the test was read from
    line: int | None = None  # its line there (1-based)
    input: str | None = None  # stdio: stdin
    expected: str | None = None  # stdio: expected stdout
    source: str | None = None  # assert: the statements; doctest: the example's source
    want: str | None = None  # doctest: expected output
    exc_msg: str | None = None  # doctest: expected exception line
    context: tuple[str, ...] = ()  # doctest: earlier examples of the same docstring, run first
    doctest_flags: int = 0
    exercises: tuple[str, ...] = ()  # pytest: the file's functions it calls (qualified names)

    @property
    def shown_input(self) -> str:
        """What to show a person as this test's input."""
        if self.kind is TestKind.STDIO:
            return self.input or ""
        return self.source or ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectLayout:
    """Where the file sits in the user's project, as the project's own test run showed it."""

    root: Path
    module: str  # the dotted name the tests import the file by
    package: bool  # the file is a package's ``__init__``
    import_paths: tuple[Path, ...]  # where that name is imported from (the root, ``src/``)
    solution_reads: tuple[Path, ...]  # the files the user's code read or imported in that run


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    path: Path  # the solution file (or a virtual path for dataset rows)
    source: str  # the solution's text
    kind: ProblemKind
    target: Target
    tests: tuple[TestCase, ...]
    module: str = "solution"  # the name the tests import the solution by
    setup: str = ""  # run before each assert test (imports, helpers)
    setup_path: Path | None = None
    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    memory_limit_mb: int = DEFAULT_MEMORY_LIMIT_MB
    # The code under test may start child processes. Off by default: a run is then one process, so
    # its CPU and memory are all of its work (a child's, with SIGCHLD ignored, would count nowhere).
    allow_subprocesses: bool = False
    output_limit_mb: int = DEFAULT_OUTPUT_LIMIT_MB  # a program's stdout, beyond which it is OLE
    compare: Comparison = TOKENS  # stdio: how its output is compared with the expected
    origin: str = ""  # where the tests came from, for messages
    name: str | None = None
    url: str | None = None
    python: str | None = None  # the interpreter that runs the code (None: the one running orps)
    project: ProjectLayout | None = None  # set for a project's own tests (TestKind.PYTEST)
    notes: tuple[str, ...] = ()  # what finding the tests found worth saying (skipped ones, ...)
    # The user's own top-level names that are also builtins (a function of theirs named ``filter``):
    # only these of the solution's names may shadow a builtin in the tests. Taken from the user's
    # file when the problem is loaded, never from a candidate, so ``with_source`` keeps it.
    kept_builtins: frozenset[str] = frozenset()

    def with_source(self, source: str) -> Problem:
        """The same problem and tests against other code (a candidate); ``kept_builtins`` stays the
        original's, so a candidate that defines ``abs`` cannot make the tests call it."""
        return replace(self, source=source)
