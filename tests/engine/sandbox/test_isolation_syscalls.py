"""What the system-call filter, the dropped capabilities and the wait for threads hold against:
each test is an attack (or a way to game the figures) run through the real engine, as root and,
where the behaviour differs, as an unprivileged user (``unprivileged``: the sandbox then uses a
user namespace instead of a uid of its own)."""

from __future__ import annotations

import ast
import json
import os
import select
import socket
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from orps_engine import Verdict, load_problem, run_tests
from orps_engine.results import SuiteResult
from orps_engine.sandbox.runtime.payload import CHILDREN_COUNTED_APART
from tests.engine.sandbox.conftest import Listener, Unprivileged
from tests.engine.sandbox.test_attacks import ONE, function, run, stdio, verdicts

Write = Callable[..., Path]


def run_allowing_subprocesses(path: Path) -> SuiteResult:
    return run_tests(replace(load_problem(path), allow_subprocesses=True))


def printed(suite: SuiteResult) -> str:
    return suite.results[0].actual or ""


def orps_json(user: Unprivileged, path: Path) -> dict[str, object]:
    """``orps test PATH --json`` as nobody."""
    done = user.orps("test", str(path), "--json")
    assert done.returncode in (0, 1), done.stderr
    document: dict[str, object] = json.loads(done.stdout)
    return document


def actual_of(document: dict[str, object]) -> str:
    results = document["tests"]
    assert isinstance(results, list)
    return str(results[0]["actual"])


# -- pathname Unix sockets --------------------------------------------------------------------------
CONNECT = (
    "import socket\n"
    "try:\n"
    "    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
    "    client.connect({path!r})\n"
    "    print('connected')\n"
    "except OSError as exc:\n"
    "    print('refused', type(exc).__name__)\n"
)


def test_a_unix_socket_to_a_host_service_is_refused(write: Write, listener: Listener) -> None:
    suite = run(stdio(write, CONNECT.format(path=str(listener.path)), ONE))
    assert printed(suite) == "refused PermissionError\n"
    assert listener.connected == []


def test_a_unix_socket_to_the_users_own_agent_is_refused(unprivileged: Unprivileged) -> None:
    # Run as a normal user, the user's agents (ssh-agent, the session bus) are sockets that user owns.
    server = Listener(unprivileged.root / "agent.sock")
    os.chown(server.path, unprivileged.uid, unprivileged.gid)
    server.path.chmod(0o600)
    try:
        unprivileged.write("sol.tests.json", json.dumps({"tests": ONE}))
        sol = unprivileged.write("sol.py", CONNECT.format(path=str(server.path)))
        document = orps_json(unprivileged, sol)
    finally:
        server.close()
    assert actual_of(document) == "refused PermissionError\n"
    assert server.connected == []


def test_the_harness_socket_reaches_nothing_else_and_no_datagram_pair_is_made(write: Write, tmp_path: Path) -> None:
    # The solution's only socket is the inherited RPC socketpair: a connected SOCK_STREAM, on which
    # sendto ignores no address (EISCONN); a SOCK_DGRAM pair, which would send anywhere, is refused.
    folder = Path(f"/tmp/orps-dgram-{os.getpid()}-{tmp_path.name}")
    folder.mkdir(mode=0o755)
    path = folder / "log.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    path.chmod(0o777)
    code = (
        "import os, socket\n"
        "def f(path):\n"
        "    harness = socket.socket(fileno=os.dup(3))\n"
        "    out = [harness.type.name]\n"
        "    for attempt in (lambda: harness.sendto(b'x', path), lambda: harness.connect(path),\n"
        "                    lambda: socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)[0].sendto(b'x', path)):\n"
        "        try:\n"
        "            attempt()\n"
        "            out.append('sent')\n"
        "        except OSError as exc:\n"
        "            out.append(type(exc).__name__)\n"
        "    return out\n"
    )
    try:
        suite = run(function(write, code, [f"assert f({str(path)!r}) == []"]))
        assert suite.results[0].verdict is Verdict.WA
        kind, sendto, connect, pair = ast.literal_eval(suite.results[0].actual or "")
        # connect() fails as EISCONN, or as ENOENT where the run's own root has no /tmp socket
        assert (kind, sendto, pair) == ("SOCK_STREAM", "OSError", "PermissionError")
        assert connect in ("OSError", "FileNotFoundError")
        assert not select.select([server], [], [], 0)[0]
    finally:
        server.close()
        path.unlink()
        folder.rmdir()


# -- the kernel keyring, inotify, namespaces, other ABIs -----------------------------------------------
LIBC = "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"


def errno_of(call: str) -> str:
    """Code that prints the errno name ``call`` failed with (or that it worked)."""
    return (f"result = {call}\n"
            "print('worked' if result >= 0 else __import__('errno').errorcode[ctypes.get_errno()])\n")


def test_no_key_is_stored_in_the_kernel_keyring_for_the_next_run(write: Write) -> None:
    add = errno_of("libc.syscall(248, b'user', b'orps-answer', b'42', 2, -4)")  # add_key to the user keyring
    search = errno_of("libc.syscall(250, 10, -4, b'user', b'orps-answer', 0)")  # keyctl(KEYCTL_SEARCH)
    path = stdio(write, LIBC + add + search, [*ONE, *ONE])
    suite = run(path)
    assert [r.actual for r in suite.results] == ["EACCES\nEACCES\n"] * 2


def test_inotify_watches_cannot_be_made(write: Write) -> None:
    code = LIBC + errno_of("libc.inotify_init()") + errno_of("libc.inotify_init1(0)")
    assert printed(run(stdio(write, code, ONE))) == "EACCES\nEACCES\n"


def test_no_new_namespace_gives_capabilities_back(write: Write) -> None:
    # A new user namespace would hold every capability; refused, even where processes are allowed.
    code = LIBC + errno_of("libc.unshare(0x10000000)") + errno_of("libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0)")
    assert printed(run_allowing_subprocesses(stdio(write, code, ONE))) == "EACCES\nEACCES\n"


def test_a_call_through_the_x32_abi_kills_the_run(write: Write) -> None:
    # getpid by its x32 number: the same calls under other numbers would get past the filter.
    code = LIBC + "libc.syscall(0x40000000 | 39)\nprint('ok')\n"
    suite = run(stdio(write, code, ONE))
    assert verdicts(suite) == [Verdict.RE]
    assert suite.results[0].error is not None and suite.results[0].error.type == "SIGSYS"


# -- child processes -------------------------------------------------------------------------------------
FORKS = {
    "os.fork": "import os\nif os.fork() == 0:\n    os._exit(0)\nos.wait()\nprint('ok')\n",
    "subprocess": "import subprocess, sys\nprint(subprocess.run([sys.executable, '-c', 'print(1)'],"
                  " capture_output=True, text=True).stdout.strip() and 'ok')\n",
    "multiprocessing": "import multiprocessing as mp\nif __name__ == '__main__':\n"
                       "    p = mp.get_context('fork').Process(target=int)\n"
                       "    p.start()\n    p.join()\n    print('ok' if p.exitcode == 0 else p.exitcode)\n",
}


@pytest.mark.parametrize("how", sorted(FORKS))
def test_a_child_process_is_refused_by_default_with_a_clear_message(write: Write, how: str) -> None:
    suite = run(stdio(write, FORKS[how], ONE))
    result = suite.results[0]
    assert result.verdict is Verdict.RE
    assert result.error is not None and result.error.type == "PermissionError"
    assert "child processes are refused unless allowed" in result.error.message
    assert "--allow-subprocesses" in result.error.message


@pytest.mark.parametrize("how", sorted(FORKS))
def test_a_child_process_works_when_allowed_and_the_run_says_how_it_is_counted(write: Write, how: str) -> None:
    suite = run_allowing_subprocesses(stdio(write, FORKS[how], ONE))
    assert verdicts(suite) == [Verdict.AC], suite.results[0].error
    assert CHILDREN_COUNTED_APART in suite.notes


# The unchanged O(n^2) work, moved into a child whose SIGCHLD is ignored: never reaped, so its CPU
# would count nowhere, and it would have a CPU limit of its own.
HIDDEN_IN_A_CHILD = (
    "import os, signal\n"
    "def f(n):\n"
    "    signal.signal(signal.SIGCHLD, signal.SIG_IGN)\n"
    "    read_end, write_end = os.pipe()\n"
    "    if os.fork() == 0:\n"
    "        total = sum(1 for i in range(n) for j in range(n) if (i + j) % 7 == 0)\n"
    "        os.write(write_end, str(total).encode())\n"
    "        os._exit(0)\n"
    "    os.close(write_end)\n"
    "    return int(os.read(read_end, 64))\n"
)


def test_work_hidden_in_an_unreaped_child_does_not_look_cheap(write: Write) -> None:
    expected = sum(1 for i in range(300) for j in range(300) if (i + j) % 7 == 0)
    suite = run(function(write, HIDDEN_IN_A_CHILD, [f"assert f(300) == {expected}"]))
    assert verdicts(suite) == [Verdict.RE]
    assert suite.results[0].cpu_ms is not None


# -- threads ---------------------------------------------------------------------------------------------
SPIN_AFTER_MAIN = "import threading\nthreading.Thread(target=lambda: [None for _ in iter(int, 1)]).start()\n" \
                  "print('ok')\n"
# 300 ms of CPU in a thread, after the main module has printed its answer and ended.
WORK_AFTER_MAIN = (
    "import threading, time\n"
    "def work():\n"
    "    while time.thread_time() < 0.3:\n"
    "        pass\n"
    "threading.Thread(target=work).start()\n"
    "print('ok')\n"
)


def test_a_non_daemon_thread_that_never_ends_is_tle(write: Write) -> None:
    suite = run(stdio(write, SPIN_AFTER_MAIN, ONE, time_limit_ms=500))
    assert verdicts(suite) == [Verdict.TLE]


def test_work_in_a_thread_after_main_is_counted(write: Write) -> None:
    suite = run(stdio(write, WORK_AFTER_MAIN, ONE))
    assert verdicts(suite) == [Verdict.AC]
    assert (suite.results[0].cpu_ms or 0) >= 300


def test_a_daemon_thread_dies_with_the_program_as_in_python(write: Write) -> None:
    code = "import threading\nthreading.Thread(target=lambda: [None for _ in iter(int, 1)], daemon=True).start()\n" \
           "print('ok')\n"
    suite = run(stdio(write, code, ONE, time_limit_ms=500))
    assert verdicts(suite) == [Verdict.AC]


def test_work_a_solution_leaves_in_a_thread_is_counted(write: Write) -> None:
    code = (
        "import threading, time\n"
        "def work():\n"
        "    while time.thread_time() < 0.3:\n"
        "        pass\n"
        "def f():\n"
        "    threading.Thread(target=work).start()\n"
        "    return 1\n"
    )
    suite = run(function(write, code, ["assert f() == 1"]))
    assert verdicts(suite) == [Verdict.AC]
    assert (suite.results[0].cpu_ms or 0) >= 300


# -- capabilities ----------------------------------------------------------------------------------------
CAPS = (
    "import fcntl, socket, struct\n"
    "status = dict(line.split(':\\t') for line in open('/proc/self/status').read().splitlines() if ':\\t' in line)\n"
    "print(*(f'{k}={int(status[k], 16)}' for k in ('CapEff', 'CapPrm', 'CapBnd', 'CapAmb', 'CapInh')))\n"
    "udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    "try:\n"
    "    fcntl.ioctl(udp, 0x8914, struct.pack('16sH14x', b'lo', 1))  # SIOCSIFFLAGS: lo up\n"
    "    print('lo up')\n"
    "except OSError as exc:\n"
    "    print('lo', type(exc).__name__)\n"
    "try:\n"
    "    udp.sendto(b'x', ('127.0.0.1', 9))\n"
    "    print('sent')\n"
    "except OSError as exc:\n"
    "    print('udp', type(exc).__name__)\n"
)


def test_an_unprivileged_run_holds_no_capability_and_cannot_bring_lo_up(unprivileged: Unprivileged) -> None:
    unprivileged.write("sol.tests.json", json.dumps({"tests": ONE}))
    document = orps_json(unprivileged, unprivileged.write("sol.py", CAPS))
    assert actual_of(document).splitlines() == ["CapEff=0 CapPrm=0 CapBnd=0 CapAmb=0 CapInh=0",
                                                "lo PermissionError", "udp OSError"]


def test_a_run_as_root_keeps_at_most_cap_dac_read_search_and_no_bounding_set(write: Write) -> None:
    lines = printed(run(stdio(write, CAPS, ONE))).splitlines()
    caps = dict(item.split("=") for item in lines[0].split())
    assert int(caps["CapEff"]) in (0, 1 << 2) and caps["CapPrm"] == caps["CapEff"]
    assert (caps["CapBnd"], caps["CapAmb"], caps["CapInh"]) == ("0", "0", "0")
    assert lines[1:] == ["lo PermissionError", "udp OSError"]


def test_a_program_a_run_executes_cannot_regain_capabilities(write: Write) -> None:
    # With processes allowed, what the run executes starts from an empty bounding set too
    # (PR_CAPBSET_READ of each capability: 1 if it is in the set).
    child = "import ctypes; libc = ctypes.CDLL(None); print(sum(libc.prctl(23, c, 0, 0, 0) == 1 for c in range(64)))"
    code = f"import subprocess, sys\nprint(subprocess.run([sys.executable, '-c', {child!r}], capture_output=True, " \
           "text=True).stdout.strip())\n"
    suite = run_allowing_subprocesses(stdio(write, code, ONE))
    assert printed(suite) == "0\n"
