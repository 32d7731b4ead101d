"""The zygote and its wardens: start sandboxed runs quickly, watch them, measure them.

The zygote is a fresh interpreter (single-threaded, so forking it is safe) that imports the
libraries a solution will need once, then forks a *warden* per run. The warden enters a new PID
namespace and forks the payload as that namespace's init, so when the payload ends the kernel
kills everything it left behind. The warden owns the deadline and the kill, reads the output
against its limit and takes the measurements from ``wait4`` and the hardware counter: all of it
trusted code the solution cannot reach. The counter is opened on the payload before the payload
forks the run (a counter follows only the children forked after it was opened), held off while
the run confines itself, and started as the run starts: it counts the run and everything the
run forks, not the sandbox's setup.

The zygote never receives a test's expected values (the checker gets its test straight from the
parent), so nothing a payload could find in its inherited memory gives the answers away.

Its messages, to the parent and from the payload's processes, are ``protocol``'s.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import resource
import select
import signal
import socket
import sys
import time
from typing import NamedTuple

from . import confine, mounts, payload, protocol, wire
from .protocol import (
    COUNT_FD,
    CRASH_FD,
    GO_FD,
    PASSED_FDS,
    SETUP_FD,
    STATUS_FD,
    STDERR_FD,
    STDIN_FD,
    STDOUT_FD,
    CrashInfo,
    Job,
    OpCount,
    ReaperStatus,
    RunFailed,
    RunResult,
    SetupReport,
)

READ_CHUNK = 1 << 16
STDERR_KEEP = 64 * 1024
DRAIN_GRACE_S = 0.5
SETUP_TIMEOUT_S = 30.0
SETUP_REPORT_MAX = 64 * 1024


def main() -> None:
    ctl = socket.socket(fileno=int(sys.argv[1]))
    parent = os.getppid()
    confine.die_with_parent(signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)
    try:
        hello = protocol.read_hello(wire.recv(ctl))
    except protocol.BadMessage as exc:  # another version of orps: say so, and serve nothing
        wire.send(ctl, protocol.refused(str(exc)))
        return
    network = confine.isolate_network()
    filesystem = mounts.private_namespace()  # after the user namespace (unprivileged): it owns this one
    notes = [n for n in (network, filesystem) if n]
    _preload(hello["preload"])
    wire.send(ctl, protocol.ready(notes, confine.landlock_abi(), _interpreter()))
    Zygote(ctl, mounts.Workdirs(private=filesystem is None)).loop()


def _interpreter() -> protocol.Interpreter:
    import sysconfig

    paths = [sysconfig.get_path(name) for name in ("stdlib", "platstdlib", "purelib", "platlib")]
    return {"executable": sys.executable, "version": list(sys.version_info[:3]),
            "prefixes": [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix],
            "library_paths": [p for p in paths if p], "sys_path": [p for p in sys.path if p]}


def _preload(names: list[str]) -> None:
    """Import ahead what is safe to: the standard library and installed packages, never a module
    of the user's own files (an editable install, a project on the path), whose import is theirs
    to run, in the run."""
    for name in names:
        if not _installed(name):
            continue
        try:
            importlib.import_module(name)
        except BaseException:  # a library that fails to import here will fail in the payload too
            continue
        if name == "pytest":
            _preload_pytest_plugins()
    # Out of the collector's sight: a collection in a forked run would otherwise touch, and so
    # copy, every page of these objects (tens of ms, and megabytes of "peak memory", per run).
    gc.freeze()


def _preload_pytest_plugins() -> None:
    """The modules of the installed pytest plugins: every pytest run in a payload imports them, and
    some take a second to import (pytest would in each test's own process)."""
    from importlib import metadata

    try:
        entry_points = metadata.entry_points(group="pytest11")
    except Exception:
        return
    for entry in entry_points:
        try:
            importlib.import_module(entry.module)
        except BaseException:  # pytest reports a broken plugin itself, in the run
            continue


def _installed(name: str) -> bool:
    if name in getattr(sys, "stdlib_module_names", ()) or name.startswith("_orps_runtime"):
        return True
    import importlib.util
    import sysconfig

    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return False
    origin = spec.origin if spec is not None else None
    site = tuple(p for p in {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")} if p)
    return bool(origin and site and os.path.realpath(origin).startswith(tuple(os.path.realpath(p) for p in site)))


class Zygote:
    def __init__(self, ctl: socket.socket, workdirs: mounts.Workdirs) -> None:
        self.ctl = ctl
        self.workdirs = workdirs
        self.wardens: dict[int, tuple[Job, int, bytearray]] = {}  # result fd -> (job, pid, data)

    def loop(self) -> None:
        while True:
            readable, _, _ = select.select([self.ctl.fileno(), *self.wardens], [], [])
            for ready in readable:
                if ready == self.ctl.fileno():
                    if not self._accept():
                        self._shutdown()
                        return
                else:
                    self._collect(ready)

    def _accept(self) -> bool:
        """Serve one request of the parent's; False when it is time to stop."""
        try:
            message, fds = wire.recv_with_fds(self.ctl)
            request = protocol.read_request(message)
        except (OSError, wire.WireError, protocol.BadMessage):
            return False
        if request["op"] == "shutdown":
            return False
        if request["op"] == "preload":  # between runs only: the parent holds its lock
            _preload(request["modules"])
            wire.send(self.ctl, {"op": "preloaded"})
            return True
        self._start(request, fds)
        return True

    def _start(self, job: Job, fds: list[int]) -> None:
        note = self.workdirs.acquire(job)  # here, in the zygote's namespace: the runs of a test share it
        result_r, result_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(result_r)
            self.ctl.close()
            for fd in self.wardens:
                os.close(fd)
            _write_all(result_w, json.dumps(_warden_result(job, fds, [note] if note else [])).encode())
            os._exit(0)
        os.close(result_w)
        for fd in fds:
            os.close(fd)
        self.wardens[result_r] = (job, pid, bytearray())

    def _collect(self, fd: int) -> None:
        job, pid, data = self.wardens[fd]
        chunk = os.read(fd, READ_CHUNK)
        if chunk:
            data.extend(chunk)
            return
        os.close(fd)
        del self.wardens[fd]
        os.waitpid(pid, 0)
        self.workdirs.release(job["workdir"])
        result: RunResult | RunFailed
        try:
            result = protocol.read_result(json.loads(data))
        except ValueError:
            result = protocol.run_failed(job["id"], "the warden died without a result")
        wire.send(self.ctl, result)

    def _shutdown(self) -> None:
        for _fd, (_job, pid, _data) in self.wardens.items():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def _warden_result(job: Job, fds: list[int], notes: list[str]) -> RunResult | RunFailed:
    try:
        return Warden(job, fds, notes).run()
    except BaseException as exc:  # the warden's own failure: a harness error
        return protocol.run_failed(job["id"], f"warden failed: {type(exc).__name__}: {exc}")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class _Watched(NamedTuple):
    """What the warden saw of a run, before its measurements are corrected. (A NamedTuple, not a
    dataclass: importing dataclasses would add milliseconds to every zygote's start.)"""

    wait_status: int
    usage: resource.struct_rusage
    wall_ms: float
    timed_out: bool
    output_exceeded: bool
    stdout: str
    stderr: str
    crash: CrashInfo | None
    reaper: ReaperStatus | None
    count_report: bytes  # what the run wrote on ``COUNT_FD`` (a counted run's ``OpCount``, if it is one)


_PIPES = ("out", "err", "crash", "setup", "go", "status", "count")


class Warden:
    """Runs one payload to its end and measures it."""

    def __init__(self, job: Job, fds: list[int], notes: list[str]) -> None:
        self.job = job
        self.fds = fds
        self.limits = job["limits"]
        self.notes = notes

    def run(self) -> RunResult | RunFailed:
        confine.die_with_parent(signal.SIGKILL)
        in_namespace = confine.unshare(confine.CLONE_NEWPID)
        if in_namespace is not None:
            self.notes.append(f"no PID namespace ({in_namespace}): leftover processes are killed by group")
        by_group = in_namespace is None
        passed = PASSED_FDS[self.job["role"]]
        if len(self.fds) != len(passed):
            for fd in self.fds:
                os.close(fd)
            return self._failed(f"a {self.job['role']} run needs {len(passed)} sockets, it came with {len(self.fds)}")
        pipes = {name: os.pipe() for name in _PIPES}
        pid = self._fork_payload(pipes, passed)
        counter = self._arm_counter(pid, pipes["go"][1])
        setup = self._read_setup(pipes["setup"][0])
        if setup["setup"] == "failed":
            self._kill(pid, by_group)
            os.wait4(pid, 0)
            _close_counter(counter)
            return self._failed(f"sandbox setup failed: {setup['error']}")
        self.notes.extend(setup["notes"])
        if counter is not None and not confine.enable_counter(counter):
            _close_counter(counter)
            counter = None
        started = time.monotonic()
        _signal(pipes["go"][1])
        os.close(pipes["go"][1])
        watched = self._watch(pid, started, pipes, by_group)
        instructions = confine.read_counter(counter) if counter is not None else None
        return self._result(watched, setup["cpu_s"] * 1000, setup["maxrss_kb"], instructions)

    def _arm_counter(self, pid: int, go_fd: int) -> int | None:
        """The job's counter on the payload, held off, before the payload forks the run (which then
        inherits it); the payload waits for this byte to fork. None where there is no such counter."""
        counted = self.job["counted"]
        counter = confine.open_counter(pid, counted["type"], counted["config"], disabled=True)
        _signal(go_fd)
        return counter

    def _fork_payload(self, pipes: dict[str, tuple[int, int]], passed: tuple[int, ...]) -> int:
        """Start the payload with its fds in place; the warden keeps the other ends."""
        path = self.job["stdin"] if self.job["role"] == "program" else None
        stdin = os.open(path or os.devnull, os.O_RDONLY)
        fd_map = {STDIN_FD: stdin, STDOUT_FD: pipes["out"][1], STDERR_FD: pipes["err"][1], SETUP_FD: pipes["setup"][1],
                  GO_FD: pipes["go"][0], STATUS_FD: pipes["status"][1]}
        if self.job["role"] == "program":
            fd_map[CRASH_FD] = pipes["crash"][1]
        if "bytecode_token" in self.job:
            fd_map[COUNT_FD] = pipes["count"][1]
        fd_map.update(zip(passed, self.fds))
        pid = os.fork()
        if pid == 0:
            payload.enter(self.job, fd_map, self.job["uid"])
        for fd in [stdin, *self.fds, pipes["go"][0]] + [pipes[n][1] for n in _PIPES if n != "go"]:
            os.close(fd)
        return pid

    def _result(self, watched: _Watched, setup_cpu_ms: float, baseline_kb: int,
                instructions: int | None) -> RunResult:
        status, usage, reaper = watched.wait_status, watched.usage, watched.reaper
        reaper_cpu_ms = 0.0
        if reaper is not None and reaper["wait_status"] is not None:  # the reaper saw the run end
            status, reaper_cpu_ms = reaper["wait_status"], reaper["cpu_s"] * 1000
        own_cpu_ms = (usage.ru_utime + usage.ru_stime) * 1000 - setup_cpu_ms - reaper_cpu_ms
        result: RunResult = {
            "op": "result",
            "id": self.job["id"],
            "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "timed_out": watched.timed_out,
            "output_exceeded": watched.output_exceeded,
            "wall_ms": watched.wall_ms,
            "cpu_ms": round(max(0.0, own_cpu_ms), 3),
            "peak_kb": max(0, usage.ru_maxrss - baseline_kb),
            "instructions": instructions,
            "stdout": watched.stdout,
            "stderr": watched.stderr,
            "crash": watched.crash,
            "notes": self.notes,
        }
        if "bytecode_token" in self.job:
            result["bytecodes"] = self._bytecodes(watched, status)
        return result

    def _bytecodes(self, watched: _Watched, status: int) -> int | None:
        """The counted run's bytecodes, if it reported a count that holds; else a note says why not."""
        count = _read_count(watched.count_report)
        finished = not watched.timed_out and not os.WIFSIGNALED(status)
        signed = count is not None and count["token"] == self.job.get("bytecode_token")
        if count is not None and signed and count["intact"] and finished:
            return count["bytecodes"]
        why = ("the run did not finish" if not finished else "the run reported no count" if count is None
               else "the code interfered with the counter")
        self.notes.append(f"bytecodes not counted: {why}")
        return None

    def _failed(self, error: str) -> RunFailed:
        return protocol.run_failed(self.job["id"], error, self.notes)

    def _read_setup(self, fd: int) -> SetupReport:
        """The payload's setup report (at most ``SETUP_REPORT_MAX`` bytes, within ``SETUP_TIMEOUT_S``)."""
        data = bytearray()
        deadline = time.monotonic() + SETUP_TIMEOUT_S
        while time.monotonic() < deadline and len(data) <= SETUP_REPORT_MAX:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data.extend(chunk)
        os.close(fd)
        if not data:
            return {"setup": "failed", "error": "no reply"}
        try:
            return protocol.read_setup(json.loads(data))
        except ValueError as exc:
            return {"setup": "failed", "error": f"malformed setup report ({str(exc)[:200]})"}

    def _watch(self, pid: int, started: float, pipes: dict[str, tuple[int, int]], by_group: bool) -> _Watched:
        out_limit = int(self.limits["output_bytes"])
        deadline = started + float(self.limits["wall_s"])
        streams = {pipes[name][0]: bytearray() for name in ("out", "err", "crash", "status", "count")}
        out_fd, err_fd = pipes["out"][0], pipes["err"][0]
        pidfd = os.pidfd_open(pid)
        timed_out = output_exceeded = False
        finished_at = None
        open_fds = set(streams)
        while True:
            now = time.monotonic()
            if finished_at is None and now >= deadline:
                timed_out = True
                self._kill(pid, by_group)
            wait_for = [*open_fds] + ([pidfd] if finished_at is None else [])
            if not wait_for:
                break
            limit = (deadline - now) if finished_at is None else (finished_at + DRAIN_GRACE_S - now)
            if finished_at is not None and limit <= 0:
                break
            ready, _, _ = select.select(wait_for, [], [], max(0.0, limit))
            for fd in ready:
                if fd == pidfd:
                    finished_at = time.monotonic()
                    if by_group:
                        self._kill(pid, by_group)
                    continue
                chunk = os.read(fd, READ_CHUNK)
                if not chunk:
                    open_fds.discard(fd)
                    continue
                buf = streams[fd]
                if fd == out_fd:
                    if output_exceeded:
                        continue
                    buf.extend(chunk)
                    if len(buf) > out_limit:
                        output_exceeded = True
                        del buf[out_limit:]
                        self._kill(pid, by_group)
                elif fd == err_fd:
                    buf.extend(chunk)
                    if len(buf) > 2 * STDERR_KEEP:
                        del buf[:-STDERR_KEEP]
                elif len(buf) < STDERR_KEEP:
                    buf.extend(chunk[: STDERR_KEEP - len(buf)])
        ended = finished_at if finished_at is not None else time.monotonic()
        _pid, status, usage = os.wait4(pid, 0)
        os.close(pidfd)
        for fd in streams:
            os.close(fd)
        return _Watched(wait_status=status, usage=usage, wall_ms=round((ended - started) * 1000, 3),
                        timed_out=timed_out, output_exceeded=output_exceeded,
                        stdout=streams[out_fd].decode("utf-8", errors="replace"),
                        stderr=streams[err_fd][-STDERR_KEEP:].decode("utf-8", errors="replace"),
                        crash=_read_crash(bytes(streams[pipes["crash"][0]])),
                        reaper=_read_status(bytes(streams[pipes["status"][0]])),
                        count_report=bytes(streams[pipes["count"][0]]))

    @staticmethod
    def _kill(pid: int, by_group: bool) -> None:
        try:
            if by_group:
                os.killpg(pid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)  # the namespace's init: the kernel kills the rest
        except OSError:
            pass


def _signal(go_fd: int) -> None:
    """One byte to the payload; one that already died (its setup failed) says so on its setup pipe."""
    try:
        os.write(go_fd, b"g")
    except BrokenPipeError:
        pass


def _close_counter(counter: int | None) -> None:
    if counter is not None:
        os.close(counter)


def _read_crash(raw: bytes) -> CrashInfo | None:
    """What the program said of its crash: the program is untrusted, so anything malformed is nothing."""
    if not raw:
        return None
    try:
        return protocol.read_crash(json.loads(raw))
    except (ValueError, RecursionError):
        return None


def _read_count(raw: bytes) -> OpCount | None:
    """What a counted run said of its bytecodes: written by the run, so anything malformed is nothing."""
    if not raw:
        return None
    try:
        return protocol.read_count(json.loads(raw))
    except (ValueError, RecursionError):
        return None


def _read_status(raw: bytes) -> ReaperStatus | None:
    """The reaper's report, None if it wrote none (killed first). The reaper runs no untrusted code,
    so a malformed one is the harness's failure (``BadMessage``, reported as the warden's)."""
    if not raw:
        return None
    return protocol.read_status(json.loads(raw))
