"""Where a file's tests come from, the project's own included, in the documented order:

1. ``--tests PATH``: a JSON file or a folder of ``*.in``/``*.out`` pairs; or a pytest file, folder
   or node id (``tests/test_x.py::test_y``), whose tests that exercise the target are used;
2. the sidecar ``<stem>.tests.json`` next to the file;
3. in a project (a folder above with ``pyproject.toml``, ``setup.cfg``, ``setup.py``,
   ``pytest.ini``, ``tox.ini`` or ``.git``): the target's doctests and the project's tests that
   exercise it, together;
4. the target's doctests, or online-judge-tools' ``test/`` folder, alone.

Discovering a project's tests runs them once in the sandbox (see ``discovery``); the result is
cached, so this costs a test run only when the tests change.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

from .. import config
from ..errors import InputError, MissingPackage, NoTestsFound
from ..problem import FunctionTarget, Problem, ProblemKind, ProjectLayout, Target, TestCase, WholeFile
from ..problem import load_problem as load_local
from ..problem.load import read_solution
from .discovery import Discovery, discover
from .root import find_root
from .select import select_tests

NO_PROJECT_TESTS_HINT = ("add a sidecar FILE.tests.json, doctest examples, or tests that call it; or pass "
                         "--tests PATH (a tests file, a pytest file or folder, or a node id)")


def load_problem(solution: Path | str, *, tests: Path | str | None = None, function: str | None = None,
                 python: str | None = None, keyword: str | None = None) -> Problem:
    """``python``: the interpreter that runs the code (a path, or a name on PATH such as ``pypy3``).
    Without one, a function's tests run with the interpreter running orps (its environment is the
    project's), and a program with ``python3`` on PATH, as ``python3 prog.py < input`` would."""
    interpreter = check_python(python) if python is not None else None
    problem = _load(Path(solution), tests, function, interpreter, keyword)
    if problem.kind is ProblemKind.PROGRAM and problem.python is None:
        return replace(problem, python=program_python(None))
    return problem


def program_python(python: str | None) -> str | None:
    """The interpreter a program runs with: ``python`` (checked), else ``python3`` on PATH, as
    ``python3 prog.py < input`` would; None (the one running orps) where there is none."""
    return check_python(python) if python is not None else shutil.which("python3")


def _load(path: Path, tests: Path | str | None, function: str | None, interpreter: str | None,
          keyword: str | None) -> Problem:
    if tests is not None and is_pytest_selector(tests):
        read_solution(path)  # a missing file says so first
        return _project_problem(path, function, interpreter, _args([_absolute(tests)], keyword), local=None)
    sidecar = path.with_name(path.stem + ".tests.json")
    root = find_root(path) if path.is_file() else None
    if tests is not None or sidecar.is_file() or root is None:
        return replace(load_local(path, tests=tests, function=function), python=interpreter)
    try:
        local: Problem | None = load_local(path, function=function)
    except NoTestsFound:
        local = None
    if local is not None and local.kind is ProblemKind.PROGRAM:
        return replace(local, python=interpreter)
    try:
        return _project_problem(path, function, interpreter, _args([], keyword), local=local, root=root)
    except (NoTestsFound, MissingPackage):
        if local is not None:
            return replace(local, python=interpreter)
        raise


def is_pytest_selector(tests: Path | str) -> bool:
    """A node id, a ``.py`` file, or a folder without ``*.in`` files (those are judge tests)."""
    text = str(tests)
    if "::" in text or text.endswith(".py"):
        return True
    folder = Path(text)
    return folder.is_dir() and not any(folder.glob("*.in"))


def check_python(python: str) -> str:
    """``--python PATH`` (or a name on PATH): an executable file (its version is checked when the
    sandbox starts)."""
    if os.sep not in python and not Path(python).exists():
        on_path = shutil.which(python)
        if on_path is None:
            raise InputError(f"--python {python}: not found on PATH",
                             hint="pass the path of a Python 3.10+ interpreter")
        python = on_path
    path = Path(python).expanduser()
    if not path.exists():
        raise InputError(f"--python {python}: no such file", hint="pass the path of a Python 3.10+ interpreter")
    if not path.is_file() or not os.access(path, os.X_OK):
        raise InputError(f"--python {python}: not an executable file",
                         hint="pass the path of a Python 3.10+ interpreter")
    return str(path.absolute())


def _absolute(selector: Path | str) -> str:
    """pytest runs from the project's root: a path given from here must not depend on where."""
    text = str(selector)
    place, sep, rest = text.partition("::")
    return str(Path(place).resolve()) + sep + rest


def _args(selectors: list[str], keyword: str | None) -> list[str]:
    return [*selectors, *(["-k", keyword] if keyword else [])]


def _project_problem(path: Path, function: str | None, python: str | None, args: list[str], *,
                     local: Problem | None, root: Path | None = None) -> Problem:
    source = read_solution(path)
    project_root = root or find_root(path) or path.resolve().parent
    found = discover(path, project_root, python=python, args=args)
    target = _target(function, local, found)
    selection = select_tests(found, target)
    doctests: tuple[TestCase, ...] = local.tests if local is not None and local.target == target else ()
    if not selection.tests:
        if local is not None and doctests:
            return replace(local, python=python, notes=(f"no project tests: {selection.why_none}",))
        if found.missing is not None:  # not "no tests": the tests are there, the interpreter cannot run them
            raise MissingPackage(f"no tests found for {target}: {selection.why_none}", path=path)
        raise NoTestsFound(f"no tests found for {target}: {selection.why_none}", path=path, hint=NO_PROJECT_TESTS_HINT)
    if found.module is None:
        raise InputError(f"the project's tests call {target} but never import {path.name} as a module",
                         path=path, hint="orps runs a project's tests against the module they import")
    layout = ProjectLayout(root=found.root, module=found.module, package=found.package,
                           import_paths=found.import_paths, solution_reads=found.package_files)
    counted = (f"pytest collected {len(found.tests)} test(s) under {found.root}; {len(selection.tests)} call "
               f"{_what(target)}",)
    return Problem(path=path, source=source, kind=ProblemKind.MODULE, target=target, tests=doctests + selection.tests,
                   module=found.module, python=python, project=layout, notes=counted + selection.notes,
                   time_limit_s=config.PROJECT_TIME_LIMIT_S,
                   origin=_origin(found, len(selection.tests), len(doctests)))


def _target(function: str | None, local: Problem | None, found: Discovery) -> Target:
    """The function asked for; else the doctests' one; else the one function the tests call, if
    they call only one; else the whole file."""
    if function is not None:
        return FunctionTarget(function)
    if local is not None and isinstance(local.target, FunctionTarget):
        return local.target
    called = {name for test in found.tests if test.outcome != "skipped" for name in test.calls}
    return FunctionTarget(next(iter(called))) if len(called) == 1 else WholeFile()


def _what(target: Target) -> str:
    return f"`{target.qualname}`" if isinstance(target, FunctionTarget) else "a function of the file"


def _origin(found: Discovery, selected: int, doctests: int) -> str:
    parts = [f"{selected} of {len(found.tests)} pytest test(s) under {found.root}"]
    if doctests:
        parts.append(f"{doctests} doctest(s)")
    return " and ".join(parts)

