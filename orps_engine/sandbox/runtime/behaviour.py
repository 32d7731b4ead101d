"""What the code under test did, call by call, as the checker saw it: the behaviour a candidate
must keep, not only the asserts it must pass.

Every call the test side makes into the solution's process is recorded here, in order: which
callable (named by how the test reached it: ``mean``, ``Stats().spread``), what it returned (a
*description*: plain JSON that compares like the value; an object left in the solution's process
by its type and state), the exception type it raised, the arguments it changed in place, and
what it printed. The parent compares a candidate's records with the original's
(``orps_engine.behaviour``); nothing is compared here, and no expected value comes here.

Descriptions are bounded (a node budget per value, a number of calls per test), so a huge or
self-referencing value costs a fixed amount. Standard library only.
"""

from __future__ import annotations

import math
import time
from typing import Any

from .protocol import CallRecord, Description

MAX_CALLS = 200
MAX_NODES = 20_000
MAX_DEPTH = 30
MAX_TEXT = 2000
MAX_REPR = 200


class _Budget(Exception):
    """The value is larger than a description may be."""


class Recorder:
    """The behaviour of one test. ``snapshot`` asks the solution's process for an object's type
    and state (``rpc``'s ``snapshot`` operation); ``handle`` tells a proxy from plain data."""

    def __init__(self, snapshot: Any, is_handle: Any) -> None:
        self._snapshot, self._is_handle = snapshot, is_handle
        self.calls: list[CallRecord] = []
        self.truncated = False
        self.busy_s = 0.0  # time spent describing (not the solution's)

    def record(self, label: str, returned: Any, raised: BaseException | None, mutated: list[Any],
               printed: str) -> None:
        if len(self.calls) >= MAX_CALLS:
            self.truncated = True
            return
        started = time.perf_counter()
        try:
            self.calls.append({"label": label[:MAX_REPR],
                               "returned": None if raised is not None else self.describe(returned),
                               "raised": _exception_name(raised) if raised is not None else None,
                               "mutated": [self.describe(value) for value in mutated],
                               "printed": printed[:MAX_TEXT]})
        finally:
            self.busy_s += time.perf_counter() - started

    def describe(self, value: Any) -> Description:
        nodes = [0]
        try:
            return self._describe(value, 0, nodes, set())
        except _Budget:
            return {"big": type(value).__name__}
        except RecursionError:
            return {"big": type(value).__name__}

    def _describe(self, value: Any, depth: int, nodes: list[int], seen: set[int]) -> Description:
        nodes[0] += 1
        if nodes[0] > MAX_NODES or depth > MAX_DEPTH:
            raise _Budget
        kind = type(value)
        if value is None or kind in (bool, int, str):
            return value
        if kind is float:
            return {"f": value if math.isfinite(value) else repr(value)}
        if self._is_handle(value):
            return self._handle(value, depth, nodes, seen)
        inner = [depth + 1, nodes, seen]
        if kind in (list, tuple):
            return {"l" if kind is list else "t": [self._describe(x, *inner) for x in value]}  # type: ignore[arg-type]
        if kind in (set, frozenset):
            return {"s": sorted((self._describe(x, *inner) for x in value), key=repr)}  # type: ignore[arg-type]
        if kind is dict:
            return {"d": [[self._describe(k, *inner), self._describe(v, *inner)]  # type: ignore[arg-type]
                          for k, v in value.items()]}
        if kind in (bytes, bytearray):
            return {"b": bytes(value[:MAX_TEXT]).hex(), "n": len(value)}
        if kind is complex:
            return {"c": [value.real, value.imag]}
        module = getattr(kind, "__module__", "") or ""
        if module.startswith("numpy"):
            return self._numpy(value, depth, nodes, seen)
        if module.startswith("pandas"):
            return self._pandas(value, depth, nodes, seen)
        if isinstance(value, (list, tuple, dict, set, frozenset, str, int, float)):  # a subclass, by value
            base = next(b for b in kind.__mro__ if b in (list, tuple, dict, set, frozenset, str, int, float))
            return {"o": [_qualified(kind), self._describe(base(value), *inner),  # type: ignore[arg-type]
                          self._describe(_state(value), *inner)]}  # type: ignore[arg-type]
        state = _state(value)
        if state is not None:
            return {"o": [_qualified(kind), None, self._describe(state, *inner)]}  # type: ignore[arg-type]
        return {"r": _repr(value)}

    def _handle(self, value: Any, depth: int, nodes: list[int], seen: set[int]) -> Description:
        key = id(value)
        if key in seen:
            return {"cycle": None}
        seen.add(key)
        try:
            snapshot = self._snapshot(value)
        except Exception as exc:
            return {"h": [f"<no snapshot: {_exception_name(exc)}>", None, None]}
        if not (type(snapshot) is list and snapshot and type(snapshot[0]) is str):
            return {"h": ["<malformed snapshot>", None, None]}
        name, state, base = [*snapshot, None, None][:3]
        return {"h": [name[:MAX_REPR], self._describe(state, depth + 1, nodes, seen),
                      self._describe(base, depth + 1, nodes, seen)]}

    def _numpy(self, value: Any, depth: int, nodes: list[int], seen: set[int]) -> Description:
        shape = getattr(value, "shape", None)
        if hasattr(value, "tolist") and shape is not None:
            items = value.ravel().tolist() if hasattr(value, "ravel") else value.tolist()
            if len(items) > MAX_NODES:
                raise _Budget
            return {"nd": [str(getattr(value, "dtype", "")), list(shape),
                           [self._describe(x, depth + 1, nodes, seen) for x in items]]}
        if hasattr(value, "item"):
            return self._describe(value.item(), depth + 1, nodes, seen)
        return {"r": _repr(value)}

    def _pandas(self, value: Any, depth: int, nodes: list[int], seen: set[int]) -> Description:
        kind = type(value).__name__
        if kind == "DataFrame":
            columns = [self._describe(c, depth + 1, nodes, seen) for c in value.columns.tolist()]
            index = [self._describe(i, depth + 1, nodes, seen) for i in value.index.tolist()]
            rows = [self._describe(row, depth + 1, nodes, seen) for row in value.values.tolist()]
            return {"df": [columns, index, rows]}
        if kind == "Series":
            return {"ser": [self._describe(value.index.tolist(), depth + 1, nodes, seen),
                            self._describe(value.tolist(), depth + 1, nodes, seen)]}
        return {"r": _repr(value)}


def _state(value: Any) -> Any:
    """An object's own attributes (``__dict__``, else its slots), or None if it has neither."""
    attributes = getattr(value, "__dict__", None)
    if type(attributes) is dict:
        return {k: v for k, v in attributes.items() if type(k) is str}
    slots = [s for c in type(value).__mro__ for s in getattr(c, "__slots__", ()) if isinstance(s, str)]
    found = {s: getattr(value, s) for s in slots if s not in ("__dict__", "__weakref__") and hasattr(value, s)}
    return found or None


def _qualified(kind: type) -> str:
    return f"{getattr(kind, '__module__', '?')}.{getattr(kind, '__qualname__', '?')}"[:MAX_REPR]


def _exception_name(exc: BaseException) -> str:
    info = getattr(exc, "orps_remote", None)
    name = info.get("type") if isinstance(info, dict) else None
    return str(name or type(exc).__name__)[:MAX_REPR]


def _repr(value: Any) -> str:
    try:
        return repr(value)[:MAX_REPR]
    except Exception as exc:
        return f"<unrepresentable {type(value).__name__}: {type(exc).__name__}>"
