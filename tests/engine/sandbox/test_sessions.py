"""Sessions: the tests of one candidate are forked from one confined host, and nothing one test's
run does reaches the next — files, SysV segments, processes, module state — nor the host, which
the runs can neither kill nor stop from serving the next test."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from orps_engine import Verdict, load_problem, run_tests
from orps_engine.judge import open_sandbox
from orps_engine.sandbox import Limits, Sandbox

LIMITS = Limits.for_time_and_memory(2.0, 256)
Write = Callable[..., Path]


def program_runs(source: str, stdins: list[str], limits: Limits = LIMITS) -> list[str]:
    """The stdout of each run of ``source``, all in one sandbox (and so one session)."""
    with Sandbox() as box:
        outs = []
        for stdin in stdins:
            raw = box.run_program(source=source, filename="/tmp/p.py", stdin=stdin, limits=limits)
            assert raw.harness_error is None, raw.harness_error
            outs.append(raw.stdout)
        assert len(box._sessions.open) == 1  # every run was forked from the same host
    return outs


def test_session_a_file_left_by_one_run_is_gone_for_the_next() -> None:
    code = ("import os\nprint(sorted(os.listdir('.')))\nos.makedirs('d/e', exist_ok=True)\n"
            "open('d/e/f', 'w').write('x')\nopen('left', 'w').write('x')\nos.symlink('/etc', 'link')\n"
            "os.chmod('d', 0o500)\n")
    assert program_runs(code, ["", "", ""]) == ["[]\n"] * 3


def test_session_a_sysv_segment_of_one_run_is_not_seen_by_the_next() -> None:
    code = ("import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
            "print(libc.shmget(4242, 4096, 0))\n"  # IPC_CREAT not given: found, or -1
            "libc.shmget(4242, 4096, 0o1600)\n")  # IPC_CREAT | 0600: left for the next run
    assert program_runs(code, ["", ""]) == ["-1\n", "-1\n"]


def test_session_module_state_of_one_run_is_not_the_next_ones() -> None:
    code = "import json\nprint(getattr(json, 'seen', 0))\njson.seen = 1\n"
    assert program_runs(code, ["", ""]) == ["0\n", "0\n"]


def test_session_a_run_cannot_kill_its_host_and_the_next_test_runs(write: Write) -> None:
    code = ("import os, signal, sys\nfor sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP):\n"
            "    try:\n        os.kill(1, sig)\n    except OSError as exc:\n        print(exc.errno, file=sys.stderr)\n"
            "print(input())\n")
    path = write("sol.py", code)
    write("sol.tests.json", json.dumps({"tests": [{"input": "a\n", "output": "a\n"},
                                                  {"input": "b\n", "output": "b\n"}]}))
    suite = run_tests(load_problem(path))
    assert [r.verdict for r in suite.results] == [Verdict.AC, Verdict.AC]


def test_session_a_process_left_by_one_test_does_not_reach_the_next(write: Write) -> None:
    # With child processes allowed, a test leaves a child behind that writes into the working
    # directory later: the host kills it as the test ends, so the next test finds nothing.
    code = ("import os, sys, time\nprint(sorted(os.listdir('.')))\nsys.stdout.flush()\n"
            "if os.fork() == 0:\n    time.sleep(0.3)\n    open('late', 'w').write('x')\n    os._exit(0)\n")
    path = write("sol.py", code)
    write("sol.tests.json", json.dumps({"tests": [{"input": "", "output": "[]\n"}] * 3}))
    problem = replace(load_problem(path), allow_subprocesses=True)
    with open_sandbox(problem) as box:
        first = run_tests(problem, sandbox=box)
        import time

        time.sleep(0.5)  # the child would have written by now, had it lived
        second = run_tests(problem, sandbox=box)
    assert [r.verdict for r in first.results + second.results] == [Verdict.AC] * 6


def test_session_function_tests_share_the_workdir_within_a_test_only(write: Write) -> None:
    # The solution writes a file the test reads back (they share the working directory within a
    # test), and no test sees the file another left.
    code = "import os\n\ndef f(name):\n    found = os.listdir('.')\n    open(name, 'w').write(name)\n    return found\n"
    path = write("sol.py", code)
    asserts = [f"assert f('{n}') == [] and open('{n}').read() == '{n}'" for n in ("a", "b", "c")]
    write("sol.tests.json", json.dumps({"entry_point": "f", "asserts": asserts}))
    suite = run_tests(load_problem(path))
    assert [r.verdict for r in suite.results] == [Verdict.AC] * 3


def test_session_each_candidate_gets_its_own_and_old_ones_end() -> None:
    with Sandbox() as box:
        for n in range(8):
            raw = box.run_program(source=f"print({n})", filename="/tmp/p.py", stdin="", limits=LIMITS)
            assert raw.stdout == f"{n}\n"
        assert len(box._sessions.open) == 4  # the last few candidates' sessions, no more
        again = box.run_program(source="print(7)", filename="/tmp/p.py", stdin="", limits=LIMITS)
        assert again.stdout == "7\n"


def test_session_a_timed_out_run_does_not_break_the_session() -> None:
    with Sandbox() as box:
        limits = Limits.for_time_and_memory(0.3, 256)
        code = "n = int(input())\nwhile n:\n    pass\nprint('done')\n"
        slow = box.run_program(source=code, filename="/tmp/p.py", stdin="1\n", limits=limits)
        fast = box.run_program(source=code, filename="/tmp/p.py", stdin="0\n", limits=limits)
    assert slow.timed_out or (slow.signal is not None)
    assert fast.exit_code == 0 and fast.stdout == "done\n"
