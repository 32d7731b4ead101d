"""A project's root: the nearest folder above a file that marks one, as pytest and packaging tools
see it."""

from __future__ import annotations

from pathlib import Path

MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", "pytest.ini", "tox.ini", ".git")


def find_root(file: Path) -> Path | None:
    """The nearest folder holding FILE (FILE's own first) with one of ``MARKERS``, or None."""
    folder = file.resolve().parent
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in MARKERS):
            return candidate
    return None
