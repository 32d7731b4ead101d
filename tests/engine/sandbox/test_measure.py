"""Measurement: the counter machinery, 'unavailable' never reported as zero, and figures that
are the run's own (not the interpreter's or the sandbox's)."""

from __future__ import annotations

import os
import time

from orps_engine.sandbox import Limits, Sandbox
from orps_engine.sandbox.runtime import confine

LIMITS = Limits.for_time_and_memory(2.0, 256)


def test_counter_software_event_counts_a_child() -> None:
    # Hardware counters are absent on these VMs; the same perf_event_open path with the
    # software task clock shows the struct, the inherit flag and the read are right.
    pid = os.fork()
    if pid == 0:
        end = time.process_time() + 0.05
        while time.process_time() < end:
            pass
        os._exit(0)
    fd = confine.open_counter(pid, confine.PERF_TYPE_SOFTWARE, confine.PERF_COUNT_SW_TASK_CLOCK)
    os.waitpid(pid, 0)
    assert fd is not None
    value = confine.read_counter(fd)
    assert value is not None and value > 0


def test_instructions_reported_unavailable_as_none_not_zero() -> None:
    probe = os.fork()
    if probe == 0:
        time.sleep(0.2)
        os._exit(0)
    hardware = confine.open_counter(probe)
    os.waitpid(probe, 0)
    with Sandbox() as box:
        raw = box.run_program(source="print(sum(range(1000)))", filename="/tmp/p.py", stdin="", limits=LIMITS)
    if hardware is None:
        assert raw.instructions is None
    else:
        os.close(hardware)
        assert raw.instructions is not None and raw.instructions > 0


def test_trivial_run_costs_little_of_its_own() -> None:
    with Sandbox() as box:
        runs = [box.run_program(source="pass", filename="/tmp/p.py", stdin="", limits=LIMITS) for _ in range(5)]
    best = min(runs, key=lambda r: r.cpu_ms or 0.0)
    assert best.cpu_ms is not None and best.cpu_ms < 50  # the sandbox's own setup is subtracted
    # a program's peak is a fresh interpreter's (about 10 MB), not the warm zygote's larger one
    assert best.peak_kb is not None and best.peak_kb < 24 * 1024


def test_peak_memory_is_the_runs_growth() -> None:
    code = "b = bytearray(64 * 1024 * 1024)\nb[::4096] = b'x' * len(b[::4096])\n"
    with Sandbox() as box:
        raw = box.run_program(source=code, filename="/tmp/p.py", stdin="", limits=LIMITS)
    assert raw.peak_kb is not None and 60 * 1024 < raw.peak_kb < 90 * 1024


def test_sandbox_reports_isolation_notes_and_uid() -> None:
    with Sandbox() as box:
        assert box.landlock_abi >= 0
        if os.geteuid() == 0:
            assert box.uid is not None and box.uid != 0
        raw = box.run_program(source="import os\nprint(os.getuid(), os.getpid())", filename="/tmp/p.py", stdin="",
                              limits=LIMITS)
    uid, pid = raw.stdout.split()
    if os.geteuid() == 0:
        assert int(uid) == box.uid
    assert int(pid) == 2  # the run is the first child of its own PID namespace's init


def _resident_kb() -> dict[str, int]:
    with open("/proc/self/status") as status:
        return {line.split(":")[0]: int(line.split()[1]) for line in status if line.startswith(("VmHWM:", "VmRSS:"))}


def test_settling_the_fresh_pages_leaves_no_trace_in_the_peak() -> None:
    # The pages a run writes once at its start (``settle_fresh_pages``) are given back and the
    # peak reset to the resident size: a run's memory figure holds only what its own code grew by.
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        settled = confine.settle_fresh_pages()
        sizes = _resident_kb()
        os.write(write_end, f"{settled} {sizes['VmHWM']} {sizes['VmRSS']}".encode())
        os._exit(0)
    os.close(write_end)
    settled, peak, resident = os.read(read_end, 100).decode().split()
    os.waitpid(pid, 0)
    os.close(read_end)
    assert settled == "True"
    size_kb = confine.SETTLED_PAGES * os.sysconf("SC_PAGE_SIZE") // 1024
    assert int(peak) - int(resident) < size_kb // 4, (peak, resident, size_kb)
