"""The zygote and its wardens: start sandboxed runs quickly, watch them, measure them.

The zygote is a fresh interpreter (single-threaded, so forking it is safe) that imports the
libraries a solution will need once, then forks a *warden* per session: the runs of one role on
one candidate (a test each). The warden enters a new PID namespace and forks the session's
*host* as that namespace's init; the host makes the session's root once (``mounts``) and forks a
run per job, which confines itself (rlimits, IPC namespace, Landlock, uid, seccomp) and runs, so
a test costs a fork from a warm, confined process instead of two forks and a root of its own.
When a run ends the host kills everything it left behind. The warden owns each run's deadline
and kill (by pidfd), reads its output against its limit and takes its measurements: the host's
``wait4`` of it and the hardware counter, opened on the run as it is forked, held off while it
confines itself, and started as the run starts: it counts the run and everything it forks, not
the sandbox's setup. The zygote empties the working directory between runs.

The zygote never receives a test's expected values (the checker gets its test straight from the
parent), so nothing a payload could find in its inherited memory gives the answers away.

Its messages, to the parent and from the payload's processes, are ``protocol``'s.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import select
import signal
import socket
import sys
import time
from typing import NamedTuple, cast

from . import confine, mounts, payload, protocol, wire
from .protocol import (
    COUNT_FD,
    CRASH_FD,
    GO_FD,
    HOST_FD,
    PASSED_FDS,
    SETUP_FD,
    STATUS_FD,
    STDERR_FD,
    STDIN_FD,
    STDOUT_FD,
    CrashInfo,
    HostFork,
    HostStatus,
    Job,
    OpCount,
    RunFailed,
    RunResult,
    SetupDone,
    SetupReport,
)

READ_CHUNK = 1 << 16
STDERR_KEEP = 64 * 1024
DRAIN_GRACE_S = 0.5
SETUP_TIMEOUT_S = 30.0
SETUP_REPORT_MAX = 64 * 1024


def main(started_rss_kb: int = 0, startup_cpu_ms: float = 0.0) -> None:
    """``started_rss_kb``, ``startup_cpu_ms``: the interpreter's resident size and CPU time before the
    runtime loaded (``boot``)."""
    global _INTERPRETER_RSS_KB
    _INTERPRETER_RSS_KB = started_rss_kb
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
    wire.send(ctl, protocol.ready(notes, confine.landlock_abi(), _interpreter(startup_cpu_ms)))
    Zygote(ctl, mounts.Workdirs(private=filesystem is None)).loop()


def _interpreter(startup_cpu_ms: float) -> protocol.Interpreter:
    import sysconfig

    paths = [sysconfig.get_path(name) for name in ("stdlib", "platstdlib", "purelib", "platlib")]
    return {"executable": sys.executable, "version": list(sys.version_info[:3]),
            "prefixes": [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix],
            "library_paths": [p for p in paths if p], "sys_path": [p for p in sys.path if p],
            "startup_cpu_ms": round(startup_cpu_ms, 3)}


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


class _Session(NamedTuple):
    warden: int
    sock: socket.socket
    workdir: str
    running: set[int]  # job ids sent and not yet answered


class Zygote:
    def __init__(self, ctl: socket.socket, workdirs: mounts.Workdirs) -> None:
        self.ctl = ctl
        self.workdirs = workdirs
        self.sessions: dict[int, _Session] = {}
        self.by_fd: dict[int, int] = {}  # a session socket's fd -> its session id
        self.busy: dict[str, int] = {}  # working directory -> runs in it not yet answered

    def loop(self) -> None:
        while True:
            readable, _, _ = select.select([self.ctl.fileno(), *self.by_fd], [], [])
            for ready in readable:
                if ready == self.ctl.fileno():
                    if not self._accept():
                        self._shutdown()
                        return
                elif ready in self.by_fd:
                    self._collect(self.by_fd[ready])

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
        elif request["op"] == "close":
            self._close(request["session"])
        else:
            self._run(request, fds)
        return True

    def _run(self, job: Job, fds: list[int]) -> None:
        session = self.sessions.get(job["session"]) or self._open(job, fds)
        try:
            wire.send(session.sock, job, fds)
        except OSError:
            wire.send(self.ctl, protocol.run_failed(job["id"], "the session's warden went away"))
            return
        finally:
            for fd in fds:
                os.close(fd)
        session.running.add(job["id"])
        self.busy[session.workdir] = self.busy.get(session.workdir, 0) + 1

    def _open(self, job: Job, fds: list[int]) -> _Session:
        """A warden for the session ``job`` opens, with its host set up from ``job``. The working
        directory is mounted here, in the zygote's namespace: the sessions of a test's checker
        and solution share it."""
        note = self.workdirs.acquire(job)
        ours, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            ours.close()
            self.ctl.close()
            for other in self.sessions.values():
                other.sock.close()
            for fd in fds:  # the job's sockets come to the warden again, with the job: a copy kept
                os.close(fd)  # here would keep the peer from ever seeing this end close
            try:
                SessionWarden(job, theirs, [note] if note else []).serve()
            finally:
                os._exit(0)
        theirs.close()
        session = _Session(warden=pid, sock=ours, workdir=job["workdir"], running=set())
        self.sessions[job["session"]] = session
        self.by_fd[ours.fileno()] = job["session"]
        return session

    def _collect(self, session_id: int) -> None:
        """One result from a session's warden, to the parent; a warden gone fails its runs."""
        session = self.sessions[session_id]
        try:
            result = protocol.read_result(wire.recv(session.sock))
        except (OSError, wire.WireError, protocol.BadMessage) as exc:
            for job_id in sorted(session.running):
                self._answered(session, job_id)
                wire.send(self.ctl, protocol.run_failed(job_id, f"the session's warden died without a result ({exc})"))
            self._close(session_id)
            return
        self._answered(session, result["id"])
        wire.send(self.ctl, result)

    def _answered(self, session: _Session, job_id: int) -> None:
        if job_id not in session.running:
            return
        session.running.discard(job_id)
        self.busy[session.workdir] -= 1
        if not self.busy[session.workdir]:
            del self.busy[session.workdir]
            self.workdirs.wipe(session.workdir)  # before the parent hears of it, and sends the next run

    def _close(self, session_id: int) -> None:
        session = self.sessions.pop(session_id, None)
        if session is None:
            return
        del self.by_fd[session.sock.fileno()]
        for job_id in sorted(session.running):
            self._answered(session, job_id)
        _kill(session.warden)  # its host dies with it, and the host's runs with the host
        os.waitpid(session.warden, 0)
        session.sock.close()
        self.workdirs.release(session.workdir)

    def _shutdown(self) -> None:
        for session in self.sessions.values():
            _kill(session.warden)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


class _Watched(NamedTuple):
    """What the warden saw of a run, before its measurements are corrected. (A NamedTuple, not a
    dataclass: importing dataclasses would add milliseconds to every zygote's start.)"""

    wall_ms: float
    timed_out: bool
    output_exceeded: bool
    stdout: str
    stderr: str
    crash: CrashInfo | None
    status: HostStatus | None
    count_report: bytes  # what the run wrote on ``COUNT_FD`` (a counted run's ``OpCount``, if it is one)


_PIPES = ("out", "err", "crash", "setup", "go", "status", "count")


class SessionWarden:
    """Serves one session: forks its host (into a PID namespace of the session's own), then for
    each job the zygote forwards has the host fork a run, and watches and measures that run."""

    def __init__(self, first: Job, sock: socket.socket, notes: list[str]) -> None:
        self.first = first
        self.sock = sock
        self.notes = notes
        self.by_group = False
        self.host_sock: socket.socket | None = None
        self.host_pid = 0

    def serve(self) -> None:
        confine.die_with_parent(signal.SIGKILL)
        in_namespace = confine.unshare(confine.CLONE_NEWPID)
        if in_namespace is not None:
            self.notes.append(f"no PID namespace ({in_namespace}): leftover processes are killed by group")
        self.by_group = in_namespace is not None
        error = self._start_host()
        while True:
            try:
                message, fds = wire.recv_with_fds(self.sock)
            except (OSError, wire.WireError):
                break  # the zygote ends the session
            job = cast(Job, message)
            result: RunResult | RunFailed
            if error is not None:
                for fd in fds:
                    os.close(fd)
                result = self._failed(job, f"sandbox setup failed: {error}")
            else:
                try:
                    result = self._run(job, fds)
                except BaseException as exc:  # the warden's own failure: a harness error
                    result = self._failed(job, f"warden failed: {type(exc).__name__}: {exc}")
            wire.send(self.sock, result)
        _kill(self.host_pid)

    def _start_host(self) -> str | None:
        """Fork the host and wait for its root to be made; None, or why it could not be."""
        ours, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            self.sock.close()
            ours.close()
            if theirs.fileno() != HOST_FD:
                os.dup2(theirs.fileno(), HOST_FD)
            payload.host(self.first, self.first["uid"])
        theirs.close()
        self.host_pid, self.host_sock = pid, ours
        ours.settimeout(SETUP_TIMEOUT_S)
        try:
            ready = protocol.read_host_ready(wire.recv(ours))
        except (OSError, wire.WireError, protocol.BadMessage) as exc:
            return f"the session's host did not start ({exc})"
        if ready["error"] is not None:
            return ready["error"]
        self.notes.extend(ready["notes"])
        return None

    def _run(self, job: Job, fds: list[int]) -> RunResult | RunFailed:
        """Run ``job``; ``fds`` (its sockets) are closed here once the host has its copies, so
        that only the run holds them (its peer sees them close when the run ends)."""
        passed = PASSED_FDS[job["role"]]
        if len(fds) != len(passed):
            for fd in fds:
                os.close(fd)
            return self._failed(job, f"a {job['role']} run needs {len(passed)} sockets, it came with {len(fds)}")
        pipes = {name: os.pipe() for name in _PIPES}
        try:
            pidfd = self._fork(job, pipes, dict(zip(passed, fds)))
        except BaseException:  # ``_fork`` has closed the run's ends: these are the warden's
            for name in _PIPES:
                _close(pipes[name][1] if name == "go" else pipes[name][0])
            raise
        with _Closing(pidfd):
            return self._watch_run(job, pidfd, pipes)

    def _fork(self, job: Job, pipes: dict[str, tuple[int, int]], passed: dict[int, int]) -> int:
        """Have the host fork the run with its fds in place; the warden keeps the other ends.
        Returns the run's pidfd."""
        assert self.host_sock is not None
        path = job["stdin"] if job["role"] == "program" else None
        stdin = os.open(path or os.devnull, os.O_RDONLY)
        fd_map = {STDIN_FD: stdin, STDOUT_FD: pipes["out"][1], STDERR_FD: pipes["err"][1], SETUP_FD: pipes["setup"][1],
                  GO_FD: pipes["go"][0], STATUS_FD: pipes["status"][1]}
        if job["role"] == "program":
            fd_map[CRASH_FD] = pipes["crash"][1]
        if "bytecode_token" in job:
            fd_map[COUNT_FD] = pipes["count"][1]
        fd_map.update(passed)
        request: HostFork = {"op": "fork", "job": job, "fds": list(fd_map)}
        try:
            wire.send(self.host_sock, request, list(fd_map.values()))
        finally:
            for fd in [stdin, pipes["go"][0], *passed.values()] + [pipes[n][1] for n in _PIPES if n != "go"]:
                os.close(fd)
        self.host_sock.settimeout(SETUP_TIMEOUT_S)
        message, pidfds = wire.recv_with_fds(self.host_sock)
        protocol.read_host_forked(message)
        if len(pidfds) != 1:
            for fd in pidfds:
                os.close(fd)
            raise protocol.BadMessage("the host sent no pidfd for the run")
        return pidfds[0]

    def _watch_run(self, job: Job, pidfd: int, pipes: dict[str, tuple[int, int]]) -> RunResult | RunFailed:
        pid = _pid_of(pidfd)
        counted = job["counted"]
        counter = confine.open_counter(pid, counted["type"], counted["config"], disabled=True) if pid else None
        _signal(pipes["go"][1])  # armed: the run may confine itself
        setup = self._read_setup(pipes["setup"][0])
        if setup["setup"] == "failed":
            self._kill_run(pidfd, pid)
            _close_counter(counter)
            self._watch(job, pidfd, pid, time.monotonic(), pipes)  # the host reaps it: wait for that
            return self._failed(job, f"sandbox setup failed: {setup['error']}")
        if counter is not None and not confine.enable_counter(counter):
            _close_counter(counter)
            counter = None
        started = time.monotonic()
        _signal(pipes["go"][1])
        os.close(pipes["go"][1])
        watched = self._watch(job, pidfd, pid, started, pipes)
        instructions = confine.read_counter(counter) if counter is not None else None  # and closes it
        if watched.status is None:
            return self._failed(job, "the session's host reported no status for the run", setup["notes"])
        return self._result(job, watched, watched.status, setup, instructions)

    def _result(self, job: Job, watched: _Watched, status: HostStatus, setup: SetupDone,
                instructions: int | None) -> RunResult:
        wait_status = status["wait_status"]
        own_cpu_ms = status["cpu_s"] * 1000 - setup["cpu_s"] * 1000
        notes = self.notes + setup["notes"]
        result: RunResult = {
            "op": "result",
            "id": job["id"],
            "exit_code": os.WEXITSTATUS(wait_status) if os.WIFEXITED(wait_status) else None,
            "signal": os.WTERMSIG(wait_status) if os.WIFSIGNALED(wait_status) else None,
            "timed_out": watched.timed_out,
            "output_exceeded": watched.output_exceeded,
            "wall_ms": watched.wall_ms,
            "cpu_ms": round(max(0.0, own_cpu_ms), 3),
            "peak_kb": _peak_kb(job, status, setup),
            "instructions": instructions,
            "stdout": watched.stdout,
            "stderr": watched.stderr,
            "crash": watched.crash,
            "notes": notes,
        }
        if "bytecode_token" in job:
            result["bytecodes"] = _bytecodes(job, watched, wait_status, notes)
        return result

    def _failed(self, job: Job, error: str, notes: list[str] | None = None) -> RunFailed:
        return protocol.run_failed(job["id"], error, self.notes + (notes or []))

    def _read_setup(self, fd: int) -> SetupReport:
        """The run's setup report (at most ``SETUP_REPORT_MAX`` bytes, within ``SETUP_TIMEOUT_S``)."""
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

    def _watch(self, job: Job, pidfd: int, pid: int, started: float, pipes: dict[str, tuple[int, int]]) -> _Watched:
        """Read the run's output against its limit until it ends (or its deadline kills it), then
        what is left of its pipes and the host's status of it."""
        out_limit = int(job["limits"]["output_bytes"])
        deadline = started + float(job["limits"]["wall_s"])
        streams = {pipes[name][0]: bytearray() for name in ("out", "err", "crash", "status", "count")}
        out_fd, err_fd, status_fd = pipes["out"][0], pipes["err"][0], pipes["status"][0]
        timed_out = output_exceeded = False
        finished_at = None
        open_fds = set(streams)
        while True:
            now = time.monotonic()
            if finished_at is None and now >= deadline:
                timed_out = True
                self._kill_run(pidfd, pid)
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
                        self._kill_run(pidfd, pid)
                elif fd == err_fd:
                    buf.extend(chunk)
                    if len(buf) > 2 * STDERR_KEEP:
                        del buf[:-STDERR_KEEP]
                elif len(buf) < STDERR_KEEP:
                    buf.extend(chunk[: STDERR_KEEP - len(buf)])
        ended = finished_at if finished_at is not None else time.monotonic()
        status = _read_status(bytes(streams[status_fd])) if status_fd not in open_fds else None
        for fd in streams:
            os.close(fd)
        return _Watched(wall_ms=round((ended - started) * 1000, 3),
                        timed_out=timed_out, output_exceeded=output_exceeded,
                        stdout=streams[out_fd].decode("utf-8", errors="replace"),
                        stderr=streams[err_fd][-STDERR_KEEP:].decode("utf-8", errors="replace"),
                        crash=_read_crash(bytes(streams[pipes["crash"][0]])), status=status,
                        count_report=bytes(streams[pipes["count"][0]]))

    def _kill_run(self, pidfd: int, pid: int) -> None:
        """Kill the run (the host then kills what it left); by group where there is no PID namespace."""
        try:
            if self.by_group and pid:
                os.killpg(pid, signal.SIGKILL)
            else:
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        except OSError:
            pass


class _Closing:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __enter__(self) -> int:
        return self.fd

    def __exit__(self, *exc: object) -> None:
        _close(self.fd)


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def _pid_of(pidfd: int) -> int:
    """The run's pid in this process's namespace (a pidfd's fdinfo says it); 0 if unknown."""
    try:
        with open(f"/proc/self/fdinfo/{pidfd}") as fh:
            for line in fh:
                if line.startswith("Pid:"):
                    pid = int(line.split()[1])
                    return pid if pid > 0 else 0
    except (OSError, ValueError, IndexError):
        pass
    return 0


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


_INTERPRETER_RSS_KB = 0  # set by main


def _peak_kb(job: Job, status: HostStatus, setup: SetupDone) -> int:
    """The memory a run is judged by. A program's is the peak resident size of ``python3 prog.py``
    as a judge measures it: the interpreter's own after start-up plus what the run added (not what
    this zygote preloaded, which a fresh interpreter would not have). A solution's (a function called
    by tests) is only what the calls added, so that candidates compare by their own work."""
    added = max(0, status["maxrss_kb"] - setup["maxrss_kb"])
    return added + _INTERPRETER_RSS_KB if job["role"] == "program" else added


def _bytecodes(job: Job, watched: _Watched, wait_status: int, notes: list[str]) -> int | None:
    """The counted run's bytecodes, if it reported a count that holds; else a note (in ``notes``) says why not."""
    count = _read_count(watched.count_report)
    finished = not watched.timed_out and not os.WIFSIGNALED(wait_status)
    signed = count is not None and count["token"] == job.get("bytecode_token")
    if count is not None and signed and count["intact"] and finished:
        return count["bytecodes"]
    why = ("the run did not finish" if not finished else "the run reported no count" if count is None
           else "the code interfered with the counter")
    notes.append(f"bytecodes not counted: {why}")
    return None


def _read_count(raw: bytes) -> OpCount | None:
    """What a counted run said of its bytecodes: written by the run, so anything malformed is nothing."""
    if not raw:
        return None
    try:
        return protocol.read_count(json.loads(raw))
    except (ValueError, RecursionError):
        return None


def _read_status(raw: bytes) -> HostStatus | None:
    """The host's report of a run, None if it wrote none. The host runs no untrusted code, so a
    malformed one is the harness's failure (``BadMessage``, reported as the warden's)."""
    if not raw:
        return None
    return protocol.read_status(json.loads(raw))
