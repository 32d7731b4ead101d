"""JSON test files: Competitive Companion's problem JSON as is, and orps's function schema.

Competitive Companion: ``{"name", "url", "timeLimit" (ms), "memoryLimit" (MB), "testType",
"tests": [{"input", "output"}]}``. Function problems: ``{"entry_point": "f", "setup": "...",
"asserts": ["assert f(1) == 2", ...]}``, optionally with ``timeLimit``/``memoryLimit`` too.
Either may set ``"compare"`` (stdio only): tokens, lines, exact, or float[:tolerance].
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from ..config import DEFAULT_MEMORY_LIMIT_MB, DEFAULT_TIME_LIMIT_S
from ..errors import InputError
from . import jsonpos, limits, pysource
from .compare import RULE as COMPARE_RULE
from .compare import inferred_comparison, missing_checker, parse_comparison
from .model import FunctionTarget, Problem, ProblemKind, Target, TestCase, TestKind, WholeFile


def load_json_tests(tests_path: Path, solution: Path, source: str, function: str | None) -> Problem:
    text = _read(tests_path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg} (column {exc.colno})", path=tests_path, line=exc.lineno,
                         hint="fix the JSON syntax at that line") from None
    except RecursionError:  # nested deeper than the parser's stack allows
        raise InputError("not valid JSON: nested too deeply", path=tests_path) from None
    if not isinstance(data, dict):
        raise InputError("expected a JSON object with \"tests\" or \"asserts\"", path=tests_path, line=1)
    limits = _limits(data, tests_path, text)
    if "asserts" in data or "entry_point" in data:
        return _function_problem(data, text, tests_path, solution, source, function, limits)
    if "tests" in data:
        if function:
            raise InputError(f"--function {function} given, but {tests_path.name} holds stdin/stdout tests",
                             path=tests_path, hint="drop --function for stdin/stdout problems")
        return _program_problem(data, text, tests_path, solution, source, limits)
    raise InputError("no \"tests\" (stdin/stdout) or \"asserts\" (function) field", path=tests_path, line=1,
                     hint="see the README's test file schema")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")  # a BOM is not part of the JSON
    except FileNotFoundError:
        raise InputError("tests file not found", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the tests file: {exc}", path=path) from None


def _field_error(path: Path, text: str, key: str, message: str, line: int | None = None) -> InputError:
    return InputError(f"field \"{key}\": {message}", path=path, line=line or jsonpos.key_line(text, key))


def _limits(data: dict[str, Any], path: Path, text: str) -> dict[str, Any]:
    out: dict[str, Any] = {"time_limit_s": DEFAULT_TIME_LIMIT_S, "memory_limit_mb": DEFAULT_MEMORY_LIMIT_MB}
    if "timeLimit" in data:
        out["time_limit_s"] = limits.time_limit_s(data["timeLimit"])
        if out["time_limit_s"] is None:
            raise _field_error(path, text, "timeLimit", limits.TIME_LIMIT_RULE)
    if "memoryLimit" in data:
        out["memory_limit_mb"] = limits.memory_limit_mb(data["memoryLimit"])
        if out["memory_limit_mb"] is None:
            raise _field_error(path, text, "memoryLimit", limits.MEMORY_LIMIT_RULE)
    if "allowSubprocesses" in data:
        if not isinstance(data["allowSubprocesses"], bool):
            raise _field_error(path, text, "allowSubprocesses", "expected true or false")
        out["allow_subprocesses"] = data["allowSubprocesses"]
    if "outputLimit" in data:
        out["output_limit_mb"] = limits.memory_limit_mb(data["outputLimit"])
        if out["output_limit_mb"] is None:
            raise _field_error(path, text, "outputLimit", limits.OUTPUT_LIMIT_RULE)
    if "compare" in data:  # else chosen from the expected outputs (_program_problem)
        out["compare"] = parse_comparison(data["compare"], path.parent)
        if out["compare"] is None:
            raise _field_error(path, text, "compare", missing_checker(data["compare"], path.parent) or COMPARE_RULE)
    return out


def _program_problem(data: dict[str, Any], text: str, path: Path, solution: Path, source: str,
                     limits: dict[str, Any]) -> Problem:
    if data.get("interactive"):
        raise _field_error(path, text, "interactive", "interactive problems are not supported")
    for key in ("input", "output"):
        spec, default = data.get(key), "stdin" if key == "input" else "stdout"
        if isinstance(spec, dict) and spec.get("type", default) not in ("stdin", "stdout"):
            raise _field_error(path, text, key, f"only stdin/stdout problems are supported, not {spec.get('type')!r}")
    tests = data["tests"]
    if not isinstance(tests, list):
        raise _field_error(path, text, "tests", "expected a list of {\"input\", \"output\"} objects")
    lines = jsonpos.array_element_lines(text, "tests")
    cases = []
    for i, test in enumerate(tests):
        line = lines[i] if i < len(lines) else None
        if not isinstance(test, dict):
            raise _field_error(path, text, f"tests[{i}]", "expected an object with \"input\" and \"output\"", line)
        for key in ("input", "output"):
            if not isinstance(test.get(key), str):
                problem = "missing" if key not in test else "expected a string"
                raise _field_error(path, text, f"tests[{i}].{key}", problem, line)
        cases.append(TestCase(id=str(i + 1), kind=TestKind.STDIO, path=path, line=line,
                              input=test["input"], expected=test["output"]))
    if not cases:
        raise _field_error(path, text, "tests", "the list is empty")
    if "compare" not in limits:  # Competitive Companion never says: float where the answers are reals
        limits = {**limits, "compare": inferred_comparison(case.expected for case in cases)}
    return Problem(path=solution, source=source, kind=ProblemKind.PROGRAM, target=WholeFile(), tests=tuple(cases),
                   origin=str(path), name=_opt_str(data, "name"), url=_opt_str(data, "url"), **limits)


def _function_problem(data: dict[str, Any], text: str, path: Path, solution: Path, source: str,
                      function: str | None, limits: dict[str, Any]) -> Problem:
    entry = data.get("entry_point")
    if entry is not None and (not isinstance(entry, str) or not entry.isidentifier()):
        raise _field_error(path, text, "entry_point", "expected a function name")
    setup = data.get("setup", "")
    if not isinstance(setup, str):
        raise _field_error(path, text, "setup", "expected a string of Python code")
    _check_syntax(setup, path, text, "setup", jsonpos.key_line(text, "setup"))
    asserts = data.get("asserts")
    if not isinstance(asserts, list) or not asserts:
        raise _field_error(path, text, "asserts", "expected a non-empty list of assert statements")
    lines = jsonpos.array_element_lines(text, "asserts")
    cases = []
    for i, statement in enumerate(asserts):
        line = lines[i] if i < len(lines) else None
        if not isinstance(statement, str) or not statement.strip():
            raise _field_error(path, text, f"asserts[{i}]", "expected a string of Python code", line)
        _check_syntax(statement, path, text, f"asserts[{i}]", line)
        cases.append(TestCase(id=str(i + 1), kind=TestKind.ASSERT, path=path, line=line, source=statement))
    name = function or entry or _called_function(source, [setup, *asserts])
    target: Target = FunctionTarget(name) if name else WholeFile()
    return Problem(path=solution, source=source, kind=ProblemKind.MODULE, target=target, tests=tuple(cases),
                   module=module_name(solution), setup=setup, setup_path=path,
                   origin=str(path), name=_opt_str(data, "name"), url=_opt_str(data, "url"),
                   kept_builtins=pysource.builtin_names_defined(source, str(solution)), **limits)


def _check_syntax(code: str, path: Path, text: str, key: str, line: int | None) -> None:
    try:
        compile(code, f"<{key}>", "exec", dont_inherit=True, flags=0x400)  # PyCF_ONLY_AST
    except SyntaxError as exc:
        where = f" (line {exc.lineno} of the code)" if exc.lineno else ""
        raise _field_error(path, text, key, f"not valid Python: {exc.msg}{where}", line) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise _field_error(path, text, key, f"not valid Python: {exc}", line) from None


def _called_function(source: str, snippets: list[str]) -> str | None:
    """Without an entry_point: the one top-level function of the solution that the tests call
    (or the file's only function), so editors know where the tested code is."""
    module = pysource.parse(source)
    if module is None:
        return None
    defined = [node.name for node in pysource.functions(module)]
    called: set[str] = set()
    for snippet in snippets:
        tree = pysource.parse(snippet)
        if tree is not None:
            called |= {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    tested = [name for name in defined if name in called]
    if len(tested) == 1:
        return tested[0]
    return defined[0] if len(defined) == 1 else None


def _opt_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def module_name(solution: Path) -> str:
    """The name tests import the solution by: its dotted name inside the packages that hold it
    (``pkg.sub.mod`` for ``pkg/sub/mod.py`` with ``__init__.py`` files), else its file stem; a
    stem that is not an identifier: ``solution``."""
    stem = solution.stem
    if not stem.isidentifier():
        return "solution"
    parts = [] if stem == "__init__" else [stem]
    folder = solution.resolve().parent
    while (folder / "__init__.py").is_file() and folder.name.isidentifier() and folder != folder.parent:
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts) or "solution"


def import_root(solution: Path) -> Path:
    """The folder the solution's dotted name is imported from (above its packages)."""
    depth = module_name(solution).count(".") + (1 if solution.stem == "__init__" else 0)
    folder = solution.resolve().parent
    for _ in range(depth):
        folder = folder.parent
    return folder
