"""FileRun: one file's warm sandbox, last run and last refinement; and what makes a refinement
stale, the edit it makes and the file it would give, for a function and for a whole program."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from orps_engine import FileRun, FunctionTarget, ProblemKind, Refinement, WholeFile, load_problem
from orps_engine.model import Usage
from orps_engine.problem import Problem
from orps_engine.search import ORIGINAL, Node, RefineResult

ADD = "import time\n\n\ndef add(a, b):\n    return a - b\n\n\ndef other():\n    return 1\n"
ADD_FIXED = "def add(a, b):\n    return a + b\n"
SLEEPY = "import time\n\n\ndef add(a, b):\n    time.sleep(30)\n    return a + b\n"


def _sidecar(write: Callable[..., Path], source: str = ADD) -> Path:
    write("adder.tests.json", '{"entry_point": "add", "asserts": ["assert add(1, 2) == 3", "assert add(0, 0) == 0"]}')
    return write("adder.py", source)


def _refinement(problem: Problem, code: str) -> Refinement:
    original = Node(id=ORIGINAL, parent=None, round=-1, code="")
    best = Node(id="r0.k0.s0", parent=ORIGINAL, round=0, code=code)
    result = RefineResult(problem=problem, original=original, best=best, nodes=[original, best], usage=Usage(),
                          rounds_run=1)
    from orps_engine.problem.target import target_code

    return Refinement(result=result, started_source=target_code(problem))


async def test_file_run_keeps_the_last_run_and_reuses_its_sandbox(write: Callable[..., Path]) -> None:
    problem = load_problem(_sidecar(write))
    async with FileRun(problem.path) as run:
        first = await run.test(problem)
        box = run._sandbox
        second = await run.test(problem.with_source(ADD.replace("a - b", "a + b")))
        assert run._sandbox is box  # warm: the same zygote served both runs
    assert (first.passed, second.passed) == (1, 2)
    assert run.suite is second and run.problem is not None and "a + b" in run.problem.source
    assert run._sandbox is None  # closed


async def test_a_cancelled_run_leaves_no_result_and_the_next_run_starts_a_fresh_sandbox(
        write: Callable[..., Path]) -> None:
    problem = load_problem(_sidecar(write, SLEEPY))
    async with FileRun(problem.path) as run:
        task = asyncio.create_task(run.test(problem))
        while run._sandbox is None:
            await asyncio.sleep(0.05)
        dead = run._sandbox
        await asyncio.sleep(0.5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert run.suite is None and run._sandbox is None
        await _gone(dead.uid)  # the killed run's processes went with it
        suite = await run.test(problem.with_source(ADD))
        assert run._sandbox is not None and run._sandbox is not dead
    assert suite.passed == 1


async def _gone(uid: int | None, within_s: float = 5.0) -> None:
    """No process of the sandbox's own uid (as root; other users share theirs) within ``within_s``."""
    if uid is None:
        return
    deadline = time.monotonic() + within_s
    while (left := [p.pid for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real == uid]):
        assert time.monotonic() < deadline, f"processes {left} of the cancelled run are still alive"
        await asyncio.sleep(0.1)


def test_refinement_of_a_function_replaces_only_its_lines(write: Callable[..., Path]) -> None:
    problem = load_problem(_sidecar(write))
    refinement = _refinement(problem, ADD_FIXED)
    assert refinement.target == FunctionTarget("add")
    edited = "# a comment above\n" + ADD
    assert refinement.stale_reason(edited) is None  # edits elsewhere are fine
    edit = refinement.edit(edited)
    assert (edit.first, edit.last, edit.text) == (5, 6, ADD_FIXED)
    assert refinement.applied_to(edited) == edited.replace("    return a - b\n", "    return a + b\n")


def test_refinement_is_stale_once_its_function_changed_or_went(write: Callable[..., Path]) -> None:
    refinement = _refinement(load_problem(_sidecar(write)), ADD_FIXED)
    changed = ADD.replace("a - b", "b - a")
    assert refinement.stale_reason(changed) == "add changed since the refine began; refine it again"
    assert refinement.stale_reason("def other():\n    return 1\n") == "add is no longer in the file"


def test_refinement_of_a_program_replaces_the_whole_file(write: Callable[..., Path]) -> None:
    write("echo.tests.json", '{"tests": [{"input": "1\\n", "output": "1\\n"}]}')
    problem = load_problem(write("echo.py", "x = input()\r\nprint(x)\r\n"))
    assert (problem.kind, problem.target) == (ProblemKind.PROGRAM, WholeFile())
    refinement = _refinement(problem, "print(input())\n")
    text = problem.source
    assert refinement.stale_reason(text) is None
    assert refinement.edit(text).first == 1 and refinement.edit(text).last == 2
    assert refinement.applied_to(text) == "print(input())\r\n"  # the file's own line endings
    assert refinement.stale_reason(text + "# more\r\n") is not None
