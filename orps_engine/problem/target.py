"""What a refine may change: the target function's lines in the file, or the whole file.

One function builds a candidate's full source and ``--write`` and the editor's edit use the
same, so what is tested is exactly what would be written.
"""

from __future__ import annotations

import ast

from ..errors import InputError
from . import pysource
from .model import FunctionTarget, Problem, Target, WholeFile


def function_name(target: Target) -> str | None:
    """The target function's qualified name, for documents that name it (None: the whole file)."""
    return target.qualname if isinstance(target, FunctionTarget) else None


def target_span(source: str, target: Target) -> tuple[int, int]:
    """1-based first and last line of the target in ``source`` (decorators included); the whole
    file for ``WholeFile``."""
    if isinstance(target, WholeFile):
        return 1, max(1, len(source.splitlines()))
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise InputError(f"the file does not parse: {exc.msg}", line=exc.lineno) from None
    node = pysource.find_def(tree, target.qualname)
    if node is None:
        raise InputError(f"{target.qualname!r} is not a top-level function of the file")
    return pysource.def_span(node)


def target_source(source: str, target: Target) -> str:
    """The target's lines in ``source``, as written (the whole text for ``WholeFile``)."""
    if isinstance(target, WholeFile):
        return source
    first, last = target_span(source, target)
    return "".join(source.splitlines(keepends=True)[first - 1:last])


def target_code(problem: Problem) -> str:
    """The code a refine starts from and replaces."""
    return target_source(problem.source, problem.target)


def as_block(code: str, source: str) -> str:
    """``code`` as whole lines ending the way ``source``'s lines end."""
    newline = "\r\n" if "\r\n" in source else "\n"
    return newline.join(code.splitlines()) + newline


def replace_target(source: str, target: Target, code: str) -> str:
    """``source`` with the target replaced by ``code``; every other byte as it was."""
    if isinstance(target, WholeFile):
        return as_block(code, source)
    first, last = target_span(source, target)
    lines = source.splitlines(keepends=True)
    return "".join(lines[: first - 1]) + as_block(code, source) + "".join(lines[last:])


def splice(problem: Problem, replacement: str) -> str:
    """The whole file with the problem's target replaced (see ``replace_target``)."""
    return replace_target(problem.source, problem.target, replacement)


def signature(problem: Problem) -> str | None:
    """``def name(args) -> ret:`` of the target function, as written."""
    if not isinstance(problem.target, FunctionTarget):
        return None
    code = target_code(problem)
    node = ast.parse(code).body[0]
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    body_start = node.body[0].lineno - node.lineno
    head = code.splitlines()[: max(1, body_start)]
    text = "\n".join(line for line in head if not line.lstrip().startswith("@")).strip()
    return text if text.endswith(":") else text.split(":\n")[0] + ":"


def def_line(problem: Problem) -> int:
    """The line of the target's ``def`` (1 for the whole file, or where it cannot be found)."""
    return target_line(problem.source, problem.target)


def target_line(source: str, target: Target) -> int:
    """The line of ``target``'s ``def`` in ``source`` (1 for the whole file, or where it is not)."""
    if isinstance(target, WholeFile):
        return 1
    tree = pysource.parse(source)
    node = pysource.find_def(tree, target.qualname) if tree is not None else None
    return node.lineno if node is not None else 1


def function_target_at(source: str, line: int) -> FunctionTarget | None:
    """The top-level function whose lines hold the 1-based ``line`` (a cursor), if any."""
    tree = pysource.parse(source)
    name = pysource.function_at(tree, line) if tree is not None else None
    return FunctionTarget(name) if name is not None else None


def statement(problem: Problem) -> str:
    """The problem's description: the target's docstring, else the file's leading docstring or
    comments, with the problem's name and URL where the tests gave them."""
    parts = [p for p in (problem.name, problem.url) if p]
    text = _docstring(problem) or _leading_comments(problem.source)
    if text:
        parts.append(text)
    return "\n".join(parts) if parts else "(no description: infer the intent from the code and the tests)"


def _docstring(problem: Problem) -> str | None:
    tree = pysource.parse(problem.source)
    if tree is None:
        return None
    if isinstance(problem.target, FunctionTarget):
        node = pysource.find_def(tree, problem.target.qualname)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return ast.get_docstring(node)
    return ast.get_docstring(tree)


def _leading_comments(source: str) -> str | None:
    lines = []
    for line in source.splitlines():
        if line.startswith("#"):
            lines.append(line.lstrip("#").strip())
        elif line.strip():
            break
    return "\n".join(lines) or None
