"""The sessions a sandbox keeps open: the runs of one role on one candidate, forked from one host.

Setting up a run's confinement (a warden, a PID namespace, a root of its own) costs more than
most tests do; a session pays it once and forks each test's run from a host that already has it
(``runtime.zygote``). A sandbox keeps the sessions of the last few candidates it ran, so that a
refine's final measurement, which alternates the original and the pick, stays warm, and ends the
oldest beyond that. A session is keyed by everything its host is set up from (role, code,
access): a run with another key never reuses it.
"""

from __future__ import annotations

import os
import shutil
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

KEPT = 4  # candidates whose sessions stay open: the original and the pick, with room to spare


@dataclass(frozen=True, slots=True)
class _Open:
    ids: tuple[int, ...]  # one session per role: a function test's solution and checker share the workdir
    workdir: Path


class Sessions:
    """Session ids and working directories by key; ``end`` tells the zygote a session is over."""

    def __init__(self, base: Path, uid: int | None, ids: Iterator[int], end: Callable[[int], None]) -> None:
        self.base, self.uid, self.ids, self.end = base, uid, ids, end
        self.open: OrderedDict[Hashable, _Open] = OrderedDict()

    def get(self, key: Hashable, roles: int) -> tuple[tuple[int, ...], str]:
        """The sessions for ``key`` (``roles`` of them, sharing a working directory), opened if need be."""
        found = self.open.get(key)
        if found is not None:
            self.open.move_to_end(key)
            return found.ids, str(found.workdir)
        found = self._new(roles)
        self.open[key] = found
        while len(self.open) > KEPT:
            _key, oldest = self.open.popitem(last=False)
            self._end(oldest)
        return found.ids, str(found.workdir)

    @contextmanager
    def once(self, roles: int = 1) -> Iterator[tuple[tuple[int, ...], str]]:
        """Sessions for one run only (a project's discovery), ended after it."""
        found = self._new(roles)
        try:
            yield found.ids, str(found.workdir)
        finally:
            self._end(found)

    def forget(self) -> None:
        """End them all (the zygote imported more: new hosts will have it)."""
        while self.open:
            _key, oldest = self.open.popitem(last=False)
            self._end(oldest)

    def _new(self, roles: int) -> _Open:
        ids = tuple(next(self.ids) for _ in range(roles))
        workdir = self.base / f"w{ids[0]}"
        workdir.mkdir(mode=0o700)
        if self.uid is not None:
            os.chown(workdir, self.uid, self.uid)
        return _Open(ids=ids, workdir=workdir)

    def _end(self, found: _Open) -> None:
        for session in found.ids:
            self.end(session)
        shutil.rmtree(found.workdir, ignore_errors=True)
