"""Each run's own filesystem view and IPC (``runtime.mounts``), through the real engine: what lies
outside a role's reads does not exist for the run (stat, inotify, connect, chmod find nothing),
SysV IPC is the run's alone, the working directory is a bounded tmpfs, and what a run needs (its
working directory, the standard library, installed packages, a project's tests) still works."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from orps_engine import Verdict, load_problem, run_tests
from orps_engine.sandbox import policy
from orps_engine.sandbox.policy import Access
from tests.engine.sandbox.conftest import Listener, Unprivileged
from tests.engine.sandbox.test_attacks import ONE, run, stdio, verdicts

Write = Callable[..., Path]


def output(write: Write, code: str, stdin: str = "") -> str:
    """What the program printed (its verdict does not matter: ``expected`` is a placeholder)."""
    suite = run(stdio(write, code, [{"input": stdin, "output": "-"}]))
    result = suite.results[0]
    assert result.verdict in (Verdict.AC, Verdict.WA), (result.verdict, result.detail, result.error)
    return result.actual or ""


# -- pathname Unix sockets -----------------------------------------------------------------------
# Two layers refuse this: the socket file does not exist in the run's root (this module's), and
# no Unix socket can be made (the seccomp filter, tests/engine/sandbox/test_isolation_syscalls.py).
CONNECT = (
    "import os, socket\n"
    "print('exists', os.path.exists({path!r}))\n"
    "try:\n"
    "    s = socket.socket(socket.AF_UNIX)\n"
    "    s.connect({path!r})\n"
    "    print('connected')\n"
    "except OSError:\n"
    "    print('blocked')\n"
)


def test_connect_to_a_pathname_unix_socket_outside_fails(write: Write, listener: Listener) -> None:
    out = output(write, CONNECT.format(path=str(listener.path)))
    assert out == "exists False\nblocked\n"
    assert listener.connected == []


# -- SysV IPC ------------------------------------------------------------------------------------
IPC_CREAT, IPC_EXCL, IPC_RMID, IPC_STAT = 0o1000, 0o2000, 0, 2
_libc = ctypes.CDLL(None, use_errno=True)
_libc.shmat.restype = ctypes.c_void_p


def _remove_segment(key: int) -> None:
    shmid = _libc.shmget(ctypes.c_int(key), ctypes.c_size_t(0), ctypes.c_int(0))
    if shmid >= 0:
        _libc.shmctl(shmid, IPC_RMID, None)


SHM = (
    "import ctypes, errno, sys\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "def shmget(key, size, flags):\n"
    "    got = libc.shmget(ctypes.c_int(key), ctypes.c_size_t(size), ctypes.c_int(flags))\n"
    "    return got if got >= 0 else errno.errorcode[ctypes.get_errno()]\n"
    "def stat(shmid):\n"
    "    buf = ctypes.create_string_buffer(512)\n"
    "    got = libc.shmctl(shmid, 2, buf)\n"
    "    return 'read' if got >= 0 else errno.errorcode[ctypes.get_errno()]\n"
    "print('host key', shmget({host_key}, 0, 0), 'host id', stat({host_id}))\n"
    "if sys.stdin.read().strip() == 'create':\n"
    "    print('made', isinstance(shmget({run_key}, 4096, 0o1000 | 0o600), int))\n"
    "else:\n"
    "    print('earlier run', shmget({run_key}, 0, 0))\n"
)


def test_sysv_segments_are_the_runs_own(write: Write) -> None:
    host_key, run_key = 0x0A5E0000 + os.getpid() % 0xFFFF, 0x0B5E0000 + os.getpid() % 0xFFFF
    host_id = _libc.shmget(ctypes.c_int(host_key), ctypes.c_size_t(4096), ctypes.c_int(IPC_CREAT | IPC_EXCL | 0o644))
    assert host_id >= 0, os.strerror(ctypes.get_errno())
    try:
        code = SHM.format(run_key=run_key, host_key=host_key, host_id=host_id)
        host = "host key ENOENT host id EINVAL\n"  # the host's segment is not there, by key or by id
        path = stdio(write, code, [{"input": "create", "output": host + "made True\n"},
                                   {"input": "probe", "output": host + "earlier run ENOENT\n"}])
        suite = run(path)
        assert [r.actual for r in suite.results] == [r.expected for r in suite.results]
        assert verdicts(suite) == [Verdict.AC, Verdict.AC]
        # and nothing the run made outlived it on the host
        assert _libc.shmget(ctypes.c_int(run_key), ctypes.c_size_t(0), ctypes.c_int(0)) == -1
    finally:
        _libc.shmctl(host_id, IPC_RMID, None)
        _remove_segment(run_key)


# -- metadata and watches --------------------------------------------------------------------------
def _a_file_under_root() -> Path:
    """A file of /root's that is not the interpreter's (which lives in /root/.pyenv here)."""
    own = (sys.prefix, sys.base_prefix)
    for path in sorted(Path("/root").iterdir()) if os.access("/root", os.R_OK) else []:
        if path.is_file() and not any(p == str(path) or p.startswith(f"{path}/") for p in own):
            return path
    pytest.skip("no file under /root to probe")


STAT = (
    "import os\n"
    "for path in {paths!r}:\n"
    "    try:\n"
    "        st = os.stat(path)\n"
    "        print('seen', st.st_size)\n"
    "    except OSError as exc:\n"
    "        print(type(exc).__name__, os.path.exists(path))\n"
)


def test_stat_of_the_sidecar_and_of_files_outside_finds_nothing(write: Write, tmp_path: Path) -> None:
    secret = tmp_path / "private" / "key"
    secret.parent.mkdir()
    secret.write_text("x" * 1234)
    sidecar = write("sol.tests.json", "{}")  # ``stdio`` writes the real one at this path
    paths = [str(sidecar), str(secret), str(_a_file_under_root()), "/etc/shadow"]
    out = output(write, STAT.format(paths=paths))
    assert out == "FileNotFoundError False\n" * len(paths)


def test_a_solution_cannot_stat_its_sidecar(write: Write) -> None:
    path = write("sol.py", "import os\ndef f():\n    try:\n"
                 "        return os.stat(__file__.replace('.py', '.tests.json')).st_size\n"
                 "    except OSError as exc:\n        return type(exc).__name__\n")
    write("sol.tests.json", json.dumps({"entry_point": "f", "asserts": ["assert f() == 'FileNotFoundError'"]}))
    assert verdicts(run(path)) == [Verdict.AC]


# inotify itself is refused by the seccomp filter; the folder does not exist for the run either.
INOTIFY = (
    "import ctypes, os\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "print('exists', os.path.exists({path!r}))\n"
    "fd = libc.inotify_init1(0)\n"
    "wd = libc.inotify_add_watch(fd, {path!r}.encode(), 0xFFF) if fd >= 0 else -1\n"
    "print('watch', 'set' if wd >= 0 else 'refused')\n"
)


def test_inotify_watch_on_a_folder_outside_fails(write: Write, tmp_path: Path) -> None:
    watched = tmp_path / "watched"
    watched.mkdir(mode=0o755)
    out = output(write, INOTIFY.format(path=str(watched)))
    assert out == "exists False\nwatch refused\n"


# -- the working directory: bounded, and still the run's --------------------------------------------
FALLOCATE = (
    "import errno, os\n"
    "got = []\n"
    "for i in range(16):  # 16 files of 63 MiB: 1 GiB, each under the file size limit\n"
    "    fd = os.open(f'f{i}', os.O_WRONLY | os.O_CREAT, 0o600)\n"
    "    try:\n"
    "        os.posix_fallocate(fd, 0, 63 << 20)\n"
    "        got.append('ok')\n"
    "    except OSError as exc:\n"
    "        got.append(errno.errorcode[exc.errno])\n"
    "        break\n"
    "    finally:\n"
    "        os.close(fd)\n"
    "st = os.statvfs('.')\n"
    "print(got, st.f_blocks * st.f_frsize >> 20, 'MiB')\n"
)


def test_filling_the_working_directory_stops_at_its_size(write: Write) -> None:
    out = output(write, FALLOCATE)
    assert out == "['ok', 'ENOSPC'] 64 MiB\n"  # a 64 MiB tmpfs: the host's disk never saw a byte


MANY_FILES = (
    "import errno, os\n"
    "made = 0\n"
    "try:\n"
    "    for i in range(100_000):\n"
    "        os.close(os.open(f'n{i}', os.O_WRONLY | os.O_CREAT, 0o600))\n"
    "        made += 1\n"
    "except OSError as exc:\n"
    "    print(errno.errorcode[exc.errno], 3000 < made < 4096)\n"
)


def test_creating_100000_files_stops_at_the_file_limit(write: Write) -> None:
    assert output(write, MANY_FILES) == "ENOSPC True\n"


def test_a_run_writes_and_reads_back_in_its_working_directory(write: Write) -> None:
    code = ("import os, tempfile\n"
            "with open('data.txt', 'w') as fh:\n    fh.write('hello')\n"
            "fd, name = tempfile.mkstemp()\nos.write(fd, b'tmp')\nos.close(fd)\n"
            "names = sorted(os.listdir('.')) == sorted(['data.txt', os.path.basename(name)])\n"
            "print(open('data.txt').read(), open(name).read(), names)\n")
    suite = run(stdio(write, code, [{"input": "", "output": "hello tmp True\n"}]))
    assert verdicts(suite) == [Verdict.AC]


def test_the_standard_library_and_installed_packages_still_load(write: Write) -> None:
    code = ("import decimal, json, os, sqlite3, psutil\n"
            "print(len(open(json.__file__).read()) > 100, psutil.Process().pid == os.getpid(),\n"
            "      decimal.Decimal('0.1') * 3, sqlite3.connect(':memory:').execute('select 1').fetchone())\n")
    path = stdio(write, code, [{"input": "", "output": "True True 0.3 (1,)\n"}])
    suite = run_tests(load_problem(path, python=sys.executable))  # the interpreter with psutil installed
    assert verdicts(suite) == [Verdict.AC], suite.results[0].error


def test_a_project_test_passes_a_file_from_its_tmp_path_to_the_code(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The checker (pytest) and the code under test share one working directory: a path the test
    makes in ``tmp_path`` is there for the code too."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "proj"
    (root / "fileio").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "fileio"\nversion = "0.1"\n')
    (root / "fileio" / "__init__.py").write_text("")
    (root / "fileio" / "reader.py").write_text("def load(path):\n    with open(path) as fh:\n"
                                               "        return fh.read()\n")
    (root / "tests" / "test_reader.py").write_text(
        "from fileio.reader import load\n\n\ndef test_load(tmp_path):\n    path = tmp_path / 'x.txt'\n"
        "    path.write_text('hi')\n    assert load(str(path)) == 'hi'\n")
    suite = run_tests(load_problem(root / "fileio" / "reader.py", function="load"))
    assert verdicts(suite) == [Verdict.AC], [(r.detail, r.error) for r in suite.results]


# -- where a layer cannot be had -------------------------------------------------------------------
def test_a_root_that_cannot_be_built_is_a_note_and_the_run_goes_on(write: Write,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A role that may read all of / gets no root of its own: the run is as before, and says so."""
    monkeypatch.setattr(policy, "sidecar_access", lambda base, lib_dir: Access(read=(*base, "/")))
    suite = run(stdio(write, "print('ok')\n", ONE))
    assert verdicts(suite) == [Verdict.AC]
    assert any(note.startswith("no filesystem view of the run's own (a role may read all of /)")
               for note in suite.notes), suite.notes


# -- as a normal user (a user namespace instead of a uid of its own) --------------------------------
TOUCH = (
    "import errno, os\n"
    "target = {target!r}\n"
    "for name, act in (('chmod', lambda: os.chmod(target, 0o777)), ('utime', lambda: os.utime(target, (0, 0))),\n"
    "                  ('setxattr', lambda: os.setxattr(target, 'user.orps', b'1')),\n"
    "                  ('chmod folder', lambda: os.chmod(os.path.dirname(target), 0o777)),\n"
    "                  ('stat', lambda: os.stat(target))):\n"
    "    try:\n"
    "        act()\n"
    "        print(name, 'done')\n"
    "    except OSError as exc:\n"
    "        print(name, errno.errorcode[exc.errno])\n"
)


def _actual(done: subprocess.CompletedProcess[str]) -> str:
    document = json.loads(done.stdout)
    return str(document["tests"][0]["actual"])


def test_as_a_normal_user_the_users_files_outside_cannot_be_changed(unprivileged: Unprivileged) -> None:
    key = unprivileged.write(".ssh/id_ed25519", "PRIVATE KEY", mode=0o600)
    key.parent.chmod(0o700)
    os.utime(key, (1_000_000, 1_000_000))
    before = key.stat()
    path = unprivileged.write("job/sol.py", TOUCH.format(target=str(key)))
    unprivileged.write("job/sol.tests.json", json.dumps({"tests": [{"input": "", "output": "-"}]}))
    done = unprivileged.orps("test", str(path), "--json")
    names = ("chmod", "utime", "setxattr", "chmod folder", "stat")
    assert _actual(done) == "".join(f"{name} ENOENT\n" for name in names), done.stderr
    after = key.stat()
    assert (after.st_mode, after.st_mtime, key.parent.stat().st_mode & 0o777) == (before.st_mode, before.st_mtime,
                                                                                   0o700)
    assert os.listxattr(key) == []


def test_as_a_normal_user_its_own_agents_socket_cannot_be_reached(unprivileged: Unprivileged) -> None:
    agent = unprivileged.root / "agent"
    agent.mkdir()
    os.chown(agent, unprivileged.uid, unprivileged.gid)
    server = Listener(agent / "ssh-agent.sock")
    os.chown(server.path, unprivileged.uid, unprivileged.gid)
    try:
        path = unprivileged.write("job/sol.py", CONNECT.format(path=str(server.path)))
        unprivileged.write("job/sol.tests.json", json.dumps({"tests": [{"input": "", "output": "-"}]}))
        done = unprivileged.orps("test", str(path), "--json")
    finally:
        server.close()
    assert _actual(done) == "exists False\nblocked\n", done.stderr
    assert server.connected == []
