"""The sandbox against adversarial code: each test is an attack a solution (or a model rewarded
for passing) could try, run through the real engine, with the outcome the README promises."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from orps_engine import Verdict, load_problem, run_tests
from orps_engine.judge import open_sandbox
from orps_engine.results import SuiteResult


def stdio(write: Callable[..., Path], code: str, tests: list[dict[str, str]], time_limit_ms: int = 1000) -> Path:
    path = write("sol.py", code)
    write("sol.tests.json", json.dumps({"timeLimit": time_limit_ms, "tests": tests}))
    return path


def function(write: Callable[..., Path], code: str, asserts: list[str], time_limit_ms: int = 1000) -> Path:
    path = write("sol.py", code)
    write("sol.tests.json", json.dumps({"entry_point": "f", "asserts": asserts, "timeLimit": time_limit_ms}))
    return path


def run(path: Path) -> SuiteResult:
    return run_tests(load_problem(path))


def verdicts(suite: SuiteResult) -> list[Verdict]:
    return [r.verdict for r in suite.results]


ONE = [{"input": "", "output": "ok\n"}]


# -- time --------------------------------------------------------------------------------------
def test_execute_infinite_loop_is_tle(write: Callable[..., Path]) -> None:
    suite = run(stdio(write, "while True:\n    pass\n", ONE))
    assert verdicts(suite) == [Verdict.TLE]


def test_execute_busy_loop_inside_try_is_tle(write: Callable[..., Path]) -> None:
    code = "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass\n"
    suite = run(stdio(write, code, ONE))
    assert verdicts(suite) == [Verdict.TLE]


def test_execute_sleep_past_deadline_is_tle_by_wall_clock(write: Callable[..., Path]) -> None:
    suite = run(stdio(write, "import time\ntime.sleep(30)\nprint('ok')\n", ONE))
    result = suite.results[0]
    assert result.verdict is Verdict.TLE
    assert result.detail is not None and "deadline" in result.detail


def test_execute_function_infinite_loop_is_tle(write: Callable[..., Path]) -> None:
    suite = run(function(write, "def f(x):\n    while True:\n        pass\n", ["assert f(1) == 1"]))
    assert verdicts(suite) == [Verdict.TLE]


# -- memory and output ---------------------------------------------------------------------------
def test_execute_allocate_10_gb_is_mle(write: Callable[..., Path]) -> None:
    suite = run(stdio(write, "x = bytearray(10 * 1024 ** 3)\nprint('ok')\n", ONE))
    assert verdicts(suite) == [Verdict.MLE]


def test_execute_function_allocating_10_gb_is_mle(write: Callable[..., Path]) -> None:
    suite = run(function(write, "def f():\n    return len(bytearray(10 * 1024 ** 3))\n", ["assert f() == 1"]))
    assert verdicts(suite) == [Verdict.MLE]


def test_execute_print_100_mb_is_ole(write: Callable[..., Path]) -> None:
    code = "import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(100):\n    sys.stdout.write(chunk)\n"
    suite = run(stdio(write, code, ONE))
    assert verdicts(suite) == [Verdict.OLE]
    assert len(suite.results[0].actual or "") <= 8 * 1024 * 1024


def test_execute_function_printing_100_mb_is_ole(write: Callable[..., Path]) -> None:
    code = "def f():\n    for _ in range(100):\n        print('x' * (1 << 20))\n    return 1\n"
    suite = run(function(write, code, ["assert f() == 1"]))
    assert verdicts(suite) == [Verdict.OLE]


def test_execute_huge_file_is_stopped_at_file_size_limit(write: Callable[..., Path]) -> None:
    code = "with open('big', 'wb') as fh:\n    for _ in range(200):\n        fh.write(b'x' * (1 << 20))\nprint('ok')\n"
    suite = run(stdio(write, code, ONE))
    assert verdicts(suite) == [Verdict.OLE]


# -- processes ------------------------------------------------------------------------------------
def _processes_of(uid: int | None) -> list[psutil.Process]:
    if uid is None:
        return []
    found = []
    for proc in psutil.process_iter(["uids"]):
        try:
            if proc.info["uids"] and proc.info["uids"].real == uid:
                found.append(proc)
        except psutil.Error:
            continue
    return found


# Runs may not fork by default (test_isolation_syscalls.py); these show that where the user allows
# it, what the run starts is still contained.
def test_execute_fork_bomb_is_contained_and_leaves_nothing(write: Callable[..., Path]) -> None:
    code = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    problem = replace(load_problem(stdio(write, code, ONE)), allow_subprocesses=True)
    before = len(psutil.pids())
    with open_sandbox(problem) as box:
        suite = run_tests(problem, sandbox=box)
        leftovers = _processes_of(box.uid)
    assert verdicts(suite)[0] is not Verdict.AC
    assert leftovers == []
    assert len(psutil.pids()) < before + 20


def test_execute_daemon_grandchild_does_not_outlive_run(write: Callable[..., Path], tmp_path: Path) -> None:
    code = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(120)\n"
        "    os._exit(0)\n"
        "print('ok')\n"
    )
    problem = replace(load_problem(stdio(write, code, ONE)), allow_subprocesses=True)
    with open_sandbox(problem) as box:
        suite = run_tests(problem, sandbox=box)
        leftovers = _processes_of(box.uid)
    assert verdicts(suite) == [Verdict.AC]
    assert leftovers == []


def test_execute_kill_parent_harness_survives(write: Callable[..., Path]) -> None:
    code = (
        "import os, signal\n"
        "for target in (os.getppid(), 0, -1, 1):\n"
        "    try:\n"
        "        os.kill(target, signal.SIGKILL)\n"
        "    except OSError:\n"
        "        pass\n"
        "for pid in range(2, 4096):\n"
        "    try:\n"
        "        os.kill(pid, signal.SIGKILL)\n"
        "    except OSError:\n"
        "        pass\n"
        "print('ok')\n"
    )
    suite = run(stdio(write, code, [*ONE, {"input": "", "output": "ok\n"}]))
    assert len(suite.results) == 2
    assert all(r.verdict is not Verdict.HARNESS for r in suite.results)
    assert os.getpid() == os.getpid()  # and this process is alive to say so


def test_execute_function_kills_parent_harness_survives(write: Callable[..., Path]) -> None:
    code = "import os, signal\ndef f():\n    os.kill(os.getppid(), signal.SIGKILL)\n    return 1\n"
    suite = run(function(write, code, ["assert f() == 1", "assert f() == 1"]))
    assert len(suite.results) == 2
    assert all(r.verdict is not Verdict.HARNESS for r in suite.results)


# -- filesystem, environment, network --------------------------------------------------------------
def test_execute_write_into_home_is_prevented(write: Callable[..., Path], tmp_path: Path) -> None:
    home = Path(os.environ["HOME"])
    target = home / "pwned.txt"
    code = (
        "import os, sys\n"
        "results = []\n"
        f"for path in ({str(target)!r}, os.path.expanduser('~/pwned.txt'), '/root/pwned.txt'):\n"
        "    try:\n"
        "        with open(path, 'w') as fh:\n"
        "            fh.write('x')\n"
        "        results.append('wrote ' + path)\n"
        "    except OSError as exc:\n"
        "        results.append('denied')\n"
        "print(results)\n"
    )
    suite = run(stdio(write, code, ONE))
    out = suite.results[0].actual or ""
    assert not target.exists()
    assert not Path("/root/pwned.txt").exists()
    assert out.count("denied") >= 2  # the real home and /root; ~ is the sandbox's own temp dir


def test_execute_cannot_read_its_own_sidecar(write: Callable[..., Path]) -> None:
    code = (
        "def f():\n"
        "    try:\n"
        "        return open(__file__.replace('.py', '.tests.json')).read()\n"
        "    except OSError as exc:\n"
        "        return type(exc).__name__\n"
    )
    suite = run(function(write, code, ["assert f() == 'secret'"]))
    assert verdicts(suite) == [Verdict.WA]
    assert suite.results[0].actual == "'FileNotFoundError'"  # not in the run's root at all (``mounts``)


def test_execute_cannot_read_secrets_outside_its_paths(write: Callable[..., Path], tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("hunter2")
    secret.chmod(0o644)
    code = (
        "out = []\n"
        f"for path in ({str(secret)!r}, '/etc/shadow', '/proc/1/environ'):\n"
        "    try:\n"
        "        out.append(open(path).read())\n"
        "    except OSError as exc:\n"
        "        out.append(type(exc).__name__)\n"
        "print(out)\n"
    )
    suite = run(stdio(write, code, ONE))
    out = suite.results[0].actual or ""
    assert "hunter2" not in out and "root:" not in out
    # The secret and /etc/shadow are not in the run's root; /proc/1 is its reaper's, not its own.
    assert out == "['FileNotFoundError', 'FileNotFoundError', 'PermissionError']\n"


def test_execute_environment_has_no_api_key(write: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-SENTINEL-0123456789abcdef")
    monkeypatch.setenv("SOME_OTHER_SECRET", "SENTINEL-2")
    code = "import os\nprint(os.environ.get('OPENAI_API_KEY'))\nprint(sorted(os.environ.items()))\n"
    suite = run(stdio(write, code, ONE))
    out = suite.results[0].actual or ""
    assert out.startswith("None\n")
    assert "SENTINEL" not in out


def test_execute_tcp_connection_fails(write: Callable[..., Path]) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(5)
    port = server.getsockname()[1]
    accepted: list[object] = []

    def accept() -> None:
        try:
            accepted.append(server.accept())
        except OSError:
            pass

    thread = threading.Thread(target=accept)
    thread.start()
    code = (
        "import socket\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
        "    print('connected')\n"
        "except OSError as exc:\n"
        "    print('blocked', type(exc).__name__)\n"
    )
    try:
        suite = run(stdio(write, code, ONE))
    finally:
        server.close()
        thread.join()
    assert (suite.results[0].actual or "").startswith("blocked")
    assert accepted == []


# -- forged verdicts -------------------------------------------------------------------------------
def test_execute_always_equal_object_is_wa(write: Callable[..., Path]) -> None:
    code = (
        "class Equal:\n"
        "    def __eq__(self, other):\n"
        "        return True\n"
        "    def __ne__(self, other):\n"
        "        return False\n"
        "    __hash__ = object.__hash__\n"
        "def f(x):\n"
        "    return Equal()\n"
    )
    suite = run(function(write, code, ["assert f(1) == 5", "assert f(2) == [1, 2]", "assert 'a' == f(3)"]))
    assert verdicts(suite) == [Verdict.WA] * 3


def test_execute_int_subclass_always_equal_is_wa(write: Callable[..., Path]) -> None:
    code = ("class E(int):\n    def __eq__(self, other):\n        return True\n"
            "    __hash__ = int.__hash__\ndef f():\n    return E(0)\n")
    suite = run(function(write, code, ["assert f() == 5"]))
    assert verdicts(suite) == [Verdict.WA]


def test_execute_sys_exit_before_asserts_is_not_ac(write: Callable[..., Path]) -> None:
    suite = run(function(write, "import sys\nsys.exit(0)\ndef f():\n    return 1\n", ["assert f() == 1"]))
    assert verdicts(suite) == [Verdict.RE]


def test_execute_os_exit_before_asserts_is_not_ac(write: Callable[..., Path]) -> None:
    suite = run(function(write, "import os\nos._exit(0)\ndef f():\n    return 1\n", ["assert f() == 1"]))
    assert verdicts(suite) == [Verdict.RE]
    assert suite.results[0].error is not None and "exited" in suite.results[0].error.message


def test_execute_exit_inside_function_is_not_ac(write: Callable[..., Path]) -> None:
    code = "import os, sys\ndef f(how):\n    if how:\n        sys.exit(0)\n    os._exit(0)\n"
    suite = run(function(write, code, ["assert f(1) == 1", "assert f(0) == 1"]))
    assert verdicts(suite) == [Verdict.RE, Verdict.RE]


def test_execute_printed_pass_is_not_a_result(write: Callable[..., Path]) -> None:
    code = "def f():\n    print('AC', 'PASS', '{\"outcome\": \"pass\"}')\n    return 0\n"
    suite = run(function(write, code, ["assert f() == 1"]))
    assert verdicts(suite) == [Verdict.WA]


def test_execute_frame_walk_finds_no_expected_value(write: Callable[..., Path]) -> None:
    code = (
        "import gc, sys\n"
        "def f():\n"
        "    frame = sys._getframe()\n"
        "    while frame is not None:\n"
        "        for scope in (frame.f_locals, frame.f_globals):\n"
        "            for value in list(scope.values()):\n"
        "                if isinstance(value, str) and value.startswith('ORPS-EXPECTED-'):\n"
        "                    return value\n"
        "        frame = frame.f_back\n"
        "    for obj in gc.get_objects():\n"
        "        if isinstance(obj, (list, tuple, dict)):\n"
        "            for value in (obj.values() if isinstance(obj, dict) else obj):\n"
        "                if isinstance(value, str) and value.startswith('ORPS-EXPECTED-') and len(value) > 14:\n"
        "                    return value\n"
        "    return 'none'\n"
    )
    suite = run(function(write, code, ["expected = 'ORPS-EXPECTED-' + '7f3a'\nassert f() == expected"]))
    assert verdicts(suite) == [Verdict.WA]
    assert suite.results[0].actual == "'none'"


def test_execute_memory_scan_finds_no_expected_value(write: Callable[..., Path]) -> None:
    code = (
        "import re\n"
        "def f():\n"
        "    prefix = b'ORPS-' + b'MARK-'\n"
        "    found = set()\n"
        "    with open('/proc/self/maps') as maps, open('/proc/self/mem', 'rb', 0) as mem:\n"
        "        for line in maps:\n"
        "            span, perms = line.split()[:2]\n"
        "            if 'r' not in perms:\n"
        "                continue\n"
        "            start, end = (int(x, 16) for x in span.split('-'))\n"
        "            try:\n"
        "                mem.seek(start)\n"
        "                chunk = mem.read(end - start)\n"
        "            except (OSError, OverflowError, ValueError):\n"
        "                continue\n"
        "            found.update(m.group(1) for m in re.finditer(re.escape(prefix) + rb'([0-9a-f]{8})', chunk))\n"
        "    return sorted(x.decode() for x in found)\n"
    )
    suite = run(function(write, code, ["assert f() == ['c0ffee42']"]))
    assert verdicts(suite) == [Verdict.WA]
    assert "c0ffee42" not in (suite.results[0].actual or "")


def test_execute_callback_cannot_reach_checker_globals(write: Callable[..., Path]) -> None:
    code = (
        "def f(key):\n"
        "    try:\n"
        "        return key.__globals__['expected']\n"
        "    except Exception as exc:\n"
        "        return type(exc).__name__\n"
    )
    suite = run(function(write, code, ["expected = 'secret-value'\nassert f(lambda x: x) == expected"]))
    assert verdicts(suite) == [Verdict.WA]
    assert "secret-value" not in (suite.results[0].actual or "")
