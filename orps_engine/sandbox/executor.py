"""The parent side of the sandbox: start a zygote, hand it runs, collect raw results.

A ``Sandbox`` is one zygote serving one solution's runs, one at a time. Its results are
``RawRun`` and ``FunctionRun`` records (exit status, rusage figures, captured bytes, the checker's
report) that only ``judge`` turns into verdicts. Nothing here runs the user's code: it runs in
the zygote's payloads, confined as ``runtime.payload`` describes. What passes between this
process and the sandbox's is ``runtime.protocol``'s messages, checked by its readers as they arrive.
"""

from __future__ import annotations

import ast
import fcntl
import itertools
import logging
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path

from .. import config, pyast
from ..errors import HarnessError, InputError
from . import policy
from .policy import Access, ProjectRun
from .records import FunctionRun, RawRun, parse_report
from .runtime import confine, protocol, wire
from .runtime.protocol import (
    CheckerJob,
    CheckerSpec,
    DiscoverJob,
    DiscoverReport,
    DiscoverSpec,
    Job,
    JobCommon,
    JobLimits,
    ProgramJob,
    SolutionJob,
)
from .sessions import Sessions

log = logging.getLogger(__name__)

BOOT = Path(__file__).with_name("runtime") / "boot.py"
BOOT_VERSION_MESSAGE = "orps runs code with Python 3.10 or newer"  # what boot.py says to an older one
START_TIMEOUT_S = 120.0
REPLY_MARGIN_S = 30.0
# Standard modules whose import has visible side effects (a browser, a window, printing).
_NEVER_PRELOAD = frozenset({"antigravity", "this", "turtle", "turtledemo", "tkinter", "idlelib", "webbrowser",
                            "pydoc", "__hello__", "__phello__", "__main__", "code"})
# The runtime's own modules every zygote imports ahead (its runs cannot read orps's files).
# ``PYTEST_RUNTIME`` only where pytest tests run: importing it imports pytest.
_RUNTIME_MODULES = ("_orps_runtime.checker", "_orps_runtime.imports", "_orps_runtime.discover")
PYTEST_RUNTIME = "_orps_runtime.pytest_case"


class CountedEvent(Enum):
    """What the warden counts on each run (``RawRun.instructions``), from the moment the run starts
    until it ends, over all its processes. Instructions where the CPU exposes them (else None);
    the software task clock (CPU nanoseconds) is every kernel's, for checking that the count
    covers the run where the machine has no hardware counter."""

    INSTRUCTIONS = (confine.PERF_TYPE_HARDWARE, confine.PERF_COUNT_HW_INSTRUCTIONS)
    TASK_CLOCK = (confine.PERF_TYPE_SOFTWARE, confine.PERF_COUNT_SW_TASK_CLOCK)

    def as_job(self) -> protocol.CountedEvent:
        kind, config_ = self.value
        return {"type": kind, "config": config_}


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    cpu_s: float
    wall_s: float
    memory_kb: int
    address_space_kb: int | None = None  # None: memory_kb and config.ADDRESS_SPACE_SLACK_MB
    output_bytes: int = config.OUTPUT_LIMIT_BYTES
    file_bytes: int = config.FILE_SIZE_LIMIT_BYTES
    nofile: int = config.OPEN_FILES_LIMIT
    nproc: int = config.PROCESS_LIMIT
    stack_bytes: int = config.STACK_LIMIT_BYTES
    subprocesses: bool = False  # program and solution runs may start processes (see ``runtime.seccomp``)
    disk_bytes: int = config.DISK_LIMIT_BYTES
    disk_files: int = config.DISK_FILES_LIMIT

    @classmethod
    def for_time_and_memory(cls, time_limit_s: float, memory_limit_mb: int, *, subprocesses: bool = False) -> Limits:
        wall = max(config.WALL_FACTOR * time_limit_s, time_limit_s + config.WALL_SLACK_S)
        return cls(cpu_s=time_limit_s, wall_s=wall, memory_kb=memory_limit_mb * 1024, subprocesses=subprocesses)

    def judged_by_resident_memory(self) -> Limits:
        """The limits of a program, judged as a judge judges ``python3 prog.py``: by its peak resident
        size, with room to reserve address space it never touches (a large thread stack)."""
        room = max(config.ADDRESS_SPACE_FACTOR * self.memory_kb, self.memory_kb + config.ADDRESS_SPACE_FLOOR_MB * 1024)
        return replace(self, address_space_kb=room)

    def as_job(self, extra_wall_s: float = 0.0, extra_cpu_s: float = 0.0) -> JobLimits:
        space = self.address_space_kb
        if space is None:
            space = self.memory_kb + config.ADDRESS_SPACE_SLACK_MB * 1024
        return {"cpu_s": self.cpu_s + extra_cpu_s, "wall_s": self.wall_s + extra_wall_s, "memory_kb": self.memory_kb,
                "address_space_kb": space,
                "output_bytes": self.output_bytes, "file_bytes": self.file_bytes, "nofile": self.nofile,
                "nproc": self.nproc, "stack_bytes": self.stack_bytes, "subprocesses": self.subprocesses,
                "disk_bytes": self.disk_bytes, "disk_files": self.disk_files}


class Sandbox:
    """One zygote of interpreter ``python`` (default: this one), ready to run code from
    ``solution_dir``; the runs may not read that folder nor ``protected`` ones, but as the
    access policy (``policy``) grants them."""

    def __init__(self, *, python: str | None = None, solution_dir: Path | None = None, preload: Iterable[str] = (),
                 sibling_modules: bool = True, protected: Iterable[Path] = (),
                 counted: CountedEvent = CountedEvent.INSTRUCTIONS) -> None:
        self._lock = threading.Lock()
        self.counted = counted
        self._ids = itertools.count(1)
        self._closed = False
        self.python = python or sys.executable
        self.base = Path(tempfile.mkdtemp(prefix="orps-"))
        os.chmod(self.base, 0o711)
        self.uid, self._uid_lock = _claim_uid()
        self._sessions = Sessions(self.base, self.uid, self._ids, self._end_session)
        self.lib_dir = self._copy_siblings(solution_dir) if solution_dir and sibling_modules else None
        self.solution_dir = solution_dir if sibling_modules else None
        self._protected = [p for p in (solution_dir, *protected) if p is not None]
        self._sock, child = socket.socketpair()
        self._stderr = open(self.base / "zygote.log", "w+b")
        try:
            self._proc = subprocess.Popen(
                [self.python, "-s", "-B", str(BOOT), str(child.fileno())], pass_fds=[child.fileno()],
                env=sandbox_env(str(self.base)), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=self._stderr, cwd=self.base, start_new_session=True)
        except OSError as exc:
            self._stderr.close()
            shutil.rmtree(self.base, ignore_errors=True)
            raise InputError(f"cannot start the interpreter {self.python}: {exc.strerror}",
                             hint="pass --python with the path of a Python 3.10+ interpreter") from None
        finally:
            child.close()
        self._handshake(sorted(set(preload)) + list(_RUNTIME_MODULES))

    # -- lifecycle ------------------------------------------------------------------------------
    def _handshake(self, preload: list[str]) -> None:
        self._sock.settimeout(START_TIMEOUT_S)
        try:
            wire.send(self._sock, protocol.hello(preload))
            ready = protocol.read_ready(wire.recv(self._sock))
        except (OSError, wire.WireError, protocol.BadMessage) as exc:
            zygote_log = self._zygote_log()  # before close() removes it
            self.close()
            if BOOT_VERSION_MESSAGE in zygote_log:
                raise InputError(f"{self.python} is not a Python orps can run code with: {zygote_log}",
                                 hint="pass --python with the path of a Python 3.10+ interpreter") from None
            raise HarnessError(f"the sandbox did not start: {exc}; {zygote_log}") from None
        self.interpreter = ready["interpreter"]
        self.base_reads = policy.base_reads(self.interpreter, self._protected)
        self.notes: tuple[str, ...] = tuple(ready["notes"])
        self.landlock_abi = ready["landlock_abi"]
        self._asked = set(preload)
        if self.landlock_abi < 1:
            self.notes += ("Landlock unavailable: sandboxed code can read any file its uid can",)
        if self.uid is None:
            self.notes += ("not running as root: sandboxed code runs as your own user",)

    def preload(self, modules: Iterable[str]) -> None:
        """Import more libraries in the zygote, so a sandbox can serve other problems warm."""
        wanted = sorted(set(modules) - self._asked)
        if not wanted:
            return
        with self._lock:
            self._asked.update(wanted)
            self._sock.settimeout(START_TIMEOUT_S)
            request: protocol.PreloadOp = {"op": "preload", "modules": wanted}
            try:
                wire.send(self._sock, request)
                protocol.read_preloaded(wire.recv(self._sock))
            except (OSError, wire.WireError, protocol.BadMessage) as exc:
                raise self._gone(exc) from None
            self._sessions.forget()  # their hosts were forked before: new ones have the modules warm

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        request: protocol.ShutdownOp = {"op": "shutdown"}
        try:
            wire.send(self._sock, request)
        except OSError:
            pass
        self._sock.close()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._stderr.close()
        if self._uid_lock is not None:
            os.close(self._uid_lock)
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def kill(self) -> None:
        """Stop everything now (cancellation): the zygote's death takes wardens and payloads along."""
        try:
            os.killpg(self._proc.pid, 9)
        except OSError:
            pass

    # -- runs ---------------------------------------------------------------------------------
    def run_program(self, *, source: str, filename: str, stdin: str, limits: Limits,
                    count_bytecodes: bool = False, argv: Sequence[str] = (),
                    files: Mapping[str, str] | None = None) -> RawRun:
        """Run a whole file on ``stdin``, with ``argv`` as its arguments (``sys.argv[1:]``) and
        ``files`` (plain names) in its working directory.
        ``count_bytecodes``: a counted run (``RawRun.bytecodes``), traced and so slowed: its other
        figures are not the code's (see ``runtime.opcount``). Its memory is judged as a judge's:
        peak resident size, the interpreter's included."""
        limits = limits.judged_by_resident_memory()
        access = policy.sidecar_access(self.base_reads, None)
        with self._lock, self._stdin_file(stdin) as infile:
            (session,), workdir = self._sessions.get(("program", source, filename, access), 1)
            job: ProgramJob = {**self._common(session, workdir, limits, access), "role": "program",
                               "source": source, "filename": filename, "stdin": infile, "argv": list(argv),
                               "files": dict(files or {})}
            if count_bytecodes:
                job["bytecode_token"] = secrets.token_hex(16)
            self._send(job)
            return self._results({job["id"]}, limits)[job["id"]]

    def run_function_test(self, *, source: str, filename: str, module: str, spec: CheckerSpec,
                          limits: Limits, project: ProjectRun | None = None, overhead_s: float = 0.0,
                          count_bytecodes: bool = False) -> FunctionRun:
        """Run one test: a checker process with the test, a solution process with the code,
        joined by a socket. ``spec`` goes straight to the checker, never through the zygote.
        ``project``: the code is a module of that project, and the test one of its own.
        ``overhead_s``: what the test's own side may spend besides the code under test (pytest
        starting and collecting): more CPU for the checker, more wall time for both (the code
        under test waits on the checker), the same CPU limit for the code. ``count_bytecodes``: the
        solution's process is counted (``run_program``'s), the checker's is not."""
        chk_access = (policy.project_checker_access(self.base_reads, project) if project is not None
                      else policy.sidecar_checker_access(self.base_reads, self.solution_dir))
        if project is None and self.solution_dir is not None:  # the tests import its siblings and helpers
            spec = {**spec, "sys_path": [str(self.solution_dir)]}
        with self._lock:
            (sol_session, chk_session), workdir = self._sessions.get(
                ("function", source, filename, module, project, chk_access), 2)
            rpc_sol, rpc_chk = socket.socketpair()
            ctl_parent, ctl_chk = socket.socketpair()
            try:
                sol = self._solution_job(sol_session, workdir, limits, source, filename, module, project, overhead_s)
                if count_bytecodes:
                    sol["bytecode_token"] = secrets.token_hex(16)
                chk: CheckerJob = {**self._common(chk_session, workdir, limits, chk_access,
                                                  extra_wall_s=1.0 + overhead_s, extra_cpu_s=overhead_s),
                                   "role": "checker"}
                self._send(sol, [rpc_sol.fileno()])
                self._send(chk, [rpc_chk.fileno(), ctl_chk.fileno()])
            finally:
                rpc_sol.close()
                rpc_chk.close()
                ctl_chk.close()
            with ctl_parent:
                message, report_error = self._exchange(ctl_parent, spec, limits)
            runs = self._results({sol["id"], chk["id"]}, limits)
        report = None
        if message is not None:
            try:
                report = parse_report(message)
            except protocol.BadMessage as exc:
                report_error = f"the test process sent a malformed report: {exc}"
        return FunctionRun(report=report, report_error=report_error, solution=runs[sol["id"]],
                           checker=runs[chk["id"]])

    def _solution_job(self, session: int, workdir: str, limits: Limits, source: str, filename: str, module: str,
                      project: ProjectRun | None, overhead_s: float) -> SolutionJob:
        if project is None:
            access = policy.sidecar_access(self.base_reads, self.lib_dir)
            return {**self._common(session, workdir, limits, access, extra_wall_s=overhead_s), "role": "solution",
                    "source": source,
                    "filename": filename, "module": module, "package": False,
                    "sys_path": [str(self.lib_dir)] if self.lib_dir else []}
        access = policy.project_solution_access(self.base_reads, project)
        return {**self._common(session, workdir, limits, access, extra_wall_s=overhead_s), "role": "solution",
                "source": source,
                "filename": str(project.filename), "module": project.module, "package": project.package,
                "sys_path": [str(p) for p in project.sys_path]}

    def discover(self, spec: DiscoverSpec, limits: Limits) -> RawRun | DiscoverReport:
        """Collect a project's tests and run them once on the user's code (``runtime.discover``).
        The report, or the run itself when the discover process gave none."""
        access = policy.discover_access(self.base_reads, Path(spec["root"]))
        with self._lock, self._sessions.once() as ((session,), workdir):
            ctl_parent, ctl_child = socket.socketpair()
            try:
                job: DiscoverJob = {**self._common(session, workdir, limits, access), "role": "discover"}
                self._send(job, [ctl_child.fileno()])
            finally:
                ctl_child.close()
            with ctl_parent:
                message, _error = self._exchange(ctl_parent, spec, limits)
            run = self._results({job["id"]}, limits)[job["id"]]
        if message is None:
            return run
        try:
            return protocol.read_discover_report(message)
        except protocol.BadMessage as exc:
            return RawRun(harness_error=f"the discover run sent a malformed report: {exc}", notes=run.notes)

    def _exchange(self, ctl: socket.socket, spec: CheckerSpec | DiscoverSpec,
                  limits: Limits) -> tuple[object | None, str | None]:
        """Send ``spec``; the one message that comes back, if any."""
        ctl.settimeout(limits.wall_s + REPLY_MARGIN_S)
        try:
            wire.send(ctl, spec)
            return wire.recv(ctl), None
        except (OSError, wire.WireError):
            return None, None

    def _common(self, session: int, workdir: str, limits: Limits, access: Access, extra_wall_s: float = 0.0,
                extra_cpu_s: float = 0.0) -> JobCommon:
        return {"op": "run", "id": next(self._ids), "session": session, "workdir": workdir, "uid": self.uid,
                "limits": limits.as_job(extra_wall_s, extra_cpu_s), "counted": self.counted.as_job(),
                "read_paths": list(access.read),
                "list_paths": list(access.list), "cwd": access.cwd}

    def _end_session(self, session: int) -> None:
        request: protocol.CloseOp = {"op": "close", "session": session}
        try:
            wire.send(self._sock, request)
        except OSError as exc:
            raise self._gone(exc) from None

    def _send(self, job: Job, fds: list[int] | None = None) -> None:
        try:
            wire.send(self._sock, job, fds)
        except OSError as exc:
            raise self._gone(exc) from None

    def _results(self, ids: set[int], limits: Limits) -> dict[int, RawRun]:
        self._sock.settimeout(limits.wall_s + REPLY_MARGIN_S)
        found: dict[int, RawRun] = {}
        while ids - found.keys():
            try:
                msg = protocol.read_result(wire.recv(self._sock))
            except (OSError, wire.WireError, protocol.BadMessage) as exc:
                raise self._gone(exc) from None
            found[msg["id"]] = RawRun.from_message(msg)
        return found

    def _gone(self, exc: Exception) -> HarnessError:
        what = "sent a malformed message" if isinstance(exc, protocol.BadMessage) else "went away"
        return HarnessError(f"the sandbox {what}: {exc}; {self._zygote_log()}")

    def _stdin_file(self, stdin: str) -> _StdinFile:
        return _StdinFile(self.base / f"i{next(self._ids)}", stdin)

    def _copy_siblings(self, folder: Path) -> Path | None:
        """Importable copies of what the solution may import from its own tree: the modules beside
        it and the packages there (its own included), never their tests. ``folder`` is where its
        dotted name is imported from."""
        lib = self.base / "lib"
        lib.mkdir(mode=0o755)
        copied = 0
        for path in _importable_files(folder):
            if copied >= MAX_COPIED_FILES:
                break
            target = lib / path.relative_to(folder)
            try:
                if path.stat().st_size > MAX_COPIED_BYTES:
                    continue
                target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
                shutil.copyfile(path, target)
                os.chmod(target, 0o644)
                copied += 1
            except OSError:
                continue
        return lib

    def _zygote_log(self) -> str:
        try:
            self._stderr.flush()
            text = (self.base / "zygote.log").read_text(errors="replace").strip()
        except OSError:
            text = ""
        return f"sandbox log: {text[-2000:]}" if text else "the sandbox left no log"


class _StdinFile:
    """A run's stdin, as a file the warden opens for it; removed afterwards."""

    def __init__(self, path: Path, text: str) -> None:
        self.path, self.text = path, text

    def __enter__(self) -> str:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(self.text)
        return str(self.path)

    def __exit__(self, *exc: object) -> None:
        self.path.unlink(missing_ok=True)


MAX_COPIED_FILES = 500
MAX_COPIED_BYTES = 1 << 20
_TEST_FOLDERS = frozenset({"tests", "test", "testing", "__pycache__"})


def _is_test_module(name: str) -> bool:
    return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"


def _importable_files(folder: Path) -> list[Path]:
    """The ``.py`` files importable from ``folder``: its modules, and its packages' (folders with an
    ``__init__.py``, recursively), without test modules or test folders."""
    found = sorted(p for p in folder.glob("*.py") if not _is_test_module(p.name))
    pending = sorted(p for p in folder.iterdir() if p.is_dir() and (p / "__init__.py").is_file()
                     and p.name not in _TEST_FOLDERS and not p.name.startswith(".")) if folder.is_dir() else []
    while pending and len(found) < MAX_COPIED_FILES:
        package = pending.pop(0)
        found += sorted(p for p in package.glob("*.py") if not _is_test_module(p.name))
        pending += sorted(p for p in package.iterdir() if p.is_dir() and (p / "__init__.py").is_file()
                          and p.name not in _TEST_FOLDERS and not p.name.startswith("."))
    return found


def sandbox_env(home: str) -> dict[str, str]:
    """The whole environment of sandboxed code: an allow-list, nothing inherited. A fixed hash
    seed makes set and dict-of-str orders, and so verdicts and timings, repeatable."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": home,
            "TMPDIR": home, "PYTHONIOENCODING": "utf-8", "PYTHONDONTWRITEBYTECODE": "1",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "NUMEXPR_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}


def _claim_uid() -> tuple[int | None, int | None]:
    """As root, an unprivileged uid of our own for this sandbox (so process limits and kills
    never touch another run); otherwise None: the runs keep the caller's uid."""
    if os.geteuid() != 0:
        return None, None
    locks = Path(tempfile.gettempdir()) / "orps-uids"
    locks.mkdir(mode=0o700, exist_ok=True)
    for uid in range(config.SANDBOX_UID_BASE, config.SANDBOX_UID_BASE + config.SANDBOX_UID_COUNT):
        fd = os.open(locks / str(uid), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        return uid, fd
    raise HarnessError("no free sandbox uid: too many sandboxes are running")


def modules_to_preload(*sources: str) -> list[str]:
    """Top-level modules the code imports, minus those with visible side effects: the zygote
    imports those of them that are its standard library or installed packages (it alone knows
    its interpreter's), never the user's own files."""
    names: set[str] = set()
    for source in sources:
        names |= _imported_names(source)
    return sorted(names - _NEVER_PRELOAD)


def _imported_names(source: str) -> set[str]:
    try:
        tree = pyast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names
