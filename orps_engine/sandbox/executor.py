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
import importlib.util
import itertools
import logging
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .. import config
from ..errors import HarnessError
from .records import CheckerReport, FunctionRun, RawRun, parse_report
from .runtime import protocol, wire
from .runtime.protocol import CheckerJob, CheckerSpec, Job, JobCommon, JobLimits, ProgramJob, SolutionJob

log = logging.getLogger(__name__)

BOOT = Path(__file__).with_name("runtime") / "boot.py"
START_TIMEOUT_S = 120.0
REPLY_MARGIN_S = 30.0
# Deliberately not all of /etc (shadow) or /proc (other processes): the sandbox may keep the
# right to read past file modes, so these rules are what stands between it and such files.
_SYSTEM_READ_PATHS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/proc/self", "/sys/devices/system/cpu",
                      "/dev/urandom", "/dev/random", "/dev/zero", "/etc/ld.so.cache", "/etc/localtime",
                      "/etc/timezone", "/etc/nsswitch.conf", "/etc/passwd", "/etc/group", "/etc/mime.types",
                      "/etc/os-release", "/usr/share/zoneinfo")
# Standard modules whose import has visible side effects (a browser, a window, printing).
_NEVER_PRELOAD = frozenset({"antigravity", "this", "turtle", "turtledemo", "tkinter", "idlelib", "webbrowser",
                            "pydoc", "__hello__", "__phello__", "__main__", "code"})
_RUNTIME_MODULES = ("_orps_runtime.checker",)


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    cpu_s: float
    wall_s: float
    memory_kb: int
    output_bytes: int = config.OUTPUT_LIMIT_BYTES
    file_bytes: int = config.FILE_SIZE_LIMIT_BYTES
    nofile: int = config.OPEN_FILES_LIMIT
    nproc: int = config.PROCESS_LIMIT
    stack_bytes: int = config.STACK_LIMIT_BYTES

    @classmethod
    def for_time_and_memory(cls, time_limit_s: float, memory_limit_mb: int) -> Limits:
        wall = max(config.WALL_FACTOR * time_limit_s, time_limit_s + config.WALL_SLACK_S)
        return cls(cpu_s=time_limit_s, wall_s=wall, memory_kb=memory_limit_mb * 1024)

    def as_job(self, extra_wall_s: float = 0.0) -> JobLimits:
        return {"cpu_s": self.cpu_s, "wall_s": self.wall_s + extra_wall_s, "memory_kb": self.memory_kb,
                "output_bytes": self.output_bytes, "file_bytes": self.file_bytes, "nofile": self.nofile,
                "nproc": self.nproc, "stack_bytes": self.stack_bytes}


class Sandbox:
    """One zygote, ready to run code from ``solution_dir`` (which the runs may not read)."""

    def __init__(self, *, solution_dir: Path | None = None, preload: Iterable[str] = (),
                 sibling_modules: bool = True) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._closed = False
        self.base = Path(tempfile.mkdtemp(prefix="orps-"))
        os.chmod(self.base, 0o711)
        self.uid, self._uid_lock = _claim_uid()
        self.lib_dir = self._copy_siblings(solution_dir) if solution_dir and sibling_modules else None
        self.read_paths = _read_paths(solution_dir) + ([str(self.lib_dir)] if self.lib_dir else [])
        self._sock, child = socket.socketpair()
        self._stderr = open(self.base / "zygote.log", "w+b")
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-s", "-B", str(BOOT), str(child.fileno())], pass_fds=[child.fileno()],
                env=sandbox_env(str(self.base)), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=self._stderr, cwd=self.base, start_new_session=True)
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
            raise HarnessError(f"the sandbox did not start: {exc}; {zygote_log}") from None
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
    def run_program(self, *, source: str, filename: str, stdin: str, limits: Limits) -> RawRun:
        with self._lock, self._workspace(stdin) as (workdir, infile):
            job: ProgramJob = {**self._common(workdir, limits), "role": "program", "source": source,
                               "filename": filename, "stdin": infile}
            self._send(job)
            return self._results({job["id"]}, limits)[job["id"]]

    def run_function_test(self, *, source: str, filename: str, module: str, spec: CheckerSpec,
                          limits: Limits) -> FunctionRun:
        """Run one test: a checker process with the test, a solution process with the code,
        joined by a socket. ``spec`` goes straight to the checker, never through the zygote."""
        with self._lock, self._workspace(None) as (workdir, _infile):
            rpc_sol, rpc_chk = socket.socketpair()
            ctl_parent, ctl_chk = socket.socketpair()
            try:
                sol: SolutionJob = {**self._common(workdir, limits), "role": "solution", "source": source,
                                    "filename": filename, "module": module,
                                    "sys_path": [str(self.lib_dir)] if self.lib_dir else []}
                chk: CheckerJob = {**self._common(workdir, limits, extra_wall_s=1.0), "role": "checker"}
                self._send(sol, [rpc_sol.fileno()])
                self._send(chk, [rpc_chk.fileno(), ctl_chk.fileno()])
            finally:
                rpc_sol.close()
                rpc_chk.close()
                ctl_chk.close()
            with ctl_parent:
                report, report_error = self._exchange(ctl_parent, spec, limits)
            runs = self._results({sol["id"], chk["id"]}, limits)
        return FunctionRun(report=report, report_error=report_error, solution=runs[sol["id"]],
                           checker=runs[chk["id"]])

    def _exchange(self, ctl: socket.socket, spec: CheckerSpec,
                  limits: Limits) -> tuple[CheckerReport | None, str | None]:
        """The checker's report, or None and (if it sent something else) what was wrong with it."""
        ctl.settimeout(limits.wall_s + REPLY_MARGIN_S)
        try:
            wire.send(ctl, spec)
            message = wire.recv(ctl)
        except (OSError, wire.WireError):
            return None, None
        try:
            return parse_report(message), None
        except protocol.BadMessage as exc:
            return None, f"the test process sent a malformed report: {exc}"

    def _common(self, workdir: str, limits: Limits, extra_wall_s: float = 0.0) -> JobCommon:
        return {"op": "run", "id": next(self._ids), "workdir": workdir, "uid": self.uid,
                "limits": limits.as_job(extra_wall_s), "read_paths": self.read_paths}

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

    def _workspace(self, stdin: str | None) -> _Workspace:
        return _Workspace(self.base, next(self._ids), self.uid, stdin)

    def _copy_siblings(self, folder: Path) -> Path | None:
        """Importable copies of the solution's sibling modules (never its tests)."""
        lib = self.base / "lib"
        lib.mkdir(mode=0o755)
        for path in sorted(folder.glob("*.py"))[:200]:
            name = path.name
            if name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py":
                continue
            try:
                if path.stat().st_size <= 1 << 20:
                    shutil.copyfile(path, lib / name)
                    os.chmod(lib / name, 0o644)
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


class _Workspace:
    """A fresh working directory for one run (and its stdin file), removed afterwards."""

    def __init__(self, base: Path, n: int, uid: int | None, stdin: str | None) -> None:
        self.workdir = base / f"w{n}"
        self.infile = base / f"i{n}" if stdin is not None else None
        self.uid, self.stdin = uid, stdin

    def __enter__(self) -> tuple[str, str | None]:
        self.workdir.mkdir(mode=0o700)
        if self.uid is not None:
            os.chown(self.workdir, self.uid, self.uid)
        if self.infile is not None:
            fd = os.open(self.infile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(self.stdin or "")
        return str(self.workdir), str(self.infile) if self.infile else None

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)
        if self.infile is not None:
            self.infile.unlink(missing_ok=True)


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


def _read_paths(solution_dir: Path | None) -> list[str]:
    """What sandboxed code may read: the interpreter, its libraries and system files, but not
    the solution's folder or any folder above it (where the tests live)."""
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *_SYSTEM_READ_PATHS}
    candidates |= {p for p in sys.path if p and os.path.isabs(p)}
    candidates |= {sysconfig.get_path(name) for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    protected = solution_dir.resolve() if solution_dir else None
    out = []
    for raw in sorted(c for c in candidates if c):
        path = Path(raw) if raw == "/proc/self" else Path(raw).resolve()
        if not path.exists() or path == Path("/"):
            continue
        if protected is not None and (path == protected or path in protected.parents):
            continue
        out.append(str(path))
    return out


def modules_to_preload(*sources: str) -> list[str]:
    """Top-level modules the code imports that are safe to import ahead: the standard library
    (minus modules with side effects) and installed packages, never the user's own files."""
    stdlib: frozenset[str] = getattr(sys, "stdlib_module_names", frozenset())
    site = tuple(p for p in {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")} if p)
    names: set[str] = set()
    for source in sources:
        names |= _imported_names(source)
    chosen = []
    for name in sorted(names - _NEVER_PRELOAD):
        if name in stdlib:
            chosen.append(name)
            continue
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        origin = spec.origin if spec else None
        if origin and origin.startswith(site):
            chosen.append(name)
    return chosen


def _imported_names(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names
