"""Running the engine as an unprivileged user, for the containment tests whose behaviour differs
from root's (user namespaces instead of a uid of the sandbox's own); and a host service on a
pathname Unix socket, for the tests that a run cannot reach one.

As root (CI runs as root), ``unprivileged`` runs ``orps`` as ``nobody`` with the system's Python
of the same minor version, the repository and this environment's packages on its path, in a
folder ``nobody`` owns. Where that cannot be arranged, the test is skipped with the reason.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
NOBODY = "nobody"


@dataclass(frozen=True)
class Unprivileged:
    """A folder owned by ``nobody`` and a way to run ``python -m orps_engine`` (or code) as it."""

    root: Path
    uid: int
    gid: int
    python: str
    env: dict[str, str]

    def write(self, name: str, text: str, mode: int = 0o644) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        for made in [path, *[p for p in path.parents if self.root in p.parents or p == self.root]]:
            os.chown(made, self.uid, self.gid)
        path.chmod(mode)
        return path

    def command(self, *args: str) -> list[str]:
        return ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups", "--", self.python, *args]

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """``python ARGS`` as ``nobody``, in ``root``."""
        return subprocess.run(self.command(*args), cwd=self.root, env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=False)

    def orps(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return self.run("-m", "orps_engine", *args, timeout=timeout)


def _system_python() -> str | None:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (f"/usr/bin/{version}", f"/usr/local/bin/{version}"):
        if os.path.exists(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture
def unprivileged() -> Iterator[Unprivileged]:
    if os.geteuid() != 0:
        pytest.skip("needs root, to run the engine as nobody (run as a normal user, the whole suite is)")
    if shutil.which("setpriv") is None:
        pytest.skip("needs setpriv (util-linux) to run as nobody")
    python = _system_python()
    if python is None:
        pytest.skip(f"no system python{sys.version_info.major}.{sys.version_info.minor} that nobody can run")
    account = pwd.getpwnam(NOBODY)
    paths = [str(REPO), *{sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}]
    base = Path(tempfile.mkdtemp(prefix="orps-nobody-", dir="/tmp"))
    base.chmod(0o755)
    root = base / "work"
    root.mkdir()
    os.chown(root, account.pw_uid, account.pw_gid)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(root), "TMPDIR": str(root), "LANG": "C.UTF-8",
           "PYTHONPATH": os.pathsep.join(paths), "XDG_CACHE_HOME": str(root / ".cache")}
    made = Unprivileged(root=root, uid=account.pw_uid, gid=account.pw_gid, python=python, env=env)
    probe = made.run("-c", "import orps_engine.cli, psutil")
    if probe.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"nobody cannot import the engine here: {probe.stderr.strip()[-300:]}")
    try:
        yield made
    finally:
        shutil.rmtree(base, ignore_errors=True)


class Listener:
    """A Unix socket server on a path anyone may connect to (0777), recording what connected."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        path.chmod(0o777)
        self.server.listen(4)
        self.server.settimeout(0.2)
        self.connected: list[object] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            self.connected.append(conn)
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.server.close()
        self.path.unlink(missing_ok=True)


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[Listener]:
    """A host service in /tmp (a 0755 folder), where any uid could reach it were it visible."""
    folder = Path(f"/tmp/orps-listener-{os.getpid()}-{tmp_path.name}")
    folder.mkdir(mode=0o755)
    made = Listener(folder / "agent.sock")
    try:
        yield made
    finally:
        made.close()
        folder.rmdir()
