"""Find a solution's tests, in the documented order of precedence:

1. ``--tests PATH`` (a JSON file, or a folder of ``*.in``/``*.out`` pairs);
2. the sidecar ``<stem>.tests.json`` next to the solution;
3. doctest examples in the target function's docstring;
4. online-judge-tools' ``test/*.in`` + ``test/*.out`` next to the solution.
"""

from __future__ import annotations

import ast
from pathlib import Path

from ..errors import InputError
from . import doctests, ojdir, sidecar
from .model import Problem, Target

_NO_TESTS_HINT = ("add a sidecar FILE.tests.json (see the README), doctest examples in the function's "
                  "docstring, or test/*.in + test/*.out files; or pass --tests PATH")


def load_problem(solution: Path | str, *, tests: Path | str | None = None,
                 function: str | None = None) -> Problem:
    path = Path(solution)
    source = read_solution(path)
    if function is not None and not function.isidentifier():
        raise InputError(f"--function {function!r} is not a Python name")
    if tests is not None:
        problem = _explicit(Path(tests), path, source, function)
    elif (side := path.with_name(path.stem + ".tests.json")).is_file():
        problem = sidecar.load_json_tests(side, path, source, function)
    else:
        problem = _doctests_or_oj(path, source, function)
    if problem.target is Target.FUNCTION:
        _check_function_exists(problem)
    return problem


def read_solution(path: Path) -> str:
    if not path.exists():
        raise InputError("file not found", path=path)
    if not path.is_file():
        raise InputError("not a file", path=path, hint="pass the solution's .py file")
    try:
        with path.open(encoding="utf-8", newline="") as fh:  # keep CRLF: --write must too
            return fh.read()
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from None


def _explicit(tests: Path, solution: Path, source: str, function: str | None) -> Problem:
    if tests.is_dir():
        if function:
            raise InputError(f"--function {function} given, but {tests} holds stdin/stdout tests")
        return _program(solution, source, tests, ojdir.oj_cases(tests))
    if not tests.exists():
        raise InputError("tests file not found", path=tests)
    return sidecar.load_json_tests(tests, solution, source, function)


def _doctests_or_oj(path: Path, source: str, function: str | None) -> Problem:
    tree, syntax_error = _parse(source, path)
    if tree is not None:
        found = doctests.functions_with_doctests(tree)
        if function is not None and function in found:
            return _doctest_problem(path, source, found[function])
        if function is None and len(found) == 1:
            return _doctest_problem(path, source, next(iter(found.values())))
        if function is None and len(found) > 1:
            raise InputError(f"several functions have doctests ({', '.join(found)})", path=path,
                             hint="pick one with --function NAME")
    folder = ojdir.oj_dir(path)
    if folder is not None and function is None:
        return _program(path, source, folder, ojdir.oj_cases(folder))
    if function is not None and tree is not None:
        if function not in top_level_names(tree):
            raise _not_defined(function, path)
        raise InputError(f"no tests found for {function}: no sidecar and no doctest examples", path=path,
                         hint=_NO_TESTS_HINT)
    if syntax_error is not None:
        raise syntax_error
    raise InputError("no tests found", path=path, hint=_NO_TESTS_HINT)


def _doctest_problem(path: Path, source: str, node: ast.FunctionDef | ast.AsyncFunctionDef) -> Problem:
    cases = doctests.doctest_cases(node, path)
    if not cases:
        raise InputError(f"the doctests of {node.name} show no expected output", path=path, line=node.lineno)
    return Problem(path=path, source=source, target=Target.FUNCTION, tests=cases, function=node.name,
                   module=sidecar.module_name(path), origin=f"doctests of {node.name}")


def _program(path: Path, source: str, folder: Path, cases: tuple) -> Problem:  # type: ignore[type-arg]
    return Problem(path=path, source=source, target=Target.PROGRAM, tests=cases, origin=str(folder))


def _parse(source: str, path: Path) -> tuple[ast.Module | None, InputError | None]:
    try:
        return ast.parse(source, str(path)), None
    except SyntaxError as exc:
        return None, InputError(f"no tests found, and the file does not parse: {exc.msg}", path=path,
                                line=exc.lineno, hint=_NO_TESTS_HINT)
    except (ValueError, RecursionError, MemoryError) as exc:
        return None, InputError(f"the file does not parse: {exc}", path=path)


def _check_function_exists(problem: Problem) -> None:
    if problem.function is None:
        return
    tree, _error = _parse(problem.source, problem.path)
    if tree is None:
        return  # the syntax error will be reported as the solution's runtime error
    if problem.function not in top_level_names(tree):
        raise _not_defined(problem.function, problem.path)


def top_level_names(tree: ast.Module) -> set[str]:
    """Names the module defines at import time (also under top-level if/try/with blocks)."""
    names: set[str] = set()
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {alias.asname or alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
            for field in ("body", "orelse", "finalbody", "handlers"):
                pending.extend(getattr(node, field, []))
        elif isinstance(node, ast.ExceptHandler):
            pending.extend(node.body)
    return names


def _not_defined(function: str, path: Path) -> InputError:
    """Said before "no tests found": a misspelt --function is the likelier mistake."""
    return InputError(f"function {function!r} is not defined at the top level of the file", path=path,
                      hint="check --function or the tests' entry_point")

