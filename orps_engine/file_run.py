"""One file's runs: its warm sandbox, its last test run and its last refine.

The language server keeps one per open document and the CLI one per command, so both run tests
and refines the same way: in a sandbox kept warm between runs (and replaced after a cancelled run
killed it), with the last results at hand for views, and the last refine kept with the target's
text it started from, so that applying it later can tell whether the user changed the target.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InputError
from .judge import ProgressCallback, arun_tests, open_sandbox
from .problem import Problem, Target, TestCase, only_tests
from .problem.target import replacement, target_source
from .results import ExecutionResult, SuiteResult
from .sandbox import Sandbox

if TYPE_CHECKING:  # the search and the model client load with the first refine, not with every test run
    from .config import Settings
    from .model import ChatModel
    from .search import EventCallback, RefineResult


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetEdit:
    """Replace lines ``first``..``last`` (1-based, inclusive) of the current text by ``text``."""

    first: int
    last: int
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Refinement:
    """A finished refine, and the target as it was when the refine began; ``id`` names it, so that
    the refine history records each refinement once, whichever way it was decided."""

    result: RefineResult
    started_source: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    @property
    def target(self) -> Target:
        return self.result.problem.target

    @property
    def code(self) -> str:
        """The pick's code for the target (the original's when nothing beat it)."""
        return self.result.best.code or ""

    def stale_reason(self, text: str) -> str | None:
        """Why applying to ``text`` now would clobber the user's work, if it would."""
        try:
            current = target_source(text, self.target)
        except InputError:
            return f"{self.target} is no longer in the file"
        if current != self.started_source:
            return f"{self.target} changed since the refine began; refine it again"
        return None

    def is_applied(self, text: str) -> bool:
        """Is the pick already what the target is in ``text`` (the user applied it)?"""
        try:
            return self.applied_to(text) == text
        except InputError:
            return False

    def edit(self, text: str) -> TargetEdit:
        """The target's current lines in ``text`` and the pick to put there (check stale_reason first)."""
        placed = replacement(text, self.target, self.code)
        return TargetEdit(first=placed.first, last=placed.last, text=placed.text)

    def applied_to(self, text: str) -> str:
        """``text`` with the edit made: what the file would become (as a candidate is spliced)."""
        return replacement(text, self.target, self.code).applied_to(text)


class FileRun:
    """The runs of one solution file. Not thread-safe: one event loop drives it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problem: Problem | None = None
        self.suite: SuiteResult | None = None
        self.refinement: Refinement | None = None
        self._sandbox: Sandbox | None = None
        self._lock = asyncio.Lock()
        self._closing: set[asyncio.Future[None]] = set()

    async def test(self, problem: Problem, *, on_result: ProgressCallback | None = None,
                   count_bytecodes: bool = False) -> SuiteResult:
        """Run ``problem``'s tests in this file's warm sandbox, and keep the result. Cancelling
        kills the run at once; the next run starts a fresh sandbox. ``count_bytecodes``: each test
        is run again, counted (``judge.run_test``)."""
        async with self._lock:
            suite = await self._run(problem, on_result=on_result, count_bytecodes=count_bytecodes)
            self.problem, self.suite = problem, suite
        return suite

    async def test_one(self, problem: Problem, test_id: str) -> SuiteResult:
        """Run only the test ``test_id`` of ``problem`` (by number or id, as ``orps test -t``), one at
        a time with the file's other runs, and put its result in place of its last one. The other
        tests keep their last results only where that run was of the same code and the same test:
        a result is never shown against a test or a program it did not run."""
        one = only_tests(problem, [test_id])
        async with self._lock:
            ran = await self._run(one)
            fresh = {r.test_id: r for r in ran.results}
            kept = self._still_valid(problem)
            results = tuple(fresh.get(t.id) or kept[t.id] for t in problem.tests if t.id in fresh or t.id in kept)
            suite = SuiteResult(results=results, notes=ran.notes, startup_cpu_ms=ran.startup_cpu_ms)
            self.problem, self.suite = problem, suite
        return suite

    def _still_valid(self, problem: Problem) -> dict[str, ExecutionResult]:
        """The last run's results that hold for ``problem``: same code, same test."""
        if self.problem is None or self.suite is None or self.problem.source != problem.source:
            return {}
        before: dict[str, TestCase] = {t.id: t for t in self.problem.tests}
        now = {t.id: t for t in problem.tests}
        return {r.test_id: r for r in self.suite.results
                if r.test_id in now and before.get(r.test_id) == now[r.test_id]}

    async def _run(self, problem: Problem, *, on_result: ProgressCallback | None = None,
                   count_bytecodes: bool = False) -> SuiteResult:
        """Under the lock: the tests in the warm sandbox (a fresh one after a cancelled run)."""
        if self._sandbox is None:
            self._sandbox = await asyncio.to_thread(open_sandbox, problem)
        box = self._sandbox
        try:
            return await arun_tests(problem, sandbox=box, on_result=on_result, count_bytecodes=count_bytecodes)
        except asyncio.CancelledError:  # arun_tests killed the sandbox: close it off the loop
            self._sandbox = None
            self._close_later(box)
            raise

    def forget_tests(self) -> None:
        """The file has no tests (any more): nothing of the last run holds."""
        self.problem = self.suite = None

    async def refine(self, problem: Problem, settings: Settings, model: ChatModel, *,
                     on_event: EventCallback | None = None) -> Refinement:
        """Search for a better target; the result is kept (with the target as it was now) until
        the next refine begins."""
        self.refinement = None
        started = target_source(problem.source, problem.target)
        from .search import refine  # here, not at the top: see the imports above

        result = await refine(problem, settings, model, on_event=on_event)
        self.refinement = Refinement(result=result, started_source=started)
        return self.refinement

    async def close(self) -> None:
        box, self._sandbox = self._sandbox, None
        if box is not None:
            await asyncio.to_thread(box.close)

    async def __aenter__(self) -> FileRun:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _close_later(self, box: Sandbox) -> None:
        future = asyncio.get_running_loop().run_in_executor(None, box.close)
        self._closing.add(future)
        future.add_done_callback(self._closing.discard)
