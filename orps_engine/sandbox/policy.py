"""What each sandboxed role may read, list and run from: the access policy, as data, in one place.

Every role may read the interpreter (its prefixes, standard library and installed packages, and
the entries of its ``sys.path`` that lie inside those) and a few system files, and write only its
own working directory. Past that:

- a **program** and a sidecar's **solution** read nothing of the user's tree (the solution's
  importable tree, its modules and packages without their tests, is copied into a folder of the
  sandbox's own); a sidecar's **checker** reads the folder the solution is imported from, where
  the tests' helpers live;
- a project test's **checker** and the **discover** run read the whole project root, and run from
  it, as ``pytest`` run there would: they hold the user's own tests;
- a project test's **solution** (the code under test) reads only the files the user's own code
  read or imported when the tests ran on it (found by the discover run), and may list the
  folders on its import path: never the tests, the expected values, or files the package never
  touched (a ``settings.py`` it does not import).

Other folders on the interpreter's path are not the interpreter's: the current directory under
``python -m``, a ``PYTHONPATH`` entry, a folder a ``.pth`` file names outside the environment (an
editable install's checkout). They are the user's, so no role reads them by default: the policy
above decides them, and folders of the user's code that lie inside the interpreter's own (a
project beside its ``.venv``, a package installed from the project) are left out too.

Each run sees only these paths (a root of its own: ``runtime.mounts``), so what it may not read
does not exist for it either: ``stat``, inotify and ``connect`` to a Unix socket find nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .runtime.protocol import Interpreter

# Deliberately not all of /etc (shadow) or /proc (other processes): the sandbox may keep the
# right to read past file modes, so these rules are what stands between it and such files.
SYSTEM_READ_PATHS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/proc/self", "/sys/devices/system/cpu",
                     "/dev/urandom", "/dev/random", "/dev/zero", "/etc/ld.so.cache", "/etc/localtime",
                     "/etc/timezone", "/etc/nsswitch.conf", "/etc/passwd", "/etc/group", "/etc/mime.types",
                     "/etc/os-release", "/usr/share/zoneinfo")


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectRun:
    """A project test's setting, as the sandbox needs it (built by the judge from the problem)."""

    root: Path
    module: str  # the dotted name the code under test is imported as
    package: bool  # it is a package's ``__init__``
    filename: Path
    sys_path: tuple[Path, ...]  # the import roots the module and its package come from
    solution_reads: tuple[Path, ...]  # files the user's code read or imported (see the module docstring)


@dataclass(frozen=True, slots=True, kw_only=True)
class Access:
    """One run's filesystem rights besides its working directory."""

    read: tuple[str, ...]
    list: tuple[str, ...] = ()
    cwd: str | None = None  # None: the working directory


def base_reads(interpreter: Interpreter, protected: Iterable[Path]) -> tuple[str, ...]:
    """The interpreter and system files, without any folder that holds (or is above) a
    protected one: the user's files are the roles' business (see the module docstring)."""
    guarded = [p.resolve() for p in protected]
    own = {*interpreter["prefixes"], *interpreter["library_paths"]}
    candidates = {*own, *SYSTEM_READ_PATHS}
    candidates |= {p for p in interpreter["sys_path"] if _inside_any(p, own)}
    out = []
    for raw in sorted(candidates):
        path = Path(raw) if raw == "/proc/self" else Path(raw).resolve()
        if not path.exists() or path == Path("/"):
            continue
        if any(path == g or path in g.parents or g in path.parents for g in guarded):
            continue
        out.append(str(path))
    return tuple(out)


def _inside_any(path: str, folders: Iterable[str]) -> bool:
    """``path``, as written, is one of ``folders`` or lies below one (``lib-dynload``, a folder a
    ``.pth`` file in ``site-packages`` adds): its resolved form, even if elsewhere, is then the
    interpreter's own."""
    if not os.path.isabs(path):
        return False
    written = Path(os.path.normpath(path))
    roots = {form for f in folders for form in (Path(f), Path(f).resolve())}
    return any(written == root or root in written.parents for root in roots)


def sidecar_access(base: tuple[str, ...], lib_dir: Path | None) -> Access:
    return Access(read=base + ((str(lib_dir),) if lib_dir is not None else ()))


def sidecar_checker_access(base: tuple[str, ...], solution_dir: Path | None) -> Access:
    """The tests' side of a sidecar or doctest: the folder the solution is imported from, where
    the tests' own helpers live (it never runs the solution's code: that is the other process)."""
    return Access(read=base + ((str(solution_dir),) if solution_dir is not None else ()))


def project_checker_access(base: tuple[str, ...], project: ProjectRun) -> Access:
    return Access(read=(*base, str(project.root)), cwd=str(project.root))


def discover_access(base: tuple[str, ...], root: Path) -> Access:
    return Access(read=(*base, str(root)), cwd=str(root))


def project_solution_access(base: tuple[str, ...], project: ProjectRun) -> Access:
    folders = {str(p) for p in project.sys_path}
    for path in project.solution_reads:  # every package folder between an import root and a file
        for parent in path.parents:
            if any(parent == root or root in parent.parents for root in project.sys_path):
                folders.add(str(parent))
    return Access(read=(*base, *(str(p) for p in project.solution_reads)), list=tuple(sorted(folders)),
                  cwd=str(project.root))
