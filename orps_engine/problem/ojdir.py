"""Tests in online-judge-tools' layout: ``test/NAME.in`` with ``test/NAME.out`` beside the solution."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import InputError
from .model import TestCase, TestKind


def oj_dir(solution: Path) -> Path | None:
    folder = solution.parent / "test"
    return folder if folder.is_dir() and any(folder.glob("*.in")) else None


def oj_cases(folder: Path) -> tuple[TestCase, ...]:
    cases = []
    for infile in sorted(folder.glob("*.in"), key=_natural):
        outfile = infile.with_suffix(".out")
        if not outfile.is_file():
            raise InputError(f"{infile.name} has no matching {outfile.name}", path=infile,
                             hint="add the expected output, or remove the input")
        cases.append(TestCase(id=infile.stem, kind=TestKind.STDIO, path=infile, line=1,
                              input=_read(infile), expected=_read(outfile)))
    if not cases:
        raise InputError("no *.in files", path=folder)
    return tuple(cases)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", path=path) from None


def _natural(path: Path) -> list[object]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.stem)]
