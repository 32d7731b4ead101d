"""Find a solution's tests, in the documented order of precedence:

1. ``--tests PATH`` (a JSON file, or a folder of ``*.in``/``*.out`` pairs);
2. the sidecar ``<stem>.tests.json`` next to the solution;
3. doctest examples in the target function's (or method's) docstring;
4. online-judge-tools' ``test/*.in`` + ``test/*.out`` next to the solution (with a program's
   sidecar, run after its tests: both are used, and the report says how many of each).
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import replace
from pathlib import Path

from .. import pyast
from ..errors import InputError, NoTestsFound
from . import doctests, ojdir, pysource, sidecar
from .compare import inferred_comparison
from .model import FunctionTarget, Problem, ProblemKind, TestCase, WholeFile

_NO_TESTS_HINT = ("add a sidecar FILE.tests.json (see the README), doctest examples in the function's "
                  "docstring, or test/*.in + test/*.out files; or pass --tests PATH")


def load_problem(solution: Path | str, *, tests: Path | str | None = None,
                 function: str | None = None) -> Problem:
    path = Path(solution)
    source = read_solution(path)
    if function is not None and not all(part.isidentifier() for part in function.split(".")):
        raise InputError(f"--function {function!r} is not a Python name",
                         hint="name a top-level function, or a method as Class.method")
    if tests is not None:
        problem = _explicit(Path(tests), path, source, function)
    elif (side := path.with_name(path.stem + ".tests.json")).is_file():
        problem = _with_oj_tests(sidecar.load_json_tests(side, path, source, function), side)
    else:
        problem = _doctests_or_oj(path, source, function)
    if isinstance(problem.target, FunctionTarget):
        _check_function_exists(problem, problem.target)
    return problem


def _with_oj_tests(problem: Problem, side: Path) -> Problem:
    """A sidecar and online-judge-tools' ``test/`` folder both there: a program runs both (the
    sidecar's first, then ``test/``'s by name); function tests cannot use stdin files, and say so."""
    folder = ojdir.oj_dir(problem.path)
    if folder is None:
        return problem
    cases = ojdir.oj_cases(folder)
    if problem.kind is not ProblemKind.PROGRAM:
        return replace(problem, notes=(*problem.notes, f"{len(cases)} test(s) in {folder} not run: "
                                                       f"{side.name} holds function tests"))
    taken = {t.id for t in problem.tests}
    extra = tuple(replace(c, id=f"{folder.name}/{c.id}" if c.id in taken else c.id) for c in cases)
    return replace(problem, tests=problem.tests + extra, origin=f"{problem.origin} and {folder}",
                   notes=(*problem.notes, f"tests: {len(problem.tests)} from {side.name}, {len(extra)} from {folder}"))


def read_solution(path: Path) -> str:
    if not path.exists():
        raise InputError("file not found", path=path)
    if not path.is_file():
        raise InputError("not a file", path=path, hint="pass the solution's .py file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from None
    encoding = source_encoding(raw, path)
    try:
        return raw.decode(encoding)  # bytes as they are: CRLF stays (--write keeps it too)
    except UnicodeDecodeError:
        raise InputError(f"not {encoding.upper().replace('-SIG', '')} text", path=path,
                         hint="save it in UTF-8, or declare its encoding in a PEP 263 coding line") from None


def source_encoding(raw: bytes, path: Path | None = None) -> str:
    """The encoding Python reads a source file with: a BOM or a PEP 263 coding line, else UTF-8."""
    try:
        encoding, _lines = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as exc:  # an unknown codec named, a BOM against the coding line, or bytes not UTF-8
        if exc.msg.startswith("invalid or missing encoding declaration"):
            return "utf-8"  # no declaration, and not UTF-8 either: decoding says so
        raise InputError(f"the file's encoding declaration is not usable: {exc.msg}", path=path) from None
    return encoding


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
            return _doctest_problem(path, source, function, found[function])
        if function is None and len(found) == 1:
            return _doctest_problem(path, source, *next(iter(found.items())))
        if function is None and len(found) > 1:
            raise InputError(f"several functions have doctests ({', '.join(found)})", path=path,
                             hint="pick one with --function NAME")
    folder = ojdir.oj_dir(path)
    if folder is not None and function is None:
        return _program(path, source, folder, ojdir.oj_cases(folder))
    if function is not None and tree is not None:
        missing = _undefined(tree, function, path)
        if missing is not None:
            raise missing
        raise NoTestsFound(f"no tests found for {function}: no sidecar and no doctest examples", path=path,
                           hint=_NO_TESTS_HINT)
    if syntax_error is not None:
        raise syntax_error
    raise NoTestsFound("no tests found", path=path, hint=_NO_TESTS_HINT)


def _doctest_problem(path: Path, source: str, qualname: str, node: ast.FunctionDef | ast.AsyncFunctionDef) -> Problem:
    cases = doctests.doctest_cases(node, path, qualname)
    if not cases:
        raise InputError(f"the doctests of {qualname} show no expected output", path=path, line=node.lineno)
    return Problem(path=path, source=source, kind=ProblemKind.MODULE, target=FunctionTarget(qualname), tests=cases,
                   module=sidecar.module_name(path), origin=f"doctests of {qualname}",
                   kept_builtins=pysource.builtin_names_defined(source, str(path)))


def _program(path: Path, source: str, folder: Path, cases: tuple[TestCase, ...]) -> Problem:
    return Problem(path=path, source=source, kind=ProblemKind.PROGRAM, target=WholeFile(), tests=cases,
                   origin=str(folder), compare=inferred_comparison(case.expected for case in cases))


def _parse(source: str, path: Path) -> tuple[ast.Module | None, InputError | None]:
    try:
        return pyast.parse(source, str(path)), None
    except SyntaxError as exc:
        return None, InputError(f"no tests found, and the file does not parse: {exc.msg}", path=path,
                                line=exc.lineno, hint=_NO_TESTS_HINT)
    except (ValueError, RecursionError, MemoryError) as exc:
        return None, InputError(f"the file does not parse: {exc}", path=path)


def _check_function_exists(problem: Problem, target: FunctionTarget) -> None:
    tree = pysource.parse(problem.source, str(problem.path))
    if tree is None:
        return  # the syntax error will be reported as the solution's runtime error
    missing = _undefined(tree, target.qualname, problem.path)
    if missing is not None:
        raise missing


def _undefined(tree: ast.Module, function: str, path: Path) -> InputError | None:
    """Why ``function`` names nothing a refine could target, if it names nothing: a top-level
    name (a def, or bound otherwise: ``add = lambda ...``), or a method of a class, ``Class.method``."""
    if "." not in function:
        return None if function in pysource.top_level_names(tree) else _not_defined(function, path)
    owner, _, name = function.rpartition(".")
    if not isinstance(pysource.find_def(tree, owner), ast.ClassDef):
        where = "at the top level of the file" if "." not in owner else "in the file"
        return InputError(f"class {owner!r} is not defined {where}", path=path,
                          hint="check --function or the tests' entry_point")
    if pysource.find_function(tree, function) is None:
        return InputError(f"method {function!r} is not defined: class {owner!r} has no method {name!r}", path=path,
                          hint="check --function or the tests' entry_point")
    return None


def _not_defined(function: str, path: Path) -> InputError:
    """Said before "no tests found": a misspelt --function is the likelier mistake."""
    return InputError(f"function {function!r} is not defined at the top level of the file", path=path,
                      hint="check --function or the tests' entry_point")
