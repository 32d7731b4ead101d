"""What a refine may change: the target function's lines in the file (or the whole program).

One function builds a candidate's full source and ``--write`` uses the same, so what is tested
is exactly what would be written.
"""

from __future__ import annotations

import ast

from ..errors import InputError
from .model import Problem, Target


def target_span(source: str, function: str) -> tuple[int, int]:
    """1-based first and last line of the top-level ``def function`` (decorators included)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise InputError(f"the file does not parse: {exc.msg}", line=exc.lineno) from None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == function:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            return first, int(node.end_lineno or node.lineno)
    raise InputError(f"{function!r} is not a top-level function of the file")


def function_source(source: str, function: str) -> str:
    """The lines of the top-level ``function`` in ``source``, as written."""
    first, last = target_span(source, function)
    return "".join(source.splitlines(keepends=True)[first - 1:last])


def target_code(problem: Problem) -> str:
    """The code a refine starts from and replaces."""
    if problem.target is Target.PROGRAM or not problem.function:
        return problem.source
    return function_source(problem.source, problem.function)


def as_block(code: str, source: str) -> str:
    """``code`` as whole lines ending the way ``source``'s lines end."""
    newline = "\r\n" if "\r\n" in source else "\n"
    return newline.join(code.splitlines()) + newline


def replace_function(source: str, function: str, code: str) -> str:
    """``source`` with the top-level ``function`` replaced by ``code``; every other byte as it was."""
    first, last = target_span(source, function)
    lines = source.splitlines(keepends=True)
    return "".join(lines[: first - 1]) + as_block(code, source) + "".join(lines[last:])


def splice(problem: Problem, replacement: str) -> str:
    """The whole file with the target replaced (see ``replace_function``)."""
    if problem.target is Target.PROGRAM or not problem.function:
        return as_block(replacement, problem.source)
    return replace_function(problem.source, problem.function, replacement)


def signature(problem: Problem) -> str | None:
    """``def name(args) -> ret:`` of the target function, as written."""
    if problem.target is Target.PROGRAM or not problem.function:
        return None
    code = target_code(problem)
    tree = ast.parse(code)
    node = tree.body[0]
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    body_start = node.body[0].lineno - node.lineno
    head = code.splitlines()[: max(1, body_start)]
    text = "\n".join(line for line in head if not line.lstrip().startswith("@")).strip()
    return text if text.endswith(":") else text.split(":\n")[0] + ":"


def statement(problem: Problem) -> str:
    """The problem's description: the target's docstring, else the file's leading docstring or
    comments, with the problem's name and URL where the tests gave them."""
    parts = [p for p in (problem.name, problem.url) if p]
    text = _docstring(problem) or _leading_comments(problem.source)
    if text:
        parts.append(text)
    return "\n".join(parts) if parts else "(no description: infer the intent from the code and the tests)"


def _docstring(problem: Problem) -> str | None:
    try:
        tree = ast.parse(problem.source)
    except SyntaxError:
        return None
    if problem.function:
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == problem.function:
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
