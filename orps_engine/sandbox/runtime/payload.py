"""The sandboxed process: confine itself, then run one role and exit.

Roles: ``program`` runs a whole file on stdin/stdout; ``solution`` loads a module and answers
the checker's requests; ``checker`` runs one test against the solution (see ``checker``).
Confinement happens before any untrusted byte is compiled, and a failure there is reported as
a setup error (the harness's fault), never as the solution's. What it tells the warden (its setup
report, the reaper's status, a program's crash) are ``protocol`` messages on the fds named there.
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

from . import confine, imports, mounts, opcount, rpc, seccomp
from .protocol import (
    COUNT_FD,
    CRASH_FD,
    GO_FD,
    RPC_FD,
    SETUP_FD,
    STATUS_FD,
    CrashInfo,
    Job,
    ProgramJob,
    ReaperStatus,
    SetupReport,
    SolutionJob,
)

SETUP_FAILED = 111
ROLE_FAILED = 112


def enter(job: Job, fd_map: dict[int, int], uid: int | None) -> NoReturn:
    """Become the sandbox: confine this process, then fork the run.

    This process stays behind as the PID namespace's init (a *reaper*): init is immune to
    signals it has no handler for, which would change how a run behaves (SIGXFSZ, SIGTERM
    to itself, abort), so the run is its child. When the run ends, the reaper kills and reaps
    whatever the run left, so their CPU time is counted too, and reports the run's status.
    ``fd_map`` maps target fd numbers to inherited fds.
    """
    try:
        os.setsid()
        confine.die_with_parent(signal.SIGKILL)
        _arrange_fds(fd_map)
        isolated = mounts.isolate(job)  # before anything resolves a path: the run's own root
        _prepare(job)
        os.read(GO_FD, 1)  # the warden's counter is on this process: the run forked now inherits it
        run_pid = os.fork()
    except BaseException as exc:  # anything here is our failure, reported as such
        _setup_failed(exc)
    if run_pid:
        _reap(run_pid, uid)
    try:
        confine.die_with_parent(signal.SIGKILL)
        os.close(STATUS_FD)
        notes = isolated + _confine(job, uid)
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
        import traceback  # into the warden's frames, whose process this one was forked from

        traceback.print_exc()
        code = ROLE_FAILED
    rpc.flush_stdio()
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


def _reap(run_pid: int, uid: int | None) -> NoReturn:
    for fd in _open_fds():
        if fd != STATUS_FD:
            _close(fd)
    confine.drop_privileges(uid, keep_read_search=False)
    confine.prctl(confine.PR_SET_DUMPABLE, 0)
    status = None
    while status is None:
        try:
            pid, wait_status = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if pid == run_pid:
            status = wait_status
    if os.getpid() == 1:  # the namespace's init: -1 means everything else in the namespace
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            break
    usage = resource.getrusage(resource.RUSAGE_SELF)
    report: ReaperStatus = {"wait_status": status, "cpu_s": round(usage.ru_utime + usage.ru_stime, 6)}
    try:
        _write_json(STATUS_FD, report)
    finally:
        os._exit(0)


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


def _prepare(job: Job) -> None:
    """What the reaper and the run share: working directory, environment, rlimits."""
    workdir = job["workdir"]
    os.chdir(workdir)
    os.environ.update({"HOME": workdir, "TMPDIR": workdir})
    tempfile.tempdir = workdir
    confine.set_limits(job["limits"])


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
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8", errors="replace")
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8",
                                  errors="backslashreplace", write_through=False)
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8",
                                  errors="backslashreplace", line_buffering=True)


def _compile(job: ProgramJob) -> types.CodeType:
    return imports.compile_source(job["source"], job["filename"])


def run_program(job: ProgramJob) -> int:
    """Run the file as ``__main__``, then wait for its threads as ``python FILE`` would; an
    uncaught exception is described on ``CRASH_FD``."""
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


def _run_main(job: ProgramJob) -> int:
    filename = job["filename"]
    module = types.ModuleType("__main__")
    module.__file__ = filename
    sys.modules["__main__"] = module
    sys.argv = [filename]
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
