"""The zygote and its wardens: start sandboxed runs quickly, watch them, measure them.

The zygote is a fresh interpreter (single-threaded, so forking it is safe) that imports the
libraries a solution will need once, then forks a *warden* per run. The warden enters a new PID
namespace and forks the payload as that namespace's init, so when the payload ends the kernel
kills everything it left behind. The warden owns the deadline and the kill, reads the output
against its limit and takes the measurements from ``wait4`` and the hardware counter: all of it
trusted code the solution cannot reach.

The zygote never receives a test's expected values (the checker gets its test straight from the
parent), so nothing a payload could find in its inherited memory gives the answers away.
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
from typing import Any

from . import confine, payload, wire

READ_CHUNK = 1 << 16
STDERR_KEEP = 64 * 1024
DRAIN_GRACE_S = 0.5
SETUP_TIMEOUT_S = 30.0


def main() -> None:
    ctl = socket.socket(fileno=int(sys.argv[1]))
    parent = os.getppid()
    confine.die_with_parent(signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)
    init = wire.recv(ctl)
    notes = [n for n in (confine.isolate_network(),) if n]
    preloaded, failed = _preload(init.get("preload", []))
    wire.send(ctl, {"ready": True, "notes": notes, "preloaded": preloaded, "failed": failed,
                    "landlock_abi": confine.landlock_abi(), "pid": os.getpid()})
    Zygote(ctl).loop()


def _preload(names: list[str]) -> tuple[list[str], list[str]]:
    done, failed = [], []
    for name in names:
        try:
            importlib.import_module(name)
            done.append(name)
        except BaseException:  # a library that fails to import here will fail in the payload too
            failed.append(name)
    # Out of the collector's sight: a collection in a forked run would otherwise touch, and so
    # copy, every page of these objects (tens of ms, and megabytes of "peak memory", per run).
    gc.freeze()
    return done, failed


class Zygote:
    def __init__(self, ctl: socket.socket) -> None:
        self.ctl = ctl
        self.wardens: dict[int, tuple[int, int, bytearray]] = {}  # result fd -> (job id, pid, data)

    def loop(self) -> None:
        while True:
            readable, _, _ = select.select([self.ctl.fileno(), *self.wardens], [], [])
            for ready in readable:
                if ready == self.ctl.fileno():
                    if not self._accept_job():
                        self._shutdown()
                        return
                else:
                    self._collect(ready)

    def _accept_job(self) -> bool:
        try:
            job, fds = wire.recv(self.ctl, with_fds=True)
        except (OSError, wire.WireError):
            return False
        if job.get("op") == "shutdown":
            return False
        if job.get("op") == "preload":  # between runs only: the parent holds its lock
            preloaded, failed = _preload(job.get("modules", []))
            wire.send(self.ctl, {"op": "preloaded", "preloaded": preloaded, "failed": failed})
            return True
        result_r, result_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(result_r)
            self.ctl.close()
            for fd in self.wardens:
                os.close(fd)
            try:
                result = Warden(job, fds).run()
            except BaseException as exc:  # the warden's own failure: a harness error
                result = {"harness_error": f"warden failed: {type(exc).__name__}: {exc}"}
            result["id"] = job["id"]
            _write_all(result_w, json.dumps(result).encode())
            os._exit(0)
        os.close(result_w)
        for fd in fds:
            os.close(fd)
        self.wardens[result_r] = (job["id"], pid, bytearray())
        return True

    def _collect(self, fd: int) -> None:
        job_id, pid, data = self.wardens[fd]
        chunk = os.read(fd, READ_CHUNK)
        if chunk:
            data.extend(chunk)
            return
        os.close(fd)
        del self.wardens[fd]
        os.waitpid(pid, 0)
        try:
            result = json.loads(data)
        except ValueError:
            result = {"id": job_id, "harness_error": "the warden died without a result"}
        wire.send(self.ctl, result)

    def _shutdown(self) -> None:
        for _fd, (_job, pid, _data) in self.wardens.items():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class Warden:
    """Runs one payload to its end and measures it."""

    def __init__(self, job: dict[str, Any], fds: list[int]) -> None:
        self.job = job
        self.fds = fds
        self.limits = job["limits"]
        self.notes: list[str] = []

    def run(self) -> dict[str, Any]:
        confine.die_with_parent(signal.SIGKILL)
        in_namespace = confine.unshare(confine.CLONE_NEWPID)
        if in_namespace is not None:
            self.notes.append(f"no PID namespace ({in_namespace}): leftover processes are killed by group")
        pipes = {name: os.pipe() for name in ("out", "err", "info", "setup", "go", "status")}
        stdin = os.open(self.job["stdin"], os.O_RDONLY) if self.job.get("stdin") else os.open(os.devnull, os.O_RDONLY)
        fd_map = {0: stdin, 1: pipes["out"][1], 2: pipes["err"][1], payload.SETUP_FD: pipes["setup"][1],
                  payload.GO_FD: pipes["go"][0], payload.STATUS_FD: pipes["status"][1]}
        if self.job["role"] == "program":
            fd_map[3] = pipes["info"][1]
        for target, fd in zip((3, 4), self.fds):
            fd_map[target] = fd
        pid = os.fork()
        if pid == 0:
            payload.enter(self.job, fd_map, self.job.get("uid"))
        for fd in [stdin, *self.fds] + [pipes[n][1] for n in ("out", "err", "info", "setup", "status")] + [
                pipes["go"][0]]:
            os.close(fd)
        setup = self._read_setup(pipes["setup"][0], pid)
        fields = setup.split()
        if len(fields) != 3 or fields[0] != b"ok":
            self._kill(pid, in_namespace is None)
            os.wait4(pid, 0)
            return {"harness_error": f"sandbox setup failed: {setup.decode(errors='replace') or 'no reply'}",
                    "notes": self.notes}
        setup_cpu_ms, baseline_kb = float(fields[1]) * 1000, int(fields[2])
        counter = confine.open_counter(pid)
        started = time.monotonic()
        os.write(pipes["go"][1], b"g")
        os.close(pipes["go"][1])
        outcome = self._watch(pid, started, pipes, in_namespace is None)
        status, usage = outcome.pop("wait")
        reported = outcome.pop("status").split()
        reaper_cpu_ms = 0.0
        if len(reported) == 2 and reported[0] != b"None":  # the reaper saw the run end
            status, reaper_cpu_ms = int(reported[0]), float(reported[1]) * 1000
        instructions = confine.read_counter(counter) if counter is not None else None
        own_cpu_ms = (usage.ru_utime + usage.ru_stime) * 1000 - setup_cpu_ms - reaper_cpu_ms
        return {
            **outcome,
            "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "cpu_ms": round(max(0.0, own_cpu_ms), 3),
            "maxrss_kb": usage.ru_maxrss,
            "baseline_kb": baseline_kb,
            "peak_kb": max(0, usage.ru_maxrss - baseline_kb),
            "instructions": instructions,
            "notes": self.notes,
        }

    def _read_setup(self, fd: int, pid: int) -> bytes:
        data = bytearray()
        deadline = time.monotonic() + SETUP_TIMEOUT_S
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data.extend(chunk)
        os.close(fd)
        return bytes(data)

    def _watch(self, pid: int, started: float, pipes: dict[str, tuple[int, int]],
               by_group: bool) -> dict[str, Any]:
        out_limit = int(self.limits["output_bytes"])
        deadline = started + float(self.limits["wall_s"])
        streams = {pipes[name][0]: bytearray() for name in ("out", "err", "info", "status")}
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
        return {
            "wait": (status, usage),
            "wall_ms": round((ended - started) * 1000, 3),
            "timed_out": timed_out,
            "output_exceeded": output_exceeded,
            "stdout": streams[out_fd].decode("utf-8", errors="replace"),
            "stderr": streams[err_fd][-STDERR_KEEP:].decode("utf-8", errors="replace"),
            "info": _parse_info(bytes(streams[pipes["info"][0]])),
            "status": bytes(streams[pipes["status"][0]]),
        }

    @staticmethod
    def _kill(pid: int, by_group: bool) -> None:
        try:
            if by_group:
                os.killpg(pid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)  # the namespace's init: the kernel kills the rest
        except OSError:
            pass


def _parse_info(raw: bytes) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        info = json.loads(raw)
    except ValueError:
        return None
    return info if isinstance(info, dict) else None
