"""The bytecode count (``runtime.opcount``): real sandbox runs, on this interpreter and on the
other CPython versions this machine has (3.12+ count with ``sys.monitoring``, older ones trace):
the same code counts exactly the same, the count grows with the work, and the code's own attempts
to stop the counter, or to write a count of its own, do not make it look cheaper."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from orps_engine import load_problem, run_tests
from orps_engine.judge import BYTECODES_NOT_COUNTED_CHILDREN
from orps_engine.sandbox import Limits, RawRun, Sandbox
from orps_engine.sandbox.runtime import protocol

LIMITS = Limits.for_time_and_memory(5.0, 256)
N = 20_000
LOOP = f"n = 0\nfor i in range({N}):\n    n += i\nprint(n)\n"
INTERFERED = "bytecodes not counted: the code interfered with the counter"


def _real_executable(name: str) -> str | None:
    """The interpreter a command name runs (pyenv's shims are scripts), or None where there is none."""
    try:
        done = subprocess.run([name, "-c", "import sys; print(sys.executable)"], capture_output=True, text=True,
                              timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _find(version: str) -> str | None:
    """``pythonX.Y`` on the path, else one pyenv installed."""
    installed = sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}"))
    return _real_executable(f"python{version}") or (_real_executable(str(installed[-1])) if installed else None)


def _interpreters() -> list[object]:
    found = [pytest.param(sys.executable, id=f"{sys.version_info[0]}.{sys.version_info[1]}")]
    for version in ("3.10", "3.12", "3.13"):
        if f"{sys.version_info[0]}.{sys.version_info[1]}" == version:
            continue
        path = _find(version)
        found.append(pytest.param(path, id=version, marks=pytest.mark.skipif(path is None,
                                                                               reason=f"no python{version} here")))
    return found


@pytest.fixture(scope="module", params=_interpreters())
def box(request: pytest.FixtureRequest) -> Sandbox:
    with Sandbox(python=request.param) as sandbox:
        yield sandbox  # type: ignore[misc]


def counted(box: Sandbox, source: str) -> RawRun:
    raw = box.run_program(source=source, filename="/tmp/p.py", stdin="", limits=LIMITS, count_bytecodes=True)
    assert raw.exit_code == 0, raw.stderr
    return raw


def test_the_same_code_counts_exactly_the_same(box: Sandbox) -> None:
    counts = {counted(box, LOOP).bytecodes for _ in range(3)}
    assert len(counts) == 1 and None not in counts


def test_a_loop_of_n_iterations_counts_more_than_n_over_2(box: Sandbox) -> None:
    once, twice = counted(box, LOOP).bytecodes, counted(box, LOOP.replace(str(N), str(2 * N))).bytecodes
    assert once is not None and twice is not None
    assert once > N / 2 and twice - once > N / 2


def test_a_run_not_asked_to_count_has_no_count(box: Sandbox) -> None:
    raw = box.run_program(source=LOOP, filename="/tmp/p.py", stdin="", limits=LIMITS)
    assert raw.bytecodes is None and not any(note.startswith("bytecodes") for note in raw.notes)


@pytest.mark.parametrize("off", ["import sys\nsys.settrace(None)\n", "import sys\nsys.setprofile(print)\n",
                                 "import threading\nthreading.settrace(None)\nthreading.setprofile(None)\n",
                                 "import sys\nsys.settrace(lambda *a: None)\n"])
def test_the_codes_own_trace_calls_do_not_stop_the_count(box: Sandbox, off: str) -> None:
    plain = counted(box, LOOP).bytecodes
    raw = counted(box, off + LOOP)
    assert plain is not None and raw.bytecodes is not None and raw.bytecodes >= plain, raw.notes


def test_work_hidden_in_a_trace_function_is_not_hidden(box: Sandbox) -> None:
    # A trace or profile function runs unseen by the counter: the code's own is never installed.
    hidden = ("import sys\ntotal = []\ndef hook(*a):\n    if not total:\n"
              "        total.append(sum(i for i in range(20000)))\n"
              "sys.setprofile(hook)\nlen('x')\nsys.setprofile(None)\nprint(total)\n")
    raw = counted(box, hidden)
    assert raw.stdout == "[]\n"  # the hook never ran: the work it hid was never done


def test_threads_are_counted(box: Sandbox) -> None:
    work = f"def work():\n    n = 0\n    for i in range({N}):\n        n += i\n"
    threaded = counted(box, f"import threading\n{work}t = threading.Thread(target=work)\nt.start()\nt.join()\n")
    raw_thread = counted(box, f"import _thread, threading\n{work}done = threading.Event()\n"
                              "_thread.start_new_thread(lambda: (work(), done.set()), ())\ndone.wait()\n")
    for raw in (threaded, raw_thread):
        assert raw.bytecodes is not None and raw.bytecodes > N / 2, raw.notes


def test_turning_off_the_frames_opcode_events_does_not_make_work_look_free(box: Sandbox) -> None:
    # Where the count comes from tracing (before 3.12), a frame can turn its own events off: the
    # counter sees it and the run has no count; with sys.monitoring the frame's flags do nothing.
    for off in ("import sys\nsys._getframe().f_trace_opcodes = False\n",
                "import sys\nsys._getframe().f_trace = None\n"):
        raw = counted(box, off + LOOP)
        if raw.bytecodes is None:
            assert INTERFERED in raw.notes
        else:
            assert raw.bytecodes > N / 2


def test_a_count_the_code_writes_itself_is_not_read(box: Sandbox) -> None:
    forged = (f'import os\nos.write({protocol.COUNT_FD}, b\'' + '{"bytecodes": 1, "intact": true, "token": '
              '"0123456789abcdef0123456789abcdef"}\')\nos._exit(0)\n')
    raw = counted(box, forged)
    assert raw.bytecodes is None and INTERFERED in raw.notes
    garbage = counted(box, f"import os\nos.write({protocol.COUNT_FD}, b'{{' * 100000)\n" + LOOP)
    assert garbage.bytecodes is None


def test_monitoring_refuses_the_counters_tool(box: Sandbox) -> None:
    raw = counted(box, "import sys\nmon = getattr(sys, 'monitoring', None)\nrefused = []\n"
                       "for tool in range(6):\n    try:\n        mon and mon.set_events(tool, 0)\n"
                       "        mon and mon.free_tool_id(tool)\n    except ValueError:\n        refused.append(tool)\n"
                       + LOOP)
    assert raw.bytecodes is not None and raw.bytecodes > N / 2, raw.notes


# -- function tests, through the judge ---------------------------------------------------------------
SUM = "def total(n):\n    s = 0\n    for i in range(n):\n        s += i\n    return s\n"


def test_a_function_test_counts_the_solution_exactly_alike_and_by_its_work(write: Callable[..., Path]) -> None:
    path = write("m.py", SUM)
    write("m.tests.json", '{"entry_point": "total", "asserts": ["assert total(10) == 45", '
                          f'"assert total({N}) == {N * (N - 1) // 2}"]}}')
    problem = load_problem(path)
    first = run_tests(problem, count_bytecodes=True)
    again = run_tests(problem, count_bytecodes=True)
    assert first.all_passed and [r.bytecodes for r in first.results] == [r.bytecodes for r in again.results]
    small, large = (r.bytecodes for r in first.results)
    assert small is not None and large is not None and large - small > N / 2
    assert first.total_bytecodes == small + large
    plain = run_tests(problem)
    assert plain.total_bytecodes is None and all(r.bytecodes is None for r in plain.results)


def test_child_processes_allowed_means_not_counted(write: Callable[..., Path]) -> None:
    from dataclasses import replace

    path = write("m.py", SUM)
    write("m.tests.json", '{"entry_point": "total", "asserts": ["assert total(10) == 45"]}')
    suite = run_tests(replace(load_problem(path), allow_subprocesses=True), count_bytecodes=True)
    assert suite.all_passed and suite.total_bytecodes is None
    assert BYTECODES_NOT_COUNTED_CHILDREN in suite.notes
