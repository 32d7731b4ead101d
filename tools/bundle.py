"""Builds ``bundled/libs``: orps and its pure-Python runtime dependencies, for the editor extension
to run the server with any CPython 3.10+ (``bundled/tool/lsp_server.py`` puts the folder on
``sys.path``). ``npm run bundle`` runs it, and ``npm run package`` before packing the .vsix.

``python tools/bundle.py [--target DIR]``: the pinned wheels of ``bundled/requirements.txt``
(checked against their hashes, pure Python only, chosen as for Python 3.10 so that its extra
backports are there too) and this checkout of orps, installed with the running interpreter's pip.
The folder is built beside the target and swapped in whole, so a failed build leaves the old one.
Standard library only; pip's own cache makes a rebuild cheap.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REQUIREMENTS = REPO / "bundled" / "requirements.txt"
DEFAULT_TARGET = REPO / "bundled" / "libs"
MARKER = "ORPS_BUNDLE"  # names a folder this script built (and so may replace)
OLDEST_PYTHON = "3.10"  # the wheels are chosen as for this version: its markers pull in the backports
COMPILED = ("*.so", "*.pyd", "*.dylib")
SOURCE_FILES = ("pyproject.toml", "README.md", "LICENSE")  # what pyproject.toml's build reads
SOURCE_PACKAGES = ("orps_engine", "server")  # its package-dir folders


class BundleError(Exception):
    """A build that cannot go on; the message says why and what to do."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/bundle.py", description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=Path, default=DEFAULT_TARGET,
                        help=f"where to build (default: {DEFAULT_TARGET})")
    args = parser.parse_args(argv)
    try:
        build(args.target.resolve())
    except BundleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"bundled orps into {args.target}")
    return 0


def build(target: Path) -> None:
    """Build the bundle into ``target``, replacing a bundle built there before."""
    _check_replaceable(target)
    _check_pip()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        _pip_install(staging, ["--no-deps", "--only-binary", ":all:", "--implementation", "py",
                               "--python-version", OLDEST_PYTHON, "--require-hashes", "-r", str(REQUIREMENTS)])
        with tempfile.TemporaryDirectory(prefix="orps-source-") as source:
            _pip_install(staging, ["--no-deps", str(_copy_source(Path(source)))])
        shutil.rmtree(staging / "bin", ignore_errors=True)  # console scripts, naming the build's interpreter
        _check_pure(staging)
        (staging / MARKER).write_text(_contents(staging), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _check_replaceable(target: Path) -> None:
    """Never delete a folder this script did not build."""
    if target.exists() and any(target.iterdir()) and not (target / MARKER).is_file():
        raise BundleError(f"{target} exists and is not a bundle this script built ({MARKER} is missing): "
                          "choose another --target, or remove it yourself")


def _check_pip() -> None:
    found = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True, text=True)
    if found.returncode != 0:
        raise BundleError(f"{sys.executable} has no pip: run this script with a Python that has it "
                          "(e.g. a virtual environment's, .venv/bin/python tools/bundle.py)")


def _pip_install(target: Path, args: list[str]) -> None:
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input",
               "--no-compile", "--target", str(target), *args]
    done = subprocess.run(command, cwd=REPO, env={**os.environ, "PIP_ROOT_USER_ACTION": "ignore"})
    if done.returncode != 0:
        raise BundleError(f"pip failed (exit {done.returncode}): {' '.join(command)}")


def _copy_source(into: Path) -> Path:
    """The checkout's packaging files and packages, without caches: built from a copy, the wheel
    never picks up a stale ``build/`` of the checkout, and the checkout gets none."""
    for name in SOURCE_FILES:
        shutil.copy2(REPO / name, into / name)
    for name in SOURCE_PACKAGES:
        shutil.copytree(REPO / name, into / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return into


def _check_pure(folder: Path) -> None:
    """The one folder serves every Python version: a compiled module would serve only one."""
    compiled = sorted(str(p.relative_to(folder)) for pattern in COMPILED for p in folder.rglob(pattern))
    if compiled:
        raise BundleError(f"compiled modules in the bundle ({', '.join(compiled[:5])}): bundle pure-Python "
                          f"packages only (see {REQUIREMENTS.relative_to(REPO)})")


def _contents(folder: Path) -> str:
    """What the bundle holds, one distribution a line (``name==version``), for people and tests."""
    names = sorted(p.name.removesuffix(".dist-info") for p in folder.glob("*.dist-info"))
    return "".join(name.replace("-", "==", 1) + "\n" for name in names)


if __name__ == "__main__":
    sys.exit(main())
