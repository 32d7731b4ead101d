"""The run's system-call filter (seccomp-BPF): what no sandboxed process may ask the kernel for.

Landlock decides which files a run may touch, the namespaces what it can see; neither covers
these, each of which reaches past the run (or lets it out of the filter), so each is refused
with an errno (never a kill, so Python raises a readable ``PermissionError``):

- ``socket`` of any family but IPv4/IPv6: Landlock has no rule for ``connect()`` to a *pathname*
  Unix socket, which would reach host services the run's uid may write to and, run as a normal
  user, that user's own agents (ssh-agent, the session bus, gpg-agent, docker). The harness's
  own sockets are inherited, connected ``SOCK_STREAM`` socketpairs: ``connect`` on them fails
  (EISCONN) and an address given to ``sendto`` is refused (EISCONN), so they reach nothing else.
  ``socketpair`` stays allowed for ``SOCK_STREAM`` and ``SOCK_SEQPACKET`` (asyncio and
  multiprocessing pipes use them): a ``SOCK_DGRAM`` pair would send to any address it names.
  Other families (vsock reaches a VM's host, netlink the kernel) have nothing a test needs.
- ``keyctl``, ``add_key``, ``request_key``: a uid's keyring outlives the run, and sandbox uids
  are reused, so keys would carry answers from one run to the next.
- ``inotify_init``, ``inotify_init1``, ``fanotify_init``: watches report activity on files the
  run may not read (the tests file being rewritten, the user's home).
- namespaces and mounts (``unshare``, ``setns``, ``clone`` with a ``CLONE_NEW*`` flag, ``mount``,
  ``umount2``, ``pivot_root``, ``chroot``, the new mount API): a new user namespace gives back
  every capability the run dropped, inside it.
- ``ptrace``, ``process_vm_readv``/``writev``, ``pidfd_getfd``, ``kcmp``: another process's memory
  and files.
- ``name_to_handle_at``, ``open_by_handle_at``: a run as root keeps CAP_DAC_READ_SEARCH, with
  which a file handle opens any file of the filesystem without walking a path.
- ``bpf``, ``perf_event_open``, ``userfaultfd``, ``io_uring_*``, ``syslog``: kernel attack surface
  and side channels; io_uring's operations are not filtered by seccomp at all.
- ``kexec_*``, ``*_module``, ``reboot``, ``swapon``/``swapoff``, ``acct``: need capabilities the
  run no longer has; refused here as well, so no capability left by mistake reaches them.

Child processes (``fork``, ``vfork``, ``clone`` without ``CLONE_THREAD``) are refused with EPERM
in ``program`` and ``solution`` runs unless the job allows them: that is what makes a run's CPU
and memory its own, as the warden measures them. A run is then one process, whose threads share
its rusage and its address-space limit; a child with SIGCHLD ignored is never reaped into its
parent's rusage, and each child has CPU and address-space limits of its own. ``clone3`` fails
with ENOSYS: its flags are in memory a filter cannot read, and glibc falls back to ``clone``,
whose flags it can. The checker and discover roles run the user's own tests under pytest, which
may legitimately start processes; their figures are not what refine ranks, so they keep forking
under the rlimits.
Where processes are allowed, what needs a Unix socket of its own still fails: multiprocessing's
``forkserver`` start method (Python 3.14's default on Linux) and its managers; ``fork`` and
``spawn`` work. A project's tests that serve on a Unix socket fail likewise.

An x86_64 filter also refuses the x32 ABI (numbers with bit 30 set) and any call made under
another architecture (int 0x80): those would be other numbers for the same calls, unfiltered.
Such a call kills the process.

The policy is data (``NEVER``, ``SOCKET_FAMILIES``, ``PAIR_TYPES``, ``CHILD_CALLS``); ``program``
compiles it to BPF for this machine, ``install`` loads it. Standard library and ctypes only.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import platform
import socket
import struct
import sys
from collections.abc import Iterable, Sequence

_libc = ctypes.CDLL(None, use_errno=True)

# The refused calls, by why (see the module's docstring); each fails with EACCES.
NEVER: tuple[str, ...] = (
    "keyctl", "add_key", "request_key",
    "inotify_init", "inotify_init1", "fanotify_init",
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "open_tree_attr",
    "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
    "name_to_handle_at", "open_by_handle_at",
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "syslog",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot", "swapon", "swapoff",
    "acct",
)
SOCKET_FAMILIES: tuple[int, ...] = (socket.AF_INET, socket.AF_INET6)  # ``socket`` of any other: EACCES
PAIR_TYPES: tuple[int, ...] = (socket.SOCK_STREAM, socket.SOCK_SEQPACKET)  # ``socketpair(AF_UNIX, ...)``
CHILD_CALLS: tuple[str, ...] = ("fork", "vfork")  # with ``clone`` without CLONE_THREAD: EPERM when forbidden
CLONE_THREAD = 0x00010000
# The namespace flags ``clone`` takes (CLONE_NEWTIME only comes through clone3 or unshare).
CLONE_NEW_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
SOCK_TYPE_MASK = 0xF

# Syscall numbers: x86_64's own table, aarch64's the generic one (which has no fork, vfork nor inotify_init).
_GENERIC = {
    "socket": 198, "socketpair": 199, "clone": 220, "clone3": 435,
    "keyctl": 219, "add_key": 217, "request_key": 218, "inotify_init1": 26, "fanotify_init": 262,
    "unshare": 97, "setns": 268, "mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51, "move_mount": 429,
    "open_tree": 428, "open_tree_attr": 467, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
    "mount_setattr": 442, "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "pidfd_getfd": 438,
    "kcmp": 272, "name_to_handle_at": 264, "open_by_handle_at": 265, "bpf": 280, "perf_event_open": 241,
    "userfaultfd": 282, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "syslog": 116,
    "kexec_load": 104, "kexec_file_load": 294, "init_module": 105, "finit_module": 273, "delete_module": 106,
    "reboot": 142, "swapon": 224, "swapoff": 225, "acct": 89,
}
_X86_64 = {
    "socket": 41, "socketpair": 53, "fork": 57, "vfork": 58, "clone": 56, "clone3": 435,
    "keyctl": 250, "add_key": 248, "request_key": 249, "inotify_init": 253, "inotify_init1": 294,
    "fanotify_init": 300, "unshare": 272, "setns": 308, "mount": 165, "umount2": 166, "pivot_root": 155,
    "chroot": 161, "move_mount": 429, "open_tree": 428, "open_tree_attr": 467, "fsopen": 430, "fsconfig": 431,
    "fsmount": 432, "fspick": 433, "mount_setattr": 442, "ptrace": 101, "process_vm_readv": 310,
    "process_vm_writev": 311, "pidfd_getfd": 438, "kcmp": 312, "name_to_handle_at": 303, "open_by_handle_at": 304,
    "bpf": 321, "perf_event_open": 298, "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426,
    "io_uring_register": 427, "syslog": 103, "kexec_load": 246, "kexec_file_load": 320, "init_module": 175,
    "finit_module": 313, "delete_module": 176, "reboot": 169, "swapon": 167, "swapoff": 168, "acct": 163,
}
_X32_BIT = 0x40000000
# machine -> (AUDIT_ARCH_*, syscall numbers, whether it has an x32 ABI to refuse)
_ARCHES = {"x86_64": (0xC000003E, _X86_64, True), "aarch64": (0xC00000B7, _GENERIC, False)}

# -- BPF ---------------------------------------------------------------------------------------
_LD_W_ABS, _ALU_AND_K, _RET_K = 0x20, 0x54, 0x06
_JEQ_K, _JSET_K = 0x15, 0x45
_RET_ALLOW, _RET_KILL_PROCESS, _RET_ERRNO = 0x7FFF0000, 0x80000000, 0x00050000
_NR, _ARCH = 0, 4  # offsets in struct seccomp_data; args[i] at 16 + 8 * i (the low word first: little-endian)
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2

Insn = tuple[int, int, int, int]  # code, jt, jf, k


def _arg(i: int) -> Insn:
    return (_LD_W_ABS, 0, 0, 16 + 8 * i)


def _ret(value: int) -> Insn:
    return (_RET_K, 0, 0, value)


def _deny(code: int) -> Insn:
    return _ret(_RET_ERRNO | code)


def _one_of(values: Sequence[int], then: Insn, otherwise: Insn) -> list[Insn]:
    """The accumulator is one of ``values``: ``then``, else ``otherwise``."""
    tests = [(_JEQ_K, len(values) - i, 0, value) for i, value in enumerate(values)]
    return [*tests, otherwise, then]


def _clone(forks: bool) -> list[Insn]:
    """No new namespaces ever; without ``forks``, threads only."""
    block = [_arg(0), (_JSET_K, 0, 1, CLONE_NEW_FLAGS), _deny(errno.EACCES)]
    if forks:
        return [*block, _ret(_RET_ALLOW)]
    return [*block, (_JSET_K, 0, 1, CLONE_THREAD), _ret(_RET_ALLOW), _deny(errno.EPERM)]


def _socketpair() -> list[Insn]:
    pair = _one_of(PAIR_TYPES, _ret(_RET_ALLOW), _deny(errno.EACCES))
    return [_arg(0), (_JEQ_K, 0, 2 + len(pair), socket.AF_UNIX), _arg(1), (_ALU_AND_K, 0, 0, SOCK_TYPE_MASK),
            *pair, _deny(errno.EACCES)]


def _rules(forks: bool) -> list[tuple[str, list[Insn]]]:
    """Each call the filter looks at, with the instructions that decide it (they end in a return)."""
    rules = [(name, [_deny(errno.EACCES)]) for name in NEVER]
    rules += [("socket", [_arg(0), *_one_of(SOCKET_FAMILIES, _ret(_RET_ALLOW), _deny(errno.EACCES))]),
              ("socketpair", _socketpair()), ("clone", _clone(forks)), ("clone3", [_deny(errno.ENOSYS)])]
    if not forks:
        rules += [(name, [_deny(errno.EPERM)]) for name in CHILD_CALLS]
    return rules


@functools.cache
def program(machine: str, *, forks: bool) -> bytes | None:
    """The filter for ``machine`` as ``struct sock_filter``s, or None where there is none for it.
    Kept once built: a session's host builds it, and the runs it forks install it as it is."""
    arch = _ARCHES.get(machine)
    if arch is None:
        return None
    audit_arch, numbers, x32 = arch
    head: list[Insn] = [(_LD_W_ABS, 0, 0, _ARCH), (_JEQ_K, 1, 0, audit_arch), _ret(_RET_KILL_PROCESS),
                        (_LD_W_ABS, 0, 0, _NR)]
    if x32:
        head += [(_JSET_K, 0, 1, _X32_BIT), _ret(_RET_KILL_PROCESS)]
    body: list[Insn] = []
    for name, block in _rules(forks):
        number = numbers.get(name)
        if number is not None:
            body += [(_JEQ_K, 0, len(block), number), *block]
    return _pack([*head, *body, _ret(_RET_ALLOW)])


def _pack(insns: Iterable[Insn]) -> bytes:
    return b"".join(struct.pack("=HBBI", *insn) for insn in insns)


class _Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def prepare() -> None:
    """Build both filters ahead (``program`` keeps them), so that the processes forked from this
    one install them without building them."""
    if sys.byteorder == "little":
        for forks in (False, True):
            program(platform.machine(), forks=forks)


def install(*, forks: bool) -> str | None:
    """Filter every later system call of this process (and of whatever it starts); None on
    success, else what is therefore not enforced. ``no_new_privs`` must already be set."""
    code = program(platform.machine(), forks=forks) if sys.byteorder == "little" else None
    if code is None:
        return f"no seccomp filter for {platform.machine()}: {_UNFILTERED}"
    buf = ctypes.create_string_buffer(code, len(code))
    prog = _Fprog(len(code) // 8, ctypes.addressof(buf))
    if _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        why = errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
        return f"seccomp unavailable ({why}): {_UNFILTERED}"
    return None


_UNFILTERED = ("child processes are not forbidden (their CPU and memory count per process), and Unix sockets, "
               "the kernel keyring, inotify and namespaces are not denied")
