"""What a refine may change: the target function's lines in the file, or the whole file.

A function target's lines run from its ``def`` (or ``async def``) line to its last line: its
decorators stay in the file, above, and the code a refine starts from and returns is the
function without them. A method's code is shown at column 0 and put back at the method's
indentation, in the file's own indent unit and line endings. The target is found again by its
qualified name in whatever text it is applied to, so edits elsewhere, even inside the class, do
not get in the way.

One function (``replacement``) builds a candidate's full source, and ``--write`` and the
editor's edit use the same, so what is tested is exactly what would be written.
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass

from .. import pyast
from ..errors import InputError
from . import pysource
from .model import FunctionTarget, Problem, Target, WholeFile


@dataclass(frozen=True, slots=True)
class Replacement:
    """Put ``text`` in place of lines ``first``..``last`` (1-based, inclusive) of a source."""

    first: int
    last: int
    text: str

    def applied_to(self, source: str) -> str:
        lines = pysource.lines(source)
        return "".join(lines[: self.first - 1]) + self.text + "".join(lines[self.last:])


@dataclass(frozen=True, slots=True)
class TargetInfo:
    """What the prompts say about a function target."""

    qualname: str
    owner: str | None  # the class's qualified name, for a method
    is_async: bool
    is_class: bool
    decorators: tuple[str, ...]  # as written, each with its ``@``

    @property
    def kind(self) -> str:
        """``function``, ``method``, ``static method``, ``class method`` or ``property getter``."""
        if self.is_class:
            return "class"
        if self.owner is None:
            return "function"
        names = {d.lstrip("@").strip().rpartition(".")[2] for d in self.decorators}
        for decorator, kind in (("staticmethod", "static method"), ("classmethod", "class method"),
                                ("property", "property getter"), ("cached_property", "property getter")):
            if decorator in names:
                return kind
        return "method"


def function_name(target: Target) -> str | None:
    """The target function's qualified name, for documents that name it (None: the whole file)."""
    return target.qualname if isinstance(target, FunctionTarget) else None


def _tree(source: str) -> ast.Module:
    try:
        return pyast.parse(source)
    except SyntaxError as exc:
        raise InputError(f"the file does not parse: {exc.msg}", line=exc.lineno) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise InputError(f"the file does not parse: {exc}") from None


def _find(tree: ast.Module, target: FunctionTarget) -> pysource.Definition:
    node = pysource.find_def(tree, target.qualname)
    if node is None:
        what = "method" if "." in target.qualname else "top-level function"
        raise InputError(f"{target.qualname!r} is not a {what} of the file")
    return node


def target_span(source: str, target: Target) -> tuple[int, int]:
    """1-based first and last line of the target in ``source``: from its ``def`` line (its
    decorators stay); the whole file for ``WholeFile``."""
    if isinstance(target, WholeFile):
        return 1, max(1, len(pysource.lines(source)))
    return pysource.body_span(_find(_tree(source), target))


def target_source(source: str, target: Target) -> str:
    """The target's lines in ``source``, as written (the whole text for ``WholeFile``)."""
    if isinstance(target, WholeFile):
        return source
    first, last = target_span(source, target)
    return "".join(pysource.lines(source)[first - 1:last])


def target_code(problem: Problem) -> str:
    """The code a refine starts from and replaces: the target without its decorators, a method
    dedented to column 0 (the whole file for ``WholeFile``)."""
    return shown_code(problem.source, problem.target)


def shown_code(source: str, target: Target) -> str:
    """``target_code`` of ``target`` in ``source``."""
    if isinstance(target, WholeFile):
        return source
    tree = _tree(source)
    first, last = pysource.body_span(_find(tree, target))
    return "".join(_dedented(source, first, last))


def _dedented(source: str, first: int, last: int) -> list[str]:
    """Lines ``first``..``last`` less the first one's indentation; lines inside string literals
    (whose whitespace is their value) and lines without that indentation stay as they are."""
    lines = pysource.lines(source)[first - 1:last]
    prefix = pysource.indentation(lines[0]) if lines else ""
    if not prefix:
        return lines
    literal = pysource.literal_lines(source)
    return [line[len(prefix):] if row not in literal and line.startswith(prefix) else line
            for row, line in enumerate(lines, first)]


def as_block(code: str, source: str) -> str:
    """``code`` as whole lines ending the way ``source``'s lines end."""
    newline = "\r\n" if "\r\n" in source else "\n"
    return "".join(_strip_ending(line) + newline for line in pysource.lines(code)) or newline


def _strip_ending(line: str) -> str:
    return line[:-2] if line.endswith("\r\n") else line[:-1] if line.endswith(("\n", "\r")) else line


def replacement(source: str, target: Target, code: str) -> Replacement:
    """The lines of ``source`` that the target occupies and what ``code`` (a candidate's block)
    puts there.

    For a function target the block is placed at the target's indentation (a method's: the
    block comes at column 0), in the file's indent unit and line endings. Decorators the block
    repeats on the target's ``def`` are dropped: they are already in the file, above the lines
    replaced, and stay there; decorators the block adds go between them and the ``def``. What
    the block has before the target's ``def`` (imports, helpers) goes above the file's
    decorators, where it is defined before them. The target's own code as ``target_code``
    shows it puts its lines back exactly as they were."""
    if isinstance(target, WholeFile):
        return Replacement(1, max(1, len(pysource.lines(source))), as_block(code, source))
    tree = _tree(source)
    node = _find(tree, target)
    first, last = pysource.body_span(node)
    lines = pysource.lines(source)
    if [_strip_ending(x) for x in _dedented(source, first, last)] == [_strip_ending(x) for x in pysource.lines(code)]:
        return Replacement(first, last, "".join(lines[first - 1:last]))
    prefix = pysource.indentation(lines[first - 1])
    placed = _placed(code, prefix, _indent_unit(tree, target, lines, prefix))
    split, dropped = _block_parts(code, node)
    head = [line for row, line in enumerate(placed[: split - 1], 1) if row not in dropped]
    body = [line for row, line in enumerate(placed[split - 1:], split) if row not in dropped]
    decorated_from = pysource.def_span(node)[0]
    if head and decorated_from < first:  # the head's statements must come before the decorators
        decorators = "".join(lines[decorated_from - 1:first - 1])
        return Replacement(decorated_from, last, as_block("".join(head), source) + decorators
                           + as_block("".join(body), source))
    return Replacement(first, last, as_block("".join(head + body), source))


def replace_target(source: str, target: Target, code: str) -> str:
    """``source`` with the target replaced by ``code`` (see ``replacement``); every other byte as it was."""
    return replacement(source, target, code).applied_to(source)


def splice(problem: Problem, replacement: str) -> str:
    """The whole file with the problem's target replaced (see ``replace_target``)."""
    return replace_target(problem.source, problem.target, replacement)


def _indent_unit(tree: ast.Module, target: FunctionTarget, lines: list[str], prefix: str) -> str | None:
    """One level of indentation where the target is: its class body's step past the class."""
    owner = target.qualname.rpartition(".")[0]
    node = pysource.find_def(tree, owner) if owner else None
    if node is None:
        return None
    outer = pysource.indentation(lines[node.lineno - 1])
    unit = prefix[len(outer):]
    return unit if prefix.startswith(outer) and unit and len(set(unit)) == 1 else None


def _placed(code: str, prefix: str, unit: str | None) -> list[str]:
    """``code``'s lines moved from column 0 to ``prefix``. Lines that begin inside a string
    literal keep their whitespace (it is the string's); empty lines stay empty. Where the file
    indents by another unit than the block (tabs against spaces) and every statement of the
    block is indented in whole units of its own, the units are converted too."""
    lines = pysource.lines(code)
    if not prefix:
        return lines
    literal = pysource.literal_lines(code)
    starts = pysource.logical_line_starts(code)
    own = next((w for row in sorted(starts) if (w := pysource.indentation(lines[row - 1]))), None)
    if own is not None and len(set(own)) != 1:
        own = None
    convert = unit is not None and own is not None and own != unit and all(
        _levels(pysource.indentation(lines[row - 1]), own) is not None for row in starts if row <= len(lines))
    placed = []
    for row, line in enumerate(lines, 1):
        if row in literal or not _strip_ending(line):
            placed.append(line)
            continue
        indent = pysource.indentation(line)
        levels = _levels(indent, own) if convert and own is not None else None
        new_indent = unit * levels if levels is not None and unit is not None else indent
        placed.append(prefix + new_indent + line[len(indent):])
    return placed


def _levels(indent: str, unit: str) -> int | None:
    """How many ``unit``s ``indent`` is, if it is whole units."""
    count, rest = divmod(len(indent), len(unit))
    return count if not rest and indent == unit * count else None


def _block_parts(code: str, node: pysource.Definition) -> tuple[int, set[int]]:
    """Where the block's target definition begins (its first line after any decorators the
    block repeats; 1 when nothing but comments comes before it) and the lines of the repeated
    decorators, which the file already has."""
    tree = pysource.parse(code)
    if tree is None:
        return 1, set()
    same = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and n.name == node.name]
    if not same:
        return 1, set()
    own = same[-1]
    existing = {ast.dump(d) for d in node.decorator_list}
    dropped: set[int] = set()
    kept = []
    for decorator in own.decorator_list:
        if ast.dump(decorator) in existing:
            dropped.update(range(decorator.lineno, (decorator.end_lineno or decorator.lineno) + 1))
        else:
            kept.append(decorator.lineno)
    begins = min([own.lineno, *kept])
    before = any(statement.lineno < begins for statement in tree.body if statement is not own)
    return (begins if before else 1), dropped


def target_info(problem: Problem) -> TargetInfo | None:
    """What the prompts say about the target (None: the whole file, or not found)."""
    if not isinstance(problem.target, FunctionTarget):
        return None
    tree = pysource.parse(problem.source)
    node = pysource.find_def(tree, problem.target.qualname) if tree is not None else None
    if node is None:
        return None
    lines = pysource.lines(problem.source)
    decorators = tuple(_decorator_text(lines, d) for d in node.decorator_list)
    owner = problem.target.qualname.rpartition(".")[0] or None
    return TargetInfo(qualname=problem.target.qualname, owner=owner, is_async=isinstance(node, ast.AsyncFunctionDef),
                      is_class=isinstance(node, ast.ClassDef), decorators=decorators)


def _decorator_text(lines: list[str], decorator: ast.expr) -> str:
    end = decorator.end_lineno or decorator.lineno
    text = " ".join(_strip_ending(line).strip() for line in lines[decorator.lineno - 1:end])
    return text if text.startswith("@") else "@" + text


def signature(problem: Problem) -> str | None:
    """``def name(args) -> ret:`` (or ``async def``) of the target function, as written, up to
    the colon that opens its body."""
    if not isinstance(problem.target, FunctionTarget):
        return None
    tree = pysource.parse(problem.source)
    if tree is None or pysource.find_function(tree, problem.target.qualname) is None:
        return None
    code = target_code(problem)
    lines = [_strip_ending(line) for line in pysource.lines(code)]
    end = _header_end(code)
    if end is None:
        return lines[0].strip() if lines else None
    row, col = end
    return "\n".join([*lines[: row - 1], lines[row - 1][:col]]).strip()


def _header_end(code: str) -> tuple[int, int] | None:
    """(line, column) just past the colon that ends the first ``def``'s header."""
    depth = 0
    seen_def = False
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type == tokenize.NAME and token.string == "def":
                seen_def = True
            elif seen_def and token.type == tokenize.OP:
                if token.string in ("(", "[", "{"):
                    depth += 1
                elif token.string in (")", "]", "}"):
                    depth -= 1
                elif token.string == ":" and depth == 0:
                    return token.end
    except (tokenize.TokenError, SyntaxError):
        return None
    return None


def def_line(problem: Problem) -> int:
    """The line of the target's ``def`` (1 for the whole file, or where it cannot be found)."""
    return target_line(problem.source, problem.target)


def target_line(source: str, target: Target) -> int:
    """The line of ``target``'s ``def`` in ``source`` (1 for the whole file, or where it is not);
    a method's too, and never its first decorator's."""
    if isinstance(target, WholeFile):
        return 1
    tree = pysource.parse(source)
    node = pysource.find_def(tree, target.qualname) if tree is not None else None
    return node.lineno if node is not None else 1


def function_target_at(source: str, line: int) -> FunctionTarget | None:
    """The method or top-level function whose lines hold the 1-based ``line`` (a cursor), if any."""
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
