"""A virtual environment of a benchmark's own, under ``benchmarks/.cache/`` (git-ignored), for a
tool that orps is compared against.

The tools (evalplus, online-judge-tools) pin their own dependencies; installed into the engine's
venv they could change what the engine and its tests run on, so each gets a venv of its own that
the benchmark talks to through a subprocess. A stamp file holding the requirements marks a venv
as complete: a later run reuses it, a changed requirement list (or a half-made venv) rebuilds it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"
INSTALL_TIMEOUT_S = 900
_MARK = "orps-bench-venv"  # this folder is ours to rebuild
_STAMP = "orps-bench-requirements.txt"  # written last: the venv is complete


class ToolUnavailable(Exception):
    """The tool could not be installed; the message says why, in words a person can act on."""


def tool_python(folder: Path, requirements: Sequence[str], *, without_deps: Sequence[str] = ()) -> Path:
    """The python of the venv at ``folder``, made first if needed: ``requirements`` installed with
    their dependencies, then ``without_deps`` without theirs (for a package whose declared
    dependencies are those of parts the benchmark never imports)."""
    python = folder / "bin" / "python"
    stamp_text = "\n".join([*requirements, "--no-deps", *without_deps]) + "\n"
    stamp = folder / _STAMP
    if python.is_file() and stamp.is_file() and stamp.read_text(encoding="utf-8") == stamp_text:
        return python
    if folder.exists() and any(folder.iterdir()) and not (folder / _MARK).is_file():
        raise ToolUnavailable(f"{folder} exists and was not made by this benchmark: name an empty or missing "
                              "folder, or remove it")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / _MARK).write_text("made by an orps benchmark; safe to remove\n", encoding="utf-8")
    _run([sys.executable, "-m", "venv", str(folder)], "create a venv")
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if requirements:
        _run([*pip, *requirements], f"pip install {' '.join(requirements)}")
    if without_deps:
        _run([*pip, "--no-deps", *without_deps], f"pip install --no-deps {' '.join(without_deps)}")
    stamp.write_text(stamp_text, encoding="utf-8")
    return python


def _run(argv: list[str], what: str) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ToolUnavailable(f"{what}: no answer in {INSTALL_TIMEOUT_S} s (is the package registry reachable?)"
                              ) from None
    except OSError as exc:
        raise ToolUnavailable(f"{what}: {exc.strerror}") from None
    if done.returncode != 0:
        lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
        raise ToolUnavailable(f"{what} failed (exit {done.returncode}): " + " | ".join(lines[-3:]))
