"""Running candidates during a refine: warm sandboxes, one per core, a cache so that the same
code is never run twice on the same tests within a refine, and the behaviour check against the
original (``orps_engine.behaviour``) once its baseline is recorded."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import AsyncIterator

from ..behaviour import Baseline, check
from ..judge import arun_tests, open_sandbox
from ..problem import Problem
from ..problem.target import splice
from ..results import SuiteResult
from ..sandbox import Sandbox


class Evaluator:
    def __init__(self, problem: Problem, size: int | None = None) -> None:
        self.problem = problem
        self.size = max(1, size or min(4, os.cpu_count() or 1))
        self._idle: asyncio.Queue[Sandbox] = asyncio.Queue()
        self._all: list[Sandbox] = []
        self._cache: dict[str, asyncio.Future[SuiteResult]] = {}
        self.runs = 0  # suites actually run (not answered from the cache)
        self.baseline: Baseline | None = None

    async def start(self) -> None:
        boxes = await asyncio.gather(*(asyncio.to_thread(open_sandbox, self.problem) for _ in range(self.size)))
        for box in boxes:
            self._all.append(box)
            self._idle.put_nowait(box)

    async def record_baseline(self, original: SuiteResult) -> Baseline:
        """The original's behaviour, from its run and one more (what varies between them binds no
        one); every evaluation after this one is checked against it."""
        if all(r.behaviour is None for r in original.results):  # a program: its output is its behaviour
            again = original
        else:
            again = await self.run(self.problem.source)
        self.baseline = Baseline.of(original, again)
        return self.baseline

    async def evaluate(self, code: str) -> SuiteResult:
        """The suite result of the target replaced by ``code`` (cached by the full source), its
        behaviour checked against the original's once there is a baseline."""
        suite = await self._evaluate(code)
        return check(self.baseline, suite) if self.baseline is not None else suite

    async def _evaluate(self, code: str) -> SuiteResult:
        source = splice(self.problem, code)
        key = hashlib.sha256(source.encode()).hexdigest()
        cached = self._cache.get(key)
        if cached is not None:
            return await asyncio.shield(cached)
        future: asyncio.Future[SuiteResult] = asyncio.get_running_loop().create_future()
        self._cache[key] = future
        try:
            result = await self.run(source)
        except asyncio.CancelledError:
            del self._cache[key]
            future.cancel()
            raise
        except Exception as exc:
            del self._cache[key]
            future.set_exception(exc)
            future.exception()  # whoever waits re-raises it; nobody waiting is fine too
            raise
        future.set_result(result)
        return result

    async def run(self, source: str, *, box: Sandbox | None = None, count_bytecodes: bool = False) -> SuiteResult:
        """Run the suite on ``source`` now (no cache): for repeated measurements. ``box``: in that
        sandbox (one ``held``), else in the next idle one. ``count_bytecodes``: each test counted
        too, in a run of its own (``judge.run_test``)."""
        if box is not None:
            self.runs += 1
            return await arun_tests(self.problem.with_source(source), sandbox=box, count_bytecodes=count_bytecodes)
        async with self.held() as idle:
            return await self.run(source, box=idle, count_bytecodes=count_bytecodes)

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[Sandbox]:
        """One sandbox, kept from the other evaluations meanwhile: runs to be compared with each
        other run in one zygote, so that no difference between sandboxes tells them apart."""
        box = await self._idle.get()
        try:
            yield box
        finally:  # once cancelled, the box is dead: only close() will touch it again
            self._idle.put_nowait(box)

    async def close(self) -> None:
        await asyncio.gather(*(asyncio.to_thread(box.close) for box in self._all))
