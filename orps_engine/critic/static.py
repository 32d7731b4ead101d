"""Static figures of a candidate: lines of code and cyclomatic complexity (McCabe, from the AST)."""

from __future__ import annotations

import ast
from dataclasses import dataclass

_BRANCHES = (ast.If, ast.IfExp, ast.For, ast.AsyncFor, ast.While, ast.ExceptHandler, ast.With, ast.AsyncWith,
             ast.Assert, ast.comprehension, ast.match_case)


@dataclass(frozen=True, slots=True, kw_only=True)
class StaticMetrics:
    lines_of_code: int
    complexity: int  # 1 + decision points over the whole code


def static_metrics(code: str) -> StaticMetrics:
    lines = [line.strip() for line in code.splitlines()]
    loc = sum(1 for line in lines if line and not line.startswith("#"))
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return StaticMetrics(lines_of_code=loc, complexity=1)
    decisions = 0
    for node in ast.walk(tree):
        if isinstance(node, _BRANCHES):
            decisions += 1
        elif isinstance(node, ast.BoolOp):
            decisions += len(node.values) - 1
    return StaticMetrics(lines_of_code=loc, complexity=1 + decisions)
