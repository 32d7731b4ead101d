"""Static figures of a candidate: lines of code and cyclomatic complexity (McCabe, from the AST)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache

from .. import pyast

_BRANCHES = (ast.If, ast.IfExp, ast.For, ast.AsyncFor, ast.While, ast.ExceptHandler, ast.With, ast.AsyncWith,
             ast.Assert, ast.comprehension, ast.match_case)


@dataclass(frozen=True, slots=True, kw_only=True)
class StaticMetrics:
    lines_of_code: int
    complexity: int  # 1 + decision points over the whole code


@lru_cache(maxsize=4096)
def static_metrics(code: str) -> StaticMetrics:
    """Cached by the code itself: the final pick compares every candidate with the best so far after
    each candidate of a round, and parsing each again made a refine's own CPU grow with the square of
    its candidates."""
    lines = [line.strip() for line in code.splitlines()]
    loc = sum(1 for line in lines if line and not line.startswith("#"))
    try:
        tree = pyast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return StaticMetrics(lines_of_code=loc, complexity=1)
    decisions = 0
    for node in ast.walk(tree):
        if isinstance(node, _BRANCHES):
            decisions += 1
        elif isinstance(node, ast.BoolOp):
            decisions += len(node.values) - 1
    return StaticMetrics(lines_of_code=loc, complexity=1 + decisions)
