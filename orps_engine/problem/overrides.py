"""Limits and the comparison set from outside the tests (the command line, the editor's settings),
checked as a tests file's are and applied over the tests' own, in one place for every caller."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ..errors import InputError
from . import limits
from .compare import RULE as COMPARE_RULE
from .compare import missing_checker, parse_comparison
from .model import Problem


@dataclass(frozen=True, slots=True, kw_only=True)
class Overrides:
    """Each as the user wrote it (None: keep the tests' own): milliseconds, megabytes, a mode."""

    time_limit_ms: object = None
    memory_limit_mb: object = None
    output_limit_mb: object = None
    compare: object = None
    allow_subprocesses: object = None


# Field -> the name the user knows it by, for messages (``--time-limit``, ``orps.timeLimit``).
Naming = Callable[[str], str]


def with_overrides(problem: Problem, overrides: Overrides, name: Naming, source: str) -> Problem:
    changes: dict[str, Any] = {}

    def bad(field: str, rule: str, value: object) -> InputError:
        return InputError(f"{name(field)}: {rule} (got {value!r} from {source})")

    if overrides.time_limit_ms is not None:
        changes["time_limit_s"] = limits.time_limit_s(overrides.time_limit_ms)
        if changes["time_limit_s"] is None:
            raise bad("time_limit_ms", limits.TIME_LIMIT_RULE, overrides.time_limit_ms)
    if overrides.memory_limit_mb is not None:
        changes["memory_limit_mb"] = limits.memory_limit_mb(overrides.memory_limit_mb)
        if changes["memory_limit_mb"] is None:
            raise bad("memory_limit_mb", limits.MEMORY_LIMIT_RULE, overrides.memory_limit_mb)
    if overrides.output_limit_mb is not None:
        changes["output_limit_mb"] = limits.memory_limit_mb(overrides.output_limit_mb)
        if changes["output_limit_mb"] is None:
            raise bad("output_limit_mb", limits.OUTPUT_LIMIT_RULE, overrides.output_limit_mb)
    if overrides.compare is not None:
        changes["compare"] = parse_comparison(overrides.compare)
        if changes["compare"] is None:
            raise bad("compare", missing_checker(overrides.compare, None) or COMPARE_RULE, overrides.compare)
    if overrides.allow_subprocesses is not None:
        if not isinstance(overrides.allow_subprocesses, bool):
            raise bad("allow_subprocesses", "expected true or false", overrides.allow_subprocesses)
        changes["allow_subprocesses"] = overrides.allow_subprocesses
    return replace(problem, **changes) if changes else problem


def only_tests(problem: Problem, wanted: list[str]) -> Problem:
    """The problem with only the tests named (by number, as the table shows them, or by id: a
    project test's node id, or the end of one); an unknown name is an error that lists the names."""
    chosen = []
    for name in wanted:
        found = [t for t in problem.tests if t.id == name or t.id.endswith(f"::{name}")]
        if not found:
            known = ", ".join(t.id for t in problem.tests[:10]) + (" ..." if len(problem.tests) > 10 else "")
            raise InputError(f"no test {name!r} among {len(problem.tests)}: {known}",
                             hint="name a test by the number or id the table shows")
        chosen += [t for t in found if t not in chosen]
    return replace(problem, tests=tuple(chosen))
