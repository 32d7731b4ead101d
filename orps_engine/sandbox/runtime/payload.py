"""The sandboxed processes: a session's host, confined once, and the runs it forks, each of which
confines itself further, runs one role and exits.

Roles: ``program`` runs a whole file on stdin/stdout; ``solution`` loads a module and answers
the checker's requests; ``checker`` runs one test against the solution (see ``checker``).
Confinement happens before any untrusted byte is compiled, and a failure there is reported as
a setup error (the harness's fault), never as the solution's. What they tell the warden (the
host's readiness and status, a run's setup report, a program's crash) are ``protocol`` messages
on the fds named there.
"""

from __future__ import annotations

import io
import json
import os
import resource
import signal
import socket
import sys
import tempfile
import types
from collections.abc import Mapping
from typing import Any, NoReturn

from . import confine, imports, mounts, opcount, protocol, rpc, seccomp, wire
from .protocol import (
    COUNT_FD,
    CRASH_FD,
    GO_FD,
    HOST_FD,
    RPC_FD,
    SETUP_FD,
    STATUS_FD,
    CrashInfo,
    HostFork,
    HostReady,
    HostStatus,
    Job,
    ProgramJob,
    SetupReport,
    SolutionJob,
)

SETUP_FAILED = 111
ROLE_FAILED = 112


def host(job: Job, uid: int | None) -> NoReturn:
    """Become a session's host: its root (``mounts``) and working directory, made once, then fork
    a run per ``HostFork`` that comes on ``HOST_FD``, each confining itself before any untrusted
    byte is compiled.

    The host runs no untrusted code, so what it reports of a run (its wait status and usage) is
    the warden's to trust. It is the PID namespace's init: init is immune to signals it has no
    handler for (a run can neither kill it nor would a run behave as it does under ``python``
    if it were init itself, so the run is its child), and when a run ends the host kills and
    reaps whatever the run left, so their CPU time is counted too. It is not dumpable, so a run
    cannot read its memory through /proc.
    """
    ready: HostReady
    try:
        os.setsid()
        confine.die_with_parent(signal.SIGKILL)
        _arrange_fds({HOST_FD: HOST_FD})
        notes = mounts.isolate(job)  # before anything resolves a path: the session's own root
        _enter_workdir(job)
        seccomp.prepare()  # the filters, built once here instead of in every run
        confine.prctl(confine.PR_SET_DUMPABLE, 0)
        ready = {"op": "host", "error": None, "notes": notes}
    except BaseException as exc:  # anything here is our failure, reported as such
        ready = {"op": "host", "error": f"{type(exc).__name__}: {exc}", "notes": []}
    sock = socket.socket(fileno=HOST_FD)
    wire.send(sock, ready)
    if ready["error"] is not None:
        os._exit(SETUP_FAILED)
    while True:
        try:
            message, fds = wire.recv_with_fds(sock)
            request = protocol.read_host_fork(message)
        except (OSError, wire.WireError, protocol.BadMessage):
            os._exit(0)  # the warden is gone, or ends the session
        _fork_run(sock, request, fds, uid)


def _fork_run(sock: socket.socket, request: HostFork, fds: list[int], uid: int | None) -> None:
    fd_map = dict(zip(request["fds"], fds))
    status_fd = fd_map.pop(STATUS_FD)
    pid = os.fork()
    if pid == 0:
        _run(request["job"], fd_map, uid)
    for fd in fd_map.values():
        os.close(fd)
    pidfd = os.pidfd_open(pid)
    try:
        wire.send(sock, {"op": "forked"}, [pidfd])
    except OSError:
        pass  # the warden is gone: this process dies with it
    finally:
        os.close(pidfd)
    status = _reap(pid)
    try:
        _write_json(status_fd, status)
    except OSError:
        pass
    os.close(status_fd)


def _reap(run_pid: int) -> HostStatus:
    """Wait for the run, then kill and reap what it left: its status, and everyone's usage."""
    usages, status = [], None
    while status is None and (child := _wait_any()) is not None:
        pid, wait_status, usage = child
        usages.append(usage)
        if pid == run_pid:
            status = wait_status
    try:
        if os.getpid() == 1:  # the namespace's init: -1 means everything else in the namespace
            os.kill(-1, signal.SIGKILL)
        else:  # no PID namespace: the run's process group (it made its own)
            os.killpg(run_pid, signal.SIGKILL)
    except OSError:
        pass
    while (child := _wait_any()) is not None:
        usages.append(child[2])
    return {"wait_status": status if status is not None else signal.SIGKILL,
            "cpu_s": round(sum(u.ru_utime + u.ru_stime for u in usages), 6),
            "maxrss_kb": max((u.ru_maxrss for u in usages), default=0)}


def _wait_any() -> tuple[int, int, resource.struct_rusage] | None:
    """The next child to end (its pid, status and usage); None when there is none left."""
    try:
        return os.wait4(-1, 0)
    except ChildProcessError:
        return None


def _run(job: Job, fd_map: dict[int, int], uid: int | None) -> NoReturn:
    """The run, forked from the host: its own fds, limits, SysV IPC and confinement, then its role."""
    try:
        os.setsid()
        confine.die_with_parent(signal.SIGKILL)
        # Dumpable until it confines itself, so that a warden without privileges (a normal user's)
        # may open its counter on it; the host is not (its memory is not the run's to read).
        confine.prctl(confine.PR_SET_DUMPABLE, 1)
        confine.settle_fresh_pages()  # before the run's own data lands on the pages it is given
        _arrange_fds(fd_map)  # the host's socket and status pipe are closed here
        os.read(GO_FD, 1)  # the warden's counter is on this process now
        confine.set_limits(job["limits"])
        notes = mounts.isolate_ipc() + _confine(job, uid)
    except BaseException as exc:
        _setup_failed(exc)
    # What the setup itself cost, measured before any untrusted code runs: the warden
    # subtracts it, so a run's figures are the solution's own.
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _report_setup({"setup": "done", "cpu_s": round(usage.ru_utime + usage.ru_stime, 6), "maxrss_kb": usage.ru_maxrss,
                   "notes": notes})
    os.read(GO_FD, 1)
    os.close(GO_FD)
    _reset_stdio()
    try:
        code = _run_role(job)
    except BaseException:  # a role's own failure (the roles catch the code they run): never return
        import traceback  # into the host's frames, whose process this one was forked from

        traceback.print_exc()
        code = ROLE_FAILED
    rpc.flush_stdio(*_MADE_STREAMS)  # as the interpreter at exit; then the streams made at the start, if replaced
    os._exit(code)


def _run_role(job: Job) -> int:
    """The role's code, its bytecodes counted where the job asks (``opcount``; reported on ``COUNT_FD``)."""
    with opcount.counting(job, COUNT_FD):
        return _role(job)


def _role(job: Job) -> int:
    if job["role"] == "program":
        return run_program(job)
    if job["role"] == "solution":
        return serve_solution(job)
    if job["role"] == "discover":
        from . import discover

        return discover.main(job)
    from . import checker

    return checker.main(job)


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def _write_json(fd: int, message: Mapping[str, object]) -> None:
    """One message on a pipe: the reader takes everything up to end of file as one JSON value."""
    os.write(fd, json.dumps(message, separators=(",", ":")).encode())


def _setup_failed(exc: BaseException) -> NoReturn:
    _report_setup({"setup": "failed", "error": f"{type(exc).__name__}: {exc}"})
    os._exit(SETUP_FAILED)


def _report_setup(report: SetupReport) -> None:
    try:
        _write_json(SETUP_FD, report)
    except OSError:
        pass
    _close(SETUP_FD)


def _arrange_fds(fd_map: dict[int, int]) -> None:
    import fcntl

    staged = {target: fcntl.fcntl(source, fcntl.F_DUPFD_CLOEXEC, 64) for target, source in fd_map.items()}
    for target, fd in staged.items():
        os.dup2(fd, target, inheritable=target <= 2)
        os.close(fd)
    keep = set(fd_map)
    for fd in _open_fds():
        if fd not in keep:
            _close(fd)


def _open_fds() -> list[int]:
    return [int(name) for name in os.listdir("/proc/self/fd") if name.isdigit()]


def _enter_workdir(job: Job) -> None:
    """What the host and its runs share: the working directory, and the environment that names it."""
    workdir = job["workdir"]
    os.chdir(workdir)
    os.environ.update({"HOME": workdir, "TMPDIR": workdir})
    tempfile.tempdir = workdir


def _confine(job: Job, uid: int | None) -> list[str]:
    """The run's own restrictions, applied in the run itself (so /proc/self is its own); the
    system-call filter last, once nothing of the setup needs a call it refuses. Returns the
    run's notes: what is not enforced, and how children are counted where they are allowed."""
    note = confine.landlock(job["read_paths"], [job["workdir"], "/dev/null"], job["list_paths"])
    confine.drop_privileges(uid, keep_read_search=note is None)
    confine.prctl(confine.PR_SET_DUMPABLE, 0)
    confine.prctl(confine.PR_SET_NO_NEW_PRIVS, 1)  # Landlock set it, unless the kernel has none
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)  # Python ignores it; a judge wants the kill
    if job["cwd"] is not None:
        os.chdir(job["cwd"])  # a project's root, as pytest run there has it (read-only here)
    forks = _forks_allowed(job)
    unfiltered = seccomp.install(forks=forks)
    notes = [unfiltered] if unfiltered is not None else []
    if forks and job["role"] in _COUNTED_ROLES:
        notes.append(CHILDREN_COUNTED_APART)
    return notes


# The roles whose figures decide verdicts and rankings: one process each, unless the job says otherwise.
# The checker and discover roles run the user's own tests (pytest), which may start processes.
_COUNTED_ROLES = ("program", "solution")
CHILDREN_COUNTED_APART = ("child processes are allowed (--allow-subprocesses): each has CPU and memory limits of "
                          "its own, and its CPU counts only once reaped, its memory apart from the run's")


def _forks_allowed(job: Job) -> bool:
    return job["role"] not in _COUNTED_ROLES or bool(job["limits"]["subprocesses"])


def _reset_stdio() -> None:
    """Fresh standard streams made as CPython makes them at start-up (``create_stdio``): buffered
    binary layers under text layers that split lines at ``\\n`` only, with the encoding and error
    handlers the interpreter chose for its own (``sys.__stdin__``), stdout block-buffered and
    stderr line-buffered. So ``sys.stdin.buffer.readline`` reads a buffer at a time and ``input()``
    keeps a ``\\r``, as under ``python3 prog.py < input``."""
    def stream(fd: int, mode: str, like: Any, fallback_errors: str) -> io.TextIOWrapper:
        encoding = getattr(like, "encoding", None) or "utf-8"
        errors = getattr(like, "errors", None) or fallback_errors
        opened = open(fd, mode, buffering=-1, encoding=encoding, errors=errors, newline="\n", closefd=False)
        assert isinstance(opened, io.TextIOWrapper)
        return opened

    sys.stdin = stream(0, "r", sys.__stdin__, "surrogateescape")
    sys.stdout = stream(1, "w", sys.__stdout__, "surrogateescape")
    sys.stderr = stream(2, "w", sys.__stderr__, "backslashreplace")
    sys.stderr.reconfigure(line_buffering=True)
    _MADE_STREAMS[:] = [sys.stdout, sys.stderr]


_MADE_STREAMS: list[io.TextIOWrapper] = []


def _compile(job: ProgramJob) -> types.CodeType:
    return imports.compile_source(job["source"], job["filename"])


def run_program(job: ProgramJob) -> int:
    """Run the file as ``__main__``, then wait for its threads as ``python FILE`` would; an
    uncaught exception is described on ``CRASH_FD``."""
    _write_files(job["files"])
    code = _run_main(job)
    _finish_threads()
    return code


def _finish_threads() -> None:
    """Wait for the non-daemon threads, as the interpreter does at exit (``threading._shutdown``),
    before the payload's ``os._exit``: their work is the run's, counted and limited with it, and a
    thread that never ends makes a run that never ends. Daemon threads die with the process."""
    threading = sys.modules.get("threading")  # not imported: no thread of that module's to wait for
    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is not None:
        shutdown()


def _write_files(files: dict[str, str]) -> None:
    """The files the job brings (a checker's input, output and answer), in the working directory:
    the run's own tmpfs, so they count against its disk limit and go with it."""
    for name, text in files.items():
        with open(name, "x", encoding="utf-8", errors="surrogateescape") as out:
            out.write(text)


def _run_main(job: ProgramJob) -> int:
    filename = job["filename"]
    module = types.ModuleType("__main__")
    module.__file__ = filename
    sys.modules["__main__"] = module
    sys.argv = [filename, *job["argv"]]
    try:
        exec(_compile(job), module.__dict__)
    except SystemExit as exc:
        return _exit_status(exc.code)
    except BaseException as exc:
        _describe_crash(exc, filename)
        return 1
    return 0


def _exit_status(code: Any) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _describe_crash(exc: BaseException, filename: str) -> None:
    import traceback

    rpc.flush_stdio()
    traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    info: CrashInfo = {"type": str(type(exc).__name__)[:rpc.MAX_NAME], "message": rpc.safe_str(exc)[:rpc.MAX_TEXT],
                       "line": rpc.user_frame_line(exc, filename)}
    try:
        _write_json(CRASH_FD, info)
    except OSError:
        pass


class _Tee(io.TextIOBase):
    """stdout for the solution role: everything still goes to fd 1 (where the warden counts it
    against the output limit), and a copy rides back with each reply for doctests."""

    def __init__(self, limit: int) -> None:
        self._out = sys.stdout
        self._parts: list[str] = []
        self._room = limit

    def write(self, text: str) -> int:
        self._out.write(text)
        if self._room > 0:
            self._parts.append(text[: self._room])
            self._room -= len(text)
        return len(text)

    def flush(self) -> None:
        self._out.flush()

    def drain(self) -> str:
        self._out.flush()
        text = "".join(self._parts)
        self._parts.clear()
        return text


def serve_solution(job: SolutionJob) -> int:
    filename = job["filename"]
    tee = _Tee(int(job["limits"]["output_bytes"]))
    sys.stdout = tee
    state: dict[str, Any] = {}

    def load() -> types.ModuleType:
        if "error" in state:
            raise state["error"]
        if "module" not in state:
            try:
                state["module"] = imports.import_source(job["module"], job["source"], filename, job["package"],
                                                        job["sys_path"])
            except BaseException as exc:
                state["error"] = exc
                raise
        module: types.ModuleType = state["module"]
        return module

    sock = socket.socket(fileno=RPC_FD)
    endpoint = rpc.Endpoint(sock, serve_ops=rpc.SOLUTION_OPS, module_loader=load,
                            error_line=lambda exc: rpc.user_frame_line(exc, filename),
                            drain_output=tee.drain)
    endpoint.serve_forever()
    _finish_threads()
    return 0
