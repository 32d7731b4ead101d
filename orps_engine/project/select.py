"""The project tests that exercise a target: those that called it (directly or through other code)
when they ran on the user's code, skipped ones left out; and, when there are none, why."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..problem import FunctionTarget, Target, TestCase, TestKind, pysource
from .discovery import DiscoveredTest, Discovery

NOT_RUN = frozenset({"skipped"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Selection:
    tests: tuple[TestCase, ...]
    collected: int
    why_none: str | None = None  # when ``tests`` is empty: what was found instead
    notes: tuple[str, ...] = ()


def select_tests(discovery: Discovery, target: Target) -> Selection:
    chosen = [t for t in discovery.tests if _exercises(t, target) and t.outcome not in NOT_RUN]
    skipped = [t for t in discovery.tests if t.outcome in NOT_RUN]
    notes = [f"pytest skipped {len(skipped)} of the {len(discovery.tests)} collected test(s): a skipped test never "
             "runs, so it is never selected"] if skipped else []
    notes += [f"collecting failed: {error}" for error in discovery.collect_errors[:3]]
    tests = tuple(_case(t) for t in chosen)
    return Selection(tests=tests, collected=len(discovery.tests), notes=tuple(notes),
                     why_none=None if tests else _why_none(discovery, target))


def _exercises(test: DiscoveredTest, target: Target) -> bool:
    if isinstance(target, FunctionTarget):
        return target.qualname in test.calls
    return bool(test.calls)


def _why_none(discovery: Discovery, target: Target) -> str:
    what = f"`{target.qualname}`" if isinstance(target, FunctionTarget) else f"a function of {discovery.target.name}"
    if discovery.error:
        return f"no project tests could be collected: {discovery.error}"
    if not discovery.tests:
        errors = f" ({len(discovery.collect_errors)} file(s) failed to collect)" if discovery.collect_errors else ""
        return f"pytest collected no tests under {discovery.root}{errors}"
    where = _where(discovery)
    return f"{len(discovery.tests)} test(s) collected in {where}, none calls {what}"


def _where(discovery: Discovery) -> str:
    folders = {t.file.parent for t in discovery.tests}
    common = Path(os.path.commonpath([str(f) for f in folders])) if folders else discovery.root
    try:
        shown = common.relative_to(discovery.root)
    except ValueError:
        return str(common)
    return f"{shown}/" if str(shown) != "." else f"{discovery.root.name}/"


def _case(test: DiscoveredTest) -> TestCase:
    return TestCase(id=test.nodeid, kind=TestKind.PYTEST, path=test.file, line=test.line,
                    source=_test_source(test.file, test.function), exercises=tuple(sorted(test.calls)))


def _test_source(file: Path, function: str) -> str | None:
    """The test function's own lines, for people and prompts (pytest runs the file itself)."""
    try:
        text = file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    tree = pysource.parse(text)
    node = pysource.find_function(tree, function) if tree is not None else None
    if node is None:
        return None
    first, last = pysource.def_span(node)
    return "".join(text.splitlines(keepends=True)[first - 1:last])
