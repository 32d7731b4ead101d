"""The structure of Python source that orps needs: the names a module defines, where a function's
``def`` is, and which function a line belongs to. Every lookup of a ``def`` goes through here.
"""

from __future__ import annotations

import ast
import builtins

Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
_PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError)


def parse(source: str, filename: str = "<unknown>") -> ast.Module | None:
    """The module's tree, or None where it does not parse (the run will report why)."""
    try:
        return ast.parse(source, filename)
    except _PARSE_ERRORS:
        return None


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


def builtin_names_defined(source: str, filename: str = "<unknown>") -> frozenset[str]:
    """The top-level names of ``source`` that are also builtins (``filter``, ``sum``...): the names
    of the user's own code that its tests legitimately reach instead of the builtin. Empty where
    the source does not parse."""
    tree = parse(source, filename)
    if tree is None:
        return frozenset()
    return frozenset(top_level_names(tree) & set(dir(builtins)))


def find_def(tree: ast.Module, qualname: str) -> Definition | None:
    """The top-level ``def`` (or ``class``) named ``qualname``; the last one wins, as at import."""
    found = None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == qualname:
            found = node
    return found


def def_span(node: Definition) -> tuple[int, int]:
    """1-based first and last line of a definition, its decorators included."""
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return first, int(node.end_lineno or node.lineno)


def functions(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The module's top-level functions, in order."""
    return [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def function_at(tree: ast.Module, line: int) -> str | None:
    """The qualified name of the top-level function whose lines (decorators included) hold the
    1-based ``line``."""
    for node in functions(tree):
        first, last = def_span(node)
        if first <= line <= last:
            return node.name
    return None
