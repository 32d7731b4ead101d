"""Tests from the doctest examples in a function's (or method's) docstring.

Each example with an expected output (or exception) is one test; the examples before it in
the same docstring run first, unchecked, so ``>>> x = f(2)`` followed by ``>>> x + 1`` works.
"""

from __future__ import annotations

import ast
import doctest
from pathlib import Path

from ..errors import InputError
from . import pysource
from .model import TestCase, TestKind


def functions_with_doctests(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """The functions and methods (by qualified name, as ``pysource.targets`` names them) whose
    docstrings hold doctest examples: a method's examples are tests of that method."""
    found = {}
    for qualname, node in pysource.targets(tree).items():
        try:
            has_examples = bool(_examples(node))
        except ValueError:  # malformed: report it when this function is loaded
            has_examples = True
        if has_examples:
            found[qualname] = node
    return found


def doctest_cases(node: ast.FunctionDef | ast.AsyncFunctionDef, path: Path,
                  qualname: str | None = None) -> tuple[TestCase, ...]:
    first = node.body[0]
    assert isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    start_line = first.value.lineno
    try:
        examples = _examples(node)
    except ValueError as exc:  # doctest's own complaint about inconsistent indentation
        raise InputError(f"malformed doctest in {qualname or node.name}: {exc}", path=path, line=start_line) from None
    cases: list[TestCase] = []
    context: list[str] = []
    for example in examples:
        if example.want or example.exc_msg is not None:
            flags = 0
            for flag, on in example.options.items():
                flags = flags | flag if on else flags & ~flag
            cases.append(TestCase(id=str(len(cases) + 1), kind=TestKind.DOCTEST, path=path,
                                  line=start_line + example.lineno, source=example.source, want=example.want,
                                  exc_msg=example.exc_msg, context=tuple(context), doctest_flags=flags))
        context.append(example.source)
    return tuple(cases)


def _examples(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[doctest.Example]:
    if not node.body:
        return []
    first = node.body[0]
    if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)):
        return []
    parsed = doctest.DocTestParser().parse(first.value.value, node.name)
    return [p for p in parsed if isinstance(p, doctest.Example)]
