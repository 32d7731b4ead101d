"""Linux confinement primitives, called through libc: namespaces, rlimits, Landlock, privileges,
hardware counters.

Each function either applies its restriction or reports (as a note string) that the kernel
would not let it; callers decide what a missing layer means. Nothing here runs untrusted code.
"""

from __future__ import annotations

import ctypes
import errno
import math
import mmap
import os
import platform
import resource
import struct
from collections.abc import Sequence
from typing import Any

from .protocol import JobLimits

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
PR_GET_PDEATHSIG = 2
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38

_SYSCALLS = {
    "x86_64": {"perf_event_open": 298, "landlock_create_ruleset": 444, "landlock_add_rule": 445,
               "landlock_restrict_self": 446},
    "aarch64": {"perf_event_open": 241, "landlock_create_ruleset": 444, "landlock_add_rule": 445,
                "landlock_restrict_self": 446},
}.get(platform.machine(), {})


def _syscall(name: str, *args: Any) -> int:
    number = _SYSCALLS.get(name)
    if number is None:
        return -1
    return int(_libc.syscall(number, *args))


def _errno_text() -> str:
    return os.strerror(ctypes.get_errno())


def unshare(flags: int) -> str | None:
    """Enter new namespaces; returns None on success, else why not."""
    if _libc.unshare(ctypes.c_int(flags)) == 0:
        return None
    return _errno_text()


def isolate_network() -> str | None:
    """Move the calling process into an empty network namespace (only ``lo``, and it is down).

    As root this needs nothing else; an unprivileged user first needs a user namespace, in
    which it keeps its own uid but gains the right to create the others (PID namespaces too).
    """
    if os.geteuid() == 0:
        why = unshare(CLONE_NEWNET)
        return None if why is None else f"no network namespace ({why}): solutions may reach the network"
    uid, gid = os.geteuid(), os.getegid()
    why = unshare(CLONE_NEWUSER | CLONE_NEWNET)
    if why is not None:
        return f"no user/network namespace ({why}): solutions may reach the network"
    try:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    except OSError as exc:
        return f"user namespace mapping failed ({exc})"
    return None


def _write(path: str, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


def prctl(option: int, value: int) -> None:
    if _libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}) failed: {_errno_text()}")


def die_with_parent(signal_number: int) -> None:
    prctl(PR_SET_PDEATHSIG, signal_number)


def parent_death_signal() -> int:
    value = ctypes.c_int(0)
    if _libc.prctl(PR_GET_PDEATHSIG, ctypes.byref(value), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl(PR_GET_PDEATHSIG) failed: {_errno_text()}")
    return value.value


# -- the pages a run starts on -------------------------------------------------------------------
SETTLED_PAGES = 256  # 1 MiB, about 0.7 ms a run (16 were enough where measured: a margin)


def settle_fresh_pages(pages: int = SETTLED_PAGES) -> bool:
    """Write once to ``pages`` newly allocated pages, give them back, and reset the peak resident
    size to the current one. False where the peak cannot be reset: with no ``/proc/self/clear_refs``
    nothing is done; should the reset itself fail, the pages stay in the peak (1 MiB at most).

    Why: on the development VM, the first pages a forked run was given made the interpreter's loop
    1.5 to 4 times slower for as long as the run's hot data (a code object, a frame) lay on them,
    while C code, the runtime's own functions and plain ``python3`` ran at full speed. Which pages
    those were repeated from run to run of a session, so one candidate was slowed in every one of
    its runs and another in none: a difference of speed that was not in the code (a refine called
    a thread-based copy of the original faster). A page written once here is an ordinary page when
    the run's own data lands on it later. ``benchmarks/run_layout.py`` measures the sandbox against
    plain Python. The peak is reset so that a run's memory figure holds none of these pages, and no
    run can hide growth under them."""
    try:
        reset = os.open("/proc/self/clear_refs", os.O_WRONLY)
    except OSError:
        return False
    try:
        area = mmap.mmap(-1, pages * mmap.PAGESIZE)
        for offset in range(0, pages * mmap.PAGESIZE, mmap.PAGESIZE):
            area[offset] = 1
        area.close()
        os.write(reset, b"5")  # "5": reset VmHWM (and so ru_maxrss) to the current resident size
    except OSError:
        return False
    finally:
        os.close(reset)
    return True


def rss_kb() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


def vm_size_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def set_limits(limits: JobLimits) -> None:
    """Apply the per-run rlimits. The address-space limit counts from this process's current
    size: a forked child already maps everything its parent mapped."""
    def cap(kind: int, soft: int, hard: int | None = None) -> None:
        _, old_hard = resource.getrlimit(kind)
        hard = soft if hard is None else hard
        if old_hard != resource.RLIM_INFINITY:
            soft, hard = min(soft, old_hard), min(hard, old_hard)
        resource.setrlimit(kind, (soft, hard))

    cpu = max(1, math.ceil(float(limits["cpu_s"])))
    cap(resource.RLIMIT_CPU, cpu, cpu + 1)
    cap(resource.RLIMIT_AS, vm_size_bytes() + int(limits["address_space_kb"]) * 1024)
    cap(resource.RLIMIT_FSIZE, int(limits["file_bytes"]))
    cap(resource.RLIMIT_CORE, 0)
    cap(resource.RLIMIT_NOFILE, int(limits["nofile"]))
    cap(resource.RLIMIT_NPROC, int(limits["nproc"]))
    cap(resource.RLIMIT_STACK, int(limits["stack_bytes"]))


PR_SET_KEEPCAPS = 8
PR_CAPBSET_DROP = 24
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
CAP_DAC_READ_SEARCH = 2
CAP_SETPCAP = 8
_CAPABILITY_V3 = 0x20080522


def drop_privileges(uid: int | None, *, keep_read_search: bool) -> None:
    """Give up every capability, and as root become ``uid`` (so process limits apply and nothing
    of root's can be written or signalled).

    ``uid`` None: the caller's uid stays, but run as a normal user the zygote is in a user
    namespace of its own, where it holds every capability (bringing ``lo`` up, mounting): they go
    too. The bounding set is emptied first, while CAP_SETPCAP is still held, and the ambient set
    cleared, so nothing the process executes gets any back. With ``keep_read_search`` (and a
    uid) the process keeps CAP_DAC_READ_SEARCH alone: the interpreter may live where an
    unprivileged uid cannot read (``/root/.pyenv``), and Landlock, which must then be in force,
    is what decides which files can be read.
    """
    _drop_bounding_set()
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    keep = 1 << CAP_DAC_READ_SEARCH if keep_read_search and uid is not None else 0
    if uid is not None:
        _become(uid, keep_caps=bool(keep))
    _capset(keep)


def _become(uid: int, *, keep_caps: bool) -> None:
    death_signal = parent_death_signal()
    if keep_caps:
        prctl(PR_SET_KEEPCAPS, 1)
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    # The kernel clears the parent-death signal when credentials change: without it again, a
    # process whose warden was killed (a cancelled run) would live on, unwatched.
    if death_signal:
        die_with_parent(death_signal)
    if keep_caps:
        prctl(PR_SET_KEEPCAPS, 0)


def _drop_bounding_set() -> None:
    """Empty the bounding set (where CAP_SETPCAP allows: without it, a process outside any user
    namespace of its own holds no capability to lose, and no_new_privs keeps it so)."""
    if not capabilities()[0] & (1 << CAP_SETPCAP):
        return
    for cap in range(64):
        if _libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(cap), 0, 0, 0) != 0:
            if ctypes.get_errno() == errno.EINVAL:  # past the kernel's last capability
                return
            raise OSError(ctypes.get_errno(), f"PR_CAPBSET_DROP({cap}) failed: {_errno_text()}")


def capabilities() -> tuple[int, int]:
    """This process's effective and permitted capability sets."""
    header = ctypes.create_string_buffer(struct.pack("=Ii", _CAPABILITY_V3, 0), 8)
    data = ctypes.create_string_buffer(24)
    if _libc.capget(header, data) != 0:
        raise OSError(ctypes.get_errno(), f"capget failed: {_errno_text()}")
    eff0, perm0, _inh0, eff1, perm1, _inh1 = struct.unpack("=IIIIII", data.raw)
    return eff0 | eff1 << 32, perm0 | perm1 << 32


def _capset(mask: int) -> None:
    """Effective and permitted become ``mask`` (at most 32 bits), inheritable empty."""
    header = struct.pack("=Ii", _CAPABILITY_V3, 0)
    data = struct.pack("=IIIIII", mask, mask, 0, 0, 0, 0)  # effective, permitted, inheritable x2
    if _libc.capset(ctypes.create_string_buffer(header, 8), ctypes.create_string_buffer(data, 24)) != 0:
        raise OSError(ctypes.get_errno(), f"capset failed: {_errno_text()}")


# -- Landlock ----------------------------------------------------------------------------------
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_ALL_V1 = (1 << 13) - 1
_FS_REFER, _FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1 << 0, 1 << 1
_RULE_PATH_BENEATH = 1


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    return max(0, _syscall("landlock_create_ruleset", None, ctypes.c_size_t(0), ctypes.c_uint32(1)))


def landlock(read_paths: Sequence[str], write_paths: Sequence[str], list_paths: Sequence[str] = ()) -> str | None:
    """Allow reading only ``read_paths``, listing (not reading) the folders ``list_paths`` and
    writing only ``write_paths``; deny TCP, and (ABI 6+) signals and abstract sockets to anything
    outside the sandbox. Returns why not, or None."""
    abi = landlock_abi()
    if abi < 1:
        return "Landlock unavailable: solutions can read any file their uid can"
    fs = _FS_ALL_V1 | (_FS_REFER if abi >= 2 else 0) | (_FS_TRUNCATE if abi >= 3 else 0)
    fs |= _FS_IOCTL_DEV if abi >= 5 else 0
    attr = struct.pack("=QQQ", fs, (_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0,
                       (_SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL) if abi >= 6 else 0)
    size = 24 if abi >= 6 else (16 if abi >= 4 else 8)
    buf = ctypes.create_string_buffer(attr[:size], size)
    ruleset = _syscall("landlock_create_ruleset", buf, ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        return f"Landlock ruleset failed ({_errno_text()})"
    try:
        file_read = _FS_EXECUTE | _FS_READ_FILE
        file_write = _FS_WRITE_FILE | (_FS_TRUNCATE if abi >= 3 else 0)
        for path in read_paths:
            _allow(ruleset, path, file_read | _FS_READ_DIR, file_read)
        for path in list_paths:
            _allow(ruleset, path, _FS_READ_DIR, 0)
        for path in write_paths:
            _allow(ruleset, path, fs, file_read | file_write)
        prctl(PR_SET_NO_NEW_PRIVS, 1)
        if _syscall("landlock_restrict_self", ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
            return f"Landlock restrict failed ({_errno_text()})"
    finally:
        os.close(ruleset)
    return None


def _allow(ruleset: int, path: str, dir_access: int, file_access: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # a path that does not exist here needs no rule
    try:
        access = dir_access if os.path.isdir(path) else file_access
        if not access:
            return
        rule = _PathBeneath(access, fd)
        if _syscall("landlock_add_rule", ctypes.c_int(ruleset), ctypes.c_int(_RULE_PATH_BENEATH),
                    ctypes.byref(rule), ctypes.c_uint32(0)) != 0:
            raise OSError(ctypes.get_errno(), f"Landlock rule for {path} failed: {_errno_text()}")
    finally:
        os.close(fd)


# -- hardware counters -------------------------------------------------------------------------
PERF_TYPE_HARDWARE, PERF_TYPE_SOFTWARE = 0, 1
PERF_COUNT_HW_INSTRUCTIONS = 1
PERF_COUNT_SW_TASK_CLOCK = 1
_PERF_FLAG_FD_CLOEXEC = 1 << 3
_ATTR_DISABLED, _ATTR_INHERIT, _ATTR_EXCLUDE_KERNEL, _ATTR_EXCLUDE_HV = 1 << 0, 1 << 1, 1 << 5, 1 << 6
_PERF_EVENT_IOC_ENABLE = 0x2400  # _IO('$', 0)


def open_counter(pid: int, kind: int = PERF_TYPE_HARDWARE,
                 config: int = PERF_COUNT_HW_INSTRUCTIONS, *, disabled: bool = False) -> int | None:
    """A user-space event counter on ``pid`` and the children it forks from now on (not those it
    forked before: a counter must be opened before the process it is to count is forked), or None
    where the CPU (or a VM without a virtual PMU) exposes none. ``disabled``: it counts nothing
    until ``enable_counter``, which turns on the children's counters too."""
    flags = _ATTR_INHERIT | _ATTR_EXCLUDE_KERNEL | _ATTR_EXCLUDE_HV | (_ATTR_DISABLED if disabled else 0)
    # perf_event_attr, PERF_ATTR_SIZE_VER5 (112 bytes): type, size, config, sample_period,
    # sample_type, read_format, flag bits, then fields we leave zero.
    attr = struct.pack("=IIQQQQQ", kind, 112, config, 0, 0, 0, flags).ljust(112, b"\0")
    buf = ctypes.create_string_buffer(attr, 112)
    fd = _syscall("perf_event_open", buf, ctypes.c_int(pid), ctypes.c_int(-1), ctypes.c_int(-1),
                  ctypes.c_ulong(_PERF_FLAG_FD_CLOEXEC))
    return fd if fd >= 0 else None


def enable_counter(fd: int) -> bool:
    """Start a counter opened ``disabled``, and the copies its process's children inherited."""
    import fcntl

    try:
        fcntl.ioctl(fd, _PERF_EVENT_IOC_ENABLE, 0)
    except OSError:
        return False
    return True


def read_counter(fd: int) -> int | None:
    try:
        raw = os.read(fd, 8)
    except OSError:
        return None
    finally:
        os.close(fd)
    return struct.unpack("=Q", raw)[0] if len(raw) == 8 else None
