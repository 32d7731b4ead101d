"""Behaviour kept, not just asserts passed: a candidate must do, call for call, what the original
did on every test the original passes.

The checker records each call the tests make into the code under test (what it returned, what it
raised, which arguments it changed, what it printed: ``sandbox.runtime.behaviour``). A refine
records the original twice; calls that differ between those two runs (time, randomness) are not
binding. A candidate's call then matches when:

- values are equal as Python compares them: numbers by value (floats within a relative 1e-9 or an
  absolute 1e-12), lists and tuples in order, dicts and sets whatever their order, numpy arrays and
  pandas frames element by element (the same tolerance for floats), an object left in the
  solution's process by its type and its attributes, an object of a shared class by its class
  and attributes;
- exceptions are of the same type (messages may differ);
- the same arguments changed, to equal values; and it printed the same text.

A mismatch makes the test WA, with a counterexample in its detail: what a weakly tested function
would otherwise get away with.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from typing import Any

from .results import Behaviour, Call, ExecutionResult, SuiteResult, Verdict
from .text import clip

REL_TOL = 1e-9
ABS_TOL = 1e-12
SHOWN = 80


@dataclass(frozen=True, slots=True, kw_only=True)
class Baseline:
    """The original's calls on each test it passes, and which of them are binding."""

    calls: dict[str, tuple[Call, ...]]  # test id -> calls
    unstable: dict[str, frozenset[int]]  # test id -> indices that differed between the two runs
    not_binding: tuple[str, ...]  # tests the original fails: their calls bind no one

    @classmethod
    def of(cls, first: SuiteResult, second: SuiteResult) -> Baseline:
        again = {r.test_id: r for r in second.results}
        calls: dict[str, tuple[Call, ...]] = {}
        unstable: dict[str, frozenset[int]] = {}
        failing = []
        for result in first.results:
            other = again.get(result.test_id)
            if not result.verdict.passed or result.behaviour is None:
                if not result.verdict.passed:
                    failing.append(result.test_id)
                continue
            calls[result.test_id] = result.behaviour.calls
            unstable[result.test_id] = _unstable(result.behaviour, other.behaviour if other else None)
        return cls(calls=calls, unstable=unstable, not_binding=tuple(failing))

    @property
    def note(self) -> str | None:
        if not self.not_binding:
            return None
        shown = ", ".join(self.not_binding[:5]) + (" ..." if len(self.not_binding) > 5 else "")
        return f"the original fails {len(self.not_binding)} test(s) ({shown}): its behaviour there binds no candidate"


def _unstable(first: Behaviour, second: Behaviour | None) -> frozenset[int]:
    if second is None:
        return frozenset(range(len(first.calls)))
    if len(first.calls) != len(second.calls):  # the run itself varies: nothing after the fork binds
        common = min(len(first.calls), len(second.calls))
        differing = {i for i in range(common) if mismatch(first.calls[i], second.calls[i]) is not None}
        return frozenset(differing | set(range(common, len(first.calls))))
    return frozenset(i for i, (a, b) in enumerate(zip(first.calls, second.calls)) if mismatch(a, b) is not None)


def check(baseline: Baseline, suite: SuiteResult) -> SuiteResult:
    """``suite`` with every passing test whose calls differ from the original's made WA."""
    return replace(suite, results=tuple(_checked(baseline, r) for r in suite.results))


def _checked(baseline: Baseline, result: ExecutionResult) -> ExecutionResult:
    original = baseline.calls.get(result.test_id)
    if not result.verdict.passed or original is None or result.behaviour is None:
        return result
    found = first_difference(original, result.behaviour.calls, baseline.unstable.get(result.test_id, frozenset()))
    if found is None:
        return result
    expected, actual, detail = found
    return replace(result, verdict=Verdict.WA, expected=expected, actual=actual,
                   detail=f"behaviour changed: on {result.test_id}, {detail}")


def first_difference(original: tuple[Call, ...], candidate: tuple[Call, ...],
                     unstable: frozenset[int]) -> tuple[str, str, str] | None:
    """(expected, actual, what differs) for the first binding call that differs, or None."""
    for index, (before, after) in enumerate(zip(original, candidate)):
        if index in unstable:
            continue
        what = mismatch(before, after)
        if what is not None:
            shown_before, shown_after = _outcome(before), _outcome(after)
            return shown_before, shown_after, f"call {index + 1} ({before.label}): {what}"
    binding = [i for i in range(len(original)) if i not in unstable]
    if len(candidate) < len(original) and any(i >= len(candidate) for i in binding):
        return (f"{len(original)} call(s)", f"{len(candidate)} call(s)",
                f"the original made {len(original)} call(s), the candidate {len(candidate)}")
    if len(candidate) > len(original) and not unstable:
        return (f"{len(original)} call(s)", f"{len(candidate)} call(s)",
                f"the original made {len(original)} call(s), the candidate {len(candidate)}")
    return None


def mismatch(before: Call, after: Call) -> str | None:
    """What differs between two records of a call, in words (None: they match)."""
    if before.label != after.label:
        return f"the original called {before.label}, the candidate {after.label}"
    if before.raised != after.raised:
        return f"the original {_outcome(before)}, the candidate {_outcome(after)}"
    if before.raised is None and not same(before.returned, after.returned):
        return f"the original returned {show(before.returned)}, the candidate {show(after.returned)}"
    if len(before.mutated) != len(after.mutated) or not all(same(a, b) for a, b in zip(before.mutated, after.mutated)):
        return (f"the original left its arguments as {', '.join(map(show, before.mutated)) or 'they were'}, "
                f"the candidate as {', '.join(map(show, after.mutated)) or 'they were'}")
    if before.printed != after.printed:
        shown_before, shown_after = clip(repr(before.printed), SHOWN), clip(repr(after.printed), SHOWN)
        return f"the original printed {shown_before}, the candidate {shown_after}"
    return None


def _outcome(call: Call) -> str:
    return f"raised {call.raised}" if call.raised is not None else f"returned {show(call.returned)}"


# -- comparing descriptions -----------------------------------------------------------------------
def same(a: Any, b: Any) -> bool:
    """Do two descriptions describe equal values (see the module docstring)?"""
    number_a, number_b = _number(a), _number(b)
    if number_a is not None and number_b is not None:
        return _close(number_a, number_b)
    if type(a) is list and type(b) is list:  # inside a description's body
        return _same_sequence(a, b)
    if type(a) is not dict or type(b) is not dict:
        return type(a) is type(b) and a == b
    if a.keys() != b.keys():
        return False
    ((tag, body_a),) = a.items() if len(a) == 1 else (("", a),)
    body_b = b[tag] if tag else b
    if tag in ("l", "t", "c"):
        return _same_sequence(body_a, body_b)
    if tag == "s":
        return _same_unordered(body_a, body_b)
    if tag == "d":
        return _same_unordered([_pair(p) for p in body_a], [_pair(p) for p in body_b])
    if tag in ("h", "o", "nd", "df", "ser"):
        return _same_sequence(body_a, body_b)
    return bool(a == b)


def _pair(pair: Any) -> Any:
    return {"t": pair} if type(pair) is list else pair


def _number(value: Any) -> float | None:
    if type(value) is int:
        return float(value)
    if type(value) is dict and len(value) == 1 and "f" in value:
        inner = value["f"]
        return float(inner) if isinstance(inner, (int, float, str)) else None
    return None


def _close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def _same_sequence(a: Any, b: Any) -> bool:
    if type(a) is not list or type(b) is not list:
        return bool(a == b)
    return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))


def _same_unordered(a: Any, b: Any) -> bool:
    """Equal as multisets: exact matches first (cheap), then one by one with tolerance."""
    if type(a) is not list or type(b) is not list or len(a) != len(b):
        return False
    left = sorted(a, key=_key)
    right = sorted(b, key=_key)
    if all(same(x, y) for x, y in zip(left, right)):
        return True
    unmatched = list(b)
    for item in a:
        for i, candidate in enumerate(unmatched):
            if same(item, candidate):
                del unmatched[i]
                break
        else:
            return False
    return True


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def show(value: Any) -> str:
    """A description as people would write the value, cut short."""
    return clip(_show(value), SHOWN)


def _show(value: Any) -> str:
    if type(value) is not dict or len(value) != 1:
        return repr(value)
    ((tag, body),) = value.items()
    shows = {
        "f": lambda: repr(float(body)) if not isinstance(body, str) else body,
        "l": lambda: "[" + ", ".join(map(_show, body)) + "]",
        "t": lambda: "(" + ", ".join(map(_show, body)) + ("," if len(body) == 1 else "") + ")",
        "s": lambda: "{" + ", ".join(map(_show, body)) + "}" if body else "set()",
        "d": lambda: "{" + ", ".join(f"{_show(k)}: {_show(v)}" for k, v in body) + "}",
        "h": lambda: f"<{body[0]} {_show(body[1])}>",
        "o": lambda: f"{str(body[0]).rpartition('.')[2]}({_show(body[2])})",
        "nd": lambda: f"array({_show({'l': body[2]})})",
        "r": lambda: str(body),
        "big": lambda: f"<a large {body}>",
    }
    try:
        return shows[tag]() if tag in shows else repr(value)
    except (TypeError, IndexError, ValueError, KeyError):
        return repr(value)
