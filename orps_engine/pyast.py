"""The engine's one way to parse Python source: ``ast.parse`` behind a lock.

CPython 3.11's AST constructor keeps its recursion depth in interpreter-wide state; two threads
parsing at once (the server's and the refine's worker threads do) can corrupt it and raise
``SystemError: AST constructor recursion depth mismatch`` (CPython gh-106905). Parses are short,
so serialising them costs nothing that matters.
"""

from __future__ import annotations

import ast
import threading

_LOCK = threading.Lock()


def parse(source: str, filename: str = "<unknown>") -> ast.Module:
    """``ast.parse(source, filename)``, one at a time (raises what it raises: SyntaxError, ...)."""
    with _LOCK:
        return ast.parse(source, filename)
