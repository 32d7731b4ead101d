"""Find a solution's tests, in the documented order of precedence:

1. ``--tests PATH`` (a JSON file, or a folder of ``*.in``/``*.out`` pairs);
2. the sidecar ``<stem>.tests.json`` next to the solution;
3. doctest examples in the target function's docstring;
4. online-judge-tools' ``test/*.in`` + ``test/*.out`` next to the solution.
"""

from __future__ import annotations

import ast
from pathlib import Path

from ..errors import InputError, NoTestsFound
from . import doctests, ojdir, pysource, sidecar
from .model import FunctionTarget, Problem, ProblemKind, TestCase, WholeFile

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
    if isinstance(problem.target, FunctionTarget):
        _check_function_exists(problem, problem.target)
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
        if function not in pysource.top_level_names(tree):
            raise _not_defined(function, path)
        raise NoTestsFound(f"no tests found for {function}: no sidecar and no doctest examples", path=path,
                           hint=_NO_TESTS_HINT)
    if syntax_error is not None:
        raise syntax_error
    raise NoTestsFound("no tests found", path=path, hint=_NO_TESTS_HINT)


def _doctest_problem(path: Path, source: str, node: ast.FunctionDef | ast.AsyncFunctionDef) -> Problem:
    cases = doctests.doctest_cases(node, path)
    if not cases:
        raise InputError(f"the doctests of {node.name} show no expected output", path=path, line=node.lineno)
    return Problem(path=path, source=source, kind=ProblemKind.MODULE, target=FunctionTarget(node.name), tests=cases,
                   module=sidecar.module_name(path), origin=f"doctests of {node.name}",
                   kept_builtins=pysource.builtin_names_defined(source, str(path)))


def _program(path: Path, source: str, folder: Path, cases: tuple[TestCase, ...]) -> Problem:
    return Problem(path=path, source=source, kind=ProblemKind.PROGRAM, target=WholeFile(), tests=cases,
                   origin=str(folder))


def _parse(source: str, path: Path) -> tuple[ast.Module | None, InputError | None]:
    try:
        return ast.parse(source, str(path)), None
    except SyntaxError as exc:
        return None, InputError(f"no tests found, and the file does not parse: {exc.msg}", path=path,
                                line=exc.lineno, hint=_NO_TESTS_HINT)
    except (ValueError, RecursionError, MemoryError) as exc:
        return None, InputError(f"the file does not parse: {exc}", path=path)


def _check_function_exists(problem: Problem, target: FunctionTarget) -> None:
    tree = pysource.parse(problem.source, str(problem.path))
    if tree is None:
        return  # the syntax error will be reported as the solution's runtime error
    if target.name not in pysource.top_level_names(tree):
        raise _not_defined(target.qualname, problem.path)


def _not_defined(function: str, path: Path) -> InputError:
    """Said before "no tests found": a misspelt --function is the likelier mistake."""
    return InputError(f"function {function!r} is not defined at the top level of the file", path=path,
                      hint="check --function or the tests' entry_point")

