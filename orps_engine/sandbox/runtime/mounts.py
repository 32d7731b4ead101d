"""Each run's own view of the filesystem, and its own SysV IPC: a root that holds only what its
role may read.

Landlock decides which files a run may *open*, not which paths exist: under it alone a run can
still ``stat()`` any path (the size and mtime of the tests file), watch any folder with inotify,
``connect()`` to any pathname Unix socket its uid may write to (host services; run as a normal
user, the user's own agents), ``chmod``/``utime``/``setxattr`` the user's files, and share SysV
segments with the host and with later runs. So each payload enters a mount namespace and an IPC
namespace of its own, and pivots into a root on a small tmpfs that holds read-only bind mounts of
exactly its role's read and list paths, a minimal ``/dev``, a ``/proc`` of its PID namespace and
its working directory: every other path does not exist (ENOENT), and what exists cannot be
changed (EROFS). Landlock stays on top, unchanged: it still decides which visible files may be
read, and that list-only folders are only listed.

The working directory is a tmpfs limited in size and in files that the zygote mounts in its own
mount namespace (``Workdirs``), so that a run cannot fill the host's disk, and so that a test's
checker and solution, which share it (a ``tmp_path`` the test passes in), see the same files.

Where the kernel refuses a step, the run goes on with what exists and a note says what is not
enforced: a missing layer never fails a run. Standard library and ctypes only (this runs inside
the sandbox).
"""

from __future__ import annotations

import ctypes
import os
import platform
import stat
from typing import NamedTuple

from . import confine
from .protocol import Job, JobLimits

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}.get(platform.machine())

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2

STAGE = "/tmp"  # any folder will do: the staging tmpfs covers it only until it becomes the root
OLD_ROOT = "/.old-root"
DEV_NODES = ("null", "zero", "random", "urandom")
DEV_LINKS = (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
             ("stderr", "/proc/self/fd/2"))
_MAX_LINKS = 40  # symlinks followed on one path, as the kernel's own limit


class MountRefused(OSError):
    """A step the kernel (or the layout of the host) does not allow: the run goes on without it."""


def _bytes(text: str | None) -> bytes | None:
    return text.encode() if text is not None else None


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    if _libc.mount(_bytes(source), target.encode(), _bytes(fstype), ctypes.c_ulong(flags), _bytes(data)) != 0:
        errno = ctypes.get_errno()
        raise MountRefused(errno, f"mount {source or fstype or ''} on {target}: {os.strerror(errno)}")


def _umount(target: str) -> None:
    if _libc.umount2(target.encode(), ctypes.c_int(MNT_DETACH)) != 0:
        errno = ctypes.get_errno()
        raise MountRefused(errno, f"umount {target}: {os.strerror(errno)}")


def _pivot_root(new_root: str, put_old: str) -> None:
    if _PIVOT_ROOT is None:
        raise MountRefused(0, f"pivot_root is not known on {platform.machine()}")
    if _libc.syscall(_PIVOT_ROOT, new_root.encode(), put_old.encode()) != 0:
        errno = ctypes.get_errno()
        raise MountRefused(errno, f"pivot_root: {os.strerror(errno)}")


# -- the zygote's side: a mount namespace of its own, and the working directories' tmpfs ---------
def private_namespace() -> str | None:
    """Give the zygote a mount namespace of its own, private all the way down (as root, a mount
    made in a shared one would appear on the host); returns None, or what is not enforced."""
    why = _own_mount_namespace()
    if why is None:
        return None
    return f"no mount namespace for the sandbox ({why}): working directories are not limited in size or files"


class Workdirs:
    """The tmpfs on each working directory in use, counted by the runs that share it (a test's
    checker and solution): mounted for the first, unmounted when the last has ended."""

    def __init__(self, private: bool) -> None:
        self.private = private  # never mount in a namespace that is not the zygote's own
        self.users: dict[str, int] = {}

    def acquire(self, job: Job) -> str | None:
        """Mount the job's working directory unless it already is; returns None, or a note."""
        path = job["workdir"]
        if path in self.users:
            self.users[path] += 1
            return None
        if not self.private:
            return None  # ``private_namespace`` has said so once, for the whole sandbox
        try:
            _mount("orps-work", path, "tmpfs", MS_NOSUID | MS_NODEV, _tmpfs_options(job["limits"], job["uid"]))
        except MountRefused as exc:
            return f"working directory not limited in size or files ({exc.strerror})"
        self.users[path] = 1
        return None

    def wipe(self, path: str) -> None:
        """Empty the working directory between two runs (nothing a run leaves is seen by the next).
        ``shutil.rmtree`` walks by fd, never following a symlink a run planted; the zygote's
        capabilities override the modes a run set (``chmod 500`` on a folder)."""
        import shutil

        try:
            entries = list(os.scandir(path))
        except OSError:
            return
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
            except OSError:
                pass

    def release(self, path: str) -> None:
        count = self.users.get(path, 0)
        if count > 1:
            self.users[path] = count - 1
        elif count == 1:
            del self.users[path]
            try:
                _umount(path)
            except MountRefused:
                pass  # the zygote's namespace, and with it the tmpfs, goes when the zygote does


def _tmpfs_options(limits: JobLimits, uid: int | None) -> str:
    owner = os.getuid() if uid is None else uid
    gid = os.getgid() if uid is None else uid
    return (f"size={int(limits['disk_bytes'])},nr_inodes={int(limits['disk_files'])},mode=0700,"
            f"uid={owner},gid={gid}")


# -- the payload's side: its own root ------------------------------------------------------------
class Plan(NamedTuple):
    """The new root, decided before anything is mounted (paths as the host resolves them)."""

    binds: list[tuple[str, bool]]  # read-only: (real path, is a folder); none inside another
    links: list[tuple[str, str]]  # symlinks on the way to them: (where, what it points to)
    folders: list[str]  # that must exist even if nothing is bound there (a project's root as cwd)
    workdir: str


def isolate(job: Job) -> list[str]:
    """Enter a mount namespace of the session's own and pivot into a root holding only what
    ``job``'s role may read (see the module docstring); returns what is not enforced."""
    why = _own_mount_namespace()
    if why is None:
        try:
            return _pivot(plan_root(job))
        except OSError as exc:
            why = _why(exc)
    return [f"no filesystem view of the run's own ({why}): paths outside its reads can be stat'ed, "
            "watched and connected to, and the working directory may be changed from outside it"]


def isolate_ipc() -> list[str]:
    """Enter an IPC namespace of this run's own (a run of a session's, so that no SysV segment
    outlives it into the next); returns what is not enforced."""
    why = confine.unshare(confine.CLONE_NEWIPC)
    if why is not None:
        return [f"no IPC namespace ({why}): SysV IPC is shared with the host and with other runs"]
    return []


def _own_mount_namespace() -> str | None:
    """A mount namespace of this process's own, private all the way down before anything is
    mounted in it (as root, a mount made in a shared one would appear on the host); None, or why not."""
    why = confine.unshare(confine.CLONE_NEWNS)
    if why is not None:
        return why
    try:
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
    except MountRefused as exc:
        return _why(exc)
    return None


def _why(exc: OSError) -> str:
    if exc.filename is not None:
        return f"{exc.strerror}: {exc.filename}"
    return exc.strerror or str(exc)


def plan_root(job: Job) -> Plan:
    links: dict[str, str] = {}
    for name in os.listdir("/"):  # /lib -> usr/lib, /bin -> usr/bin: the interpreter's loader needs them
        if os.path.islink("/" + name):
            links["/" + name] = os.readlink("/" + name)
    found: dict[str, bool] = {}
    for path in (*job["read_paths"], *job["list_paths"]):
        if _special(path):
            continue
        real = _walk(path, links)
        if real is None:
            continue  # a path that does not exist needs no bind
        if real == "/":
            raise MountRefused(0, "a role may read all of /")
        found[real] = os.path.isdir(real)
    binds = [(p, d) for p, d in sorted(found.items()) if not _inside(p, found)]
    workdir = _walk(job["workdir"], links) or job["workdir"]
    cwd = _walk(job["cwd"], links) if job["cwd"] is not None else None
    folders = [cwd] if cwd is not None else []
    outside = [(where, to) for where, to in sorted(links.items()) if not _inside(where, found)]
    return Plan(binds=binds, links=outside, folders=folders, workdir=workdir)


def _special(path: str) -> bool:
    """Paths the new root gets its own of, whatever the role's reads say."""
    return path in ("/proc", "/dev") or path.startswith(("/proc/", "/dev/"))


def _inside(path: str, folders: dict[str, bool]) -> bool:
    """``path`` lies below a folder of ``folders`` (so a recursive bind of that one holds it)."""
    parent = os.path.dirname(path)
    while parent != "/":
        if folders.get(parent):
            return True
        parent = os.path.dirname(parent)
    return False


def _walk(path: str, links: dict[str, str]) -> str | None:
    """``path`` resolved as the kernel would (None if it does not exist), noting each symlink on
    the way in ``links``: the new root recreates them, so the path the role was given still works."""
    parts = [p for p in path.split("/") if p and p != "."]
    current, hops = "/", 0
    while parts:
        name = parts.pop(0)
        if name == "..":
            current = os.path.dirname(current)
            continue
        step = os.path.join(current, name)
        try:
            mode = os.lstat(step).st_mode
        except OSError:
            return None
        if stat.S_ISLNK(mode):
            hops += 1
            if hops > _MAX_LINKS:
                return None
            target = os.readlink(step)
            links[step] = target
            parts = [p for p in target.split("/") if p and p != "."] + parts
            if target.startswith("/"):
                current = "/"
            continue
        current = step
    return current


def _pivot(plan: Plan) -> list[str]:
    """Stage a tmpfs, pivot into it, build the root there from the old one, then let the old go.
    A failure before the old root is gone puts the old root back (the run then sees the host's)."""
    umask = os.umask(0o022)  # the folders made on the way must be searchable by the run's uid
    try:
        return _pivot_with(plan)
    finally:
        os.umask(umask)


def _pivot_with(plan: Plan) -> list[str]:
    _mount("orps-root", STAGE, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,nr_inodes=8192,mode=0755")
    try:
        os.chdir(STAGE)
        os.mkdir(OLD_ROOT.lstrip("/"), 0o700)
        _pivot_root(".", OLD_ROOT.lstrip("/"))
    except OSError:
        os.chdir("/")
        _umount(STAGE)
        raise
    os.chdir("/")
    try:
        notes = _build(plan)
    except OSError:
        _restore()
        raise
    _umount(OLD_ROOT)
    try:  # from here on there is no going back: what fails is noted, not undone
        os.rmdir(OLD_ROOT)
        _mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    except OSError as exc:
        notes.append(f"the run's root could not be made read-only ({exc.strerror})")
    return notes


def _restore() -> None:
    """Back to the host's root: the staging tmpfs (and all bound on it) goes where it came from."""
    _pivot_root(OLD_ROOT, OLD_ROOT + STAGE)
    os.chdir("/")
    _umount(STAGE)


def _build(plan: Plan) -> list[str]:
    for real, is_dir in plan.binds:
        _bind(real, is_dir)
    for where, target in plan.links:
        if not os.path.lexists(where):
            os.makedirs(os.path.dirname(where), 0o755, exist_ok=True)
            os.symlink(target, where)
    _bind(plan.workdir, True, writable=True)
    for folder in plan.folders:
        if not os.path.isdir(folder):
            os.makedirs(folder, 0o755, exist_ok=True)
    _dev()
    return _proc()


def _bind(real: str, is_dir: bool, *, writable: bool = False) -> None:
    """``real`` of the old root at the same path in the new one; read-only unless ``writable``.
    Recursive, since a user namespace refuses a bind that would uncover a locked submount; the
    read-only remount keeps the flags the source has (in a user namespace, they are locked)."""
    source = OLD_ROOT + real
    _mountpoint(real, is_dir)
    _mount(source, real, None, MS_BIND | MS_REC)
    if writable:
        return
    locked = os.statvfs(real).f_flag & (os.ST_NOEXEC | os.ST_NOSUID | os.ST_NODEV)
    _mount(None, real, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | locked)


def _mountpoint(path: str, is_dir: bool) -> None:
    if os.path.lexists(path):
        return
    os.makedirs(os.path.dirname(path), 0o755, exist_ok=True)
    if is_dir:
        os.mkdir(path, 0o755)
    else:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644))


def _dev() -> None:
    """The device files code expects (Landlock decides which it may open), and fd links to /proc."""
    os.mkdir("/dev", 0o755)
    for name in DEV_NODES:
        _mountpoint("/dev/" + name, False)
        _mount(OLD_ROOT + "/dev/" + name, "/dev/" + name, None, MS_BIND)
    for name, target in DEV_LINKS:
        os.symlink(target, "/dev/" + name)


def _proc() -> list[str]:
    """A /proc of the run's PID namespace (this process is its init); where the kernel refuses one
    (a /proc partly hidden by a container), the host's, whose other processes it then sees."""
    os.mkdir("/proc", 0o555)
    try:
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        return []
    except MountRefused as exc:
        _mount(OLD_ROOT + "/proc", "/proc", None, MS_BIND | MS_REC)
        return [f"no /proc of the run's own ({exc.strerror}): the host's process ids are visible to it"]
