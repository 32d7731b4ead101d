"""Adding, changing and deleting a program's stdin/stdout tests in its sidecar ``NAME.tests.json``:
the one writer of that file, for ``orps add``, ``orps stress``, ``orps listen`` and the editor's test panel.

The file keeps every field it had (Competitive Companion's name, url, limits; orps's own); only the
``tests`` list changes. It is written whole to a temporary file beside it and renamed over it, so a
crash never leaves half a file, and a file that is not a program's tests file is never touched.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError


@dataclass(frozen=True, slots=True)
class SidecarChange:
    """What a change did: the file, the test's number (1-based, as the table shows it), how many
    tests the file holds now, and whether the file was created."""

    path: Path
    number: int
    total: int
    created: bool


def sidecar_path(solution: Path) -> Path:
    return solution.with_name(solution.stem + ".tests.json")


def add_test(solution: Path, input_text: str, expected: str) -> SidecarChange:
    path = sidecar_path(solution)
    document, created = _read(path, solution)
    tests = document["tests"]
    tests.append({"input": input_text, "output": expected})
    _write(path, document)
    return SidecarChange(path=path, number=len(tests), total=len(tests), created=created)


def update_test(solution: Path, number: int, input_text: str | None = None,
                expected: str | None = None) -> SidecarChange:
    path = sidecar_path(solution)
    document, _created = _existing(path, solution)
    tests = document["tests"]
    test = tests[_index(path, tests, number)]
    if input_text is not None:
        test["input"] = input_text
    if expected is not None:
        test["output"] = expected
    _write(path, document)
    return SidecarChange(path=path, number=number, total=len(tests), created=False)


def delete_test(solution: Path, number: int) -> SidecarChange:
    path = sidecar_path(solution)
    document, _created = _existing(path, solution)
    tests = document["tests"]
    del tests[_index(path, tests, number)]
    _write(path, document)
    return SidecarChange(path=path, number=number, total=len(tests), created=False)


def write_sidecar(solution: Path, document: dict[str, Any]) -> Path:
    """The solution's sidecar replaced by ``document`` whole (``orps listen``'s import, which keeps
    the file it replaces as a backup itself)."""
    path = sidecar_path(solution)
    _write(path, document)
    return path


def _existing(path: Path, solution: Path) -> tuple[dict[str, Any], bool]:
    if not path.is_file():
        raise InputError(f"{solution.name} has no tests file to change", path=path,
                         hint="add a test first (orps add)")
    return _read(path, solution)


def _read(path: Path, solution: Path) -> tuple[dict[str, Any], bool]:
    """The document, or a new one in Competitive Companion's format; refuses anything else."""
    if not path.exists():
        return {"name": solution.stem, "tests": []}, True
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the tests file: {exc}", path=path) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg}", path=path, line=exc.lineno,
                         hint="fix it first: orps changes only a valid tests file") from None
    if not isinstance(document, dict) or "asserts" in document or "entry_point" in document:
        raise InputError("holds function tests (asserts), not stdin/stdout tests", path=path,
                         hint="stdin/stdout tests go into a program's tests file")
    tests = document.setdefault("tests", [])
    if not isinstance(tests, list) or not all(isinstance(t, dict) for t in tests):
        raise InputError('field "tests": expected a list of {"input", "output"} objects', path=path)
    return document, False


def _index(path: Path, tests: list[Any], number: int) -> int:
    if not 1 <= number <= len(tests):
        raise InputError(f"no test {number}: the file holds {len(tests)}", path=path)
    return number - 1


def _write(path: Path, document: dict[str, Any]) -> None:
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    # 0666 less the umask, as open() makes a new file (the kernel applies the umask: reading it
    # would mean setting it, process-wide, for a moment); an existing file's own mode is kept
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
