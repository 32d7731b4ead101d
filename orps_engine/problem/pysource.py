"""The structure of Python source that orps needs: the names a module defines, where a function's
or method's ``def`` is, which function a line belongs to, and which lines begin inside a string.
Every lookup of a ``def`` goes through here.

A *target* is a top-level function or a method of a top-level class (classes nest: ``Outer.Inner.m``),
named by its qualified name. Functions nested in functions are not targets: nothing outside their
enclosing function can call them, so no test can reach them alone.
"""

from __future__ import annotations

import ast
import builtins
import io
import re
import tokenize
from collections.abc import Iterator

from .. import pyast

Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
_PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError)
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
# Decorators that make a def a property's other accessor, not its getter (``@size.setter``).
_ACCESSORS = ("setter", "deleter")


def parse(source: str, filename: str = "<unknown>") -> ast.Module | None:
    """The module's tree, or None where it does not parse (the run will report why)."""
    try:
        return pyast.parse(source, filename)
    except _PARSE_ERRORS:
        return None


def lines(text: str) -> list[str]:
    """``text``'s lines with their endings, split where Python's own line numbers split them
    (``\\n``, ``\\r\\n``, ``\\r``): ``str.splitlines`` also splits at form feeds and other
    separators, which would put every line after one off by one from the tree's numbers."""
    return _LINE.findall(text)


def top_level_names(tree: ast.Module) -> set[str]:
    """Names the module defines at import time (also under top-level if/try/with blocks)."""
    return {name for name, _ in _bindings(tree.body)}


def top_level_definitions(tree: ast.Module) -> set[str]:
    """The names of ``top_level_names`` bound by a def, a class or an assignment, not by an import."""
    return {name for name, imported in _bindings(tree.body) if not imported}


def bound_names(statements: list[ast.stmt]) -> set[str]:
    """Names that ``statements`` bind at their own level (imports included)."""
    return {name for name, _ in _bindings(statements)}


def _bindings(statements: list[ast.stmt]) -> Iterator[tuple[str, bool]]:
    """(name, bound by an import) for each name the statements bind at their level."""
    pending = list(statements)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node.name, False
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            yield from ((alias.asname or alias.name.split(".")[0], True) for alias in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            yield from ((n.id, False) for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
            for field in ("body", "orelse", "finalbody", "handlers"):
                pending.extend(getattr(node, field, []))
        elif isinstance(node, ast.ExceptHandler):
            pending.extend(node.body)


def builtin_names_defined(source: str, filename: str = "<unknown>") -> frozenset[str]:
    """The top-level names of ``source`` that are also builtins (``filter``, ``sum``...): the names
    of the user's own code that its tests legitimately reach instead of the builtin. Empty where
    the source does not parse."""
    tree = parse(source, filename)
    if tree is None:
        return frozenset()
    return frozenset(top_level_names(tree) & set(dir(builtins)))


def find_def(tree: ast.Module, qualname: str) -> Definition | None:
    """The ``def`` (or ``class``) named by the dotted ``qualname``: ``f``, ``Stats.mean``,
    ``Outer.Inner.method``, looked up through class bodies only. In each body the last
    definition of a name wins, as at import, except a property's ``@name.setter``/``.deleter``
    defs: ``Stats.size`` is the property's getter, the function its tests reach."""
    node: Definition | None = None
    body: list[ast.stmt] = tree.body
    for part in qualname.split("."):
        if node is not None:
            if not isinstance(node, ast.ClassDef):
                return None  # a function's locals are not targets
            body = node.body
        node = _named(body, part)
        if node is None:
            return None
    return node


def find_function(tree: ast.Module, qualname: str) -> FunctionNode | None:
    """``find_def``, for functions and methods only."""
    node = find_def(tree, qualname)
    return node if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else None


def _named(body: list[ast.stmt], name: str) -> Definition | None:
    found = None
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name \
                and not is_accessor(node):
            found = node
    return found


def is_accessor(node: Definition) -> bool:
    """Whether ``node`` is a property's setter or deleter (``@name.setter``), not a target itself."""
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
        isinstance(d, ast.Attribute) and d.attr in _ACCESSORS and isinstance(d.value, ast.Name)
        and d.value.id == node.name for d in node.decorator_list)


def def_span(node: Definition) -> tuple[int, int]:
    """1-based first and last line of a definition, its decorators included."""
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return first, int(node.end_lineno or node.lineno)


def body_span(node: Definition) -> tuple[int, int]:
    """1-based first and last line of a definition from its ``def`` (or ``async def``, ``class``)
    line: what a refine replaces. The decorators above stay where they are."""
    return node.lineno, int(node.end_lineno or node.lineno)


def functions(tree: ast.Module) -> list[FunctionNode]:
    """The module's top-level functions, in order."""
    return [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def targets(tree: ast.Module) -> dict[str, FunctionNode]:
    """Every function a target may name, by qualified name, in the file's order: top-level
    functions and the methods of top-level classes (and of classes nested in them), each name
    resolved as ``find_def`` resolves it."""
    found: dict[str, FunctionNode] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _named(body, node.name) is node:
                found[prefix + node.name] = node

    visit(tree.body, "")
    return found


def function_at(tree: ast.Module, line: int) -> str | None:
    """The qualified name of the innermost method or top-level function whose lines (decorators
    included) hold the 1-based ``line``: a cursor inside a nested function is in its enclosing
    one. None outside any, and on a def that its name does not reach (an earlier def of a name
    defined again, a property's setter): a refine there would change another function."""
    body, prefix = tree.body, ""
    while True:
        holder = next((n for n in body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                       and def_span(n)[0] <= line <= def_span(n)[1]), None)
        if holder is None:
            return None
        if isinstance(holder, ast.ClassDef):
            body, prefix = holder.body, f"{prefix}{holder.name}."
            continue
        qualname = prefix + holder.name
        return qualname if find_def(tree, qualname) is holder else None


def indentation(line: str) -> str:
    """The leading spaces and tabs of ``line``."""
    return line[: len(line) - len(line.lstrip(" \t"))]


def literal_lines(source: str) -> frozenset[int]:
    """The 1-based lines of ``source`` that begin inside a multi-line string literal other than a
    docstring. Their leading whitespace is part of the string's value, so code moved to another
    indentation must leave it alone; a docstring's is not (``inspect.cleandoc`` removes it), so
    its lines move with the code. Empty where the source does not tokenize."""
    docstrings = _docstring_starts(source)
    text_lines = lines(source)
    found: set[int] = set()
    fstring_start = getattr(tokenize, "FSTRING_START", None)  # 3.12+: f-strings come in parts
    fstring_end = getattr(tokenize, "FSTRING_END", None)
    depth, opened = 0, (0, 0)
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            start = token.start
            if token.type == fstring_start:
                depth, opened = depth + 1, start if depth == 0 else opened
                continue
            if token.type == fstring_end:
                depth -= 1
                if depth:
                    continue
                start = opened
            elif token.type != tokenize.STRING or depth:
                continue
            row, col = start
            byte_col = len(text_lines[row - 1][:col].encode()) if row <= len(text_lines) else col
            if (row, byte_col) not in docstrings:
                found.update(range(row + 1, token.end[0] + 1))
    except (tokenize.TokenError, SyntaxError):
        return frozenset()
    return frozenset(found)


def _docstring_starts(source: str) -> set[tuple[int, int]]:
    """(line, byte column) where each docstring of ``source`` begins."""
    tree = parse(source)
    if tree is None:
        return set()
    starts = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                starts.add((first.value.lineno, first.value.col_offset))
    return starts


def logical_line_starts(source: str) -> frozenset[int]:
    """The 1-based lines where a statement (a logical line) begins: the lines whose indentation
    Python reads. Comment lines and continuation lines are not among them. Empty where the
    source does not tokenize."""
    starts: set[int] = set()
    at_start = True
    skip = (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING)
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type in skip:
                continue
            if token.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                at_start = True
                continue
            if at_start:
                starts.add(token.start[0])
                at_start = False
    except (tokenize.TokenError, SyntaxError):
        return frozenset()
    return frozenset(starts)
