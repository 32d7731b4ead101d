"""Problems from the benchmark datasets in CSV form (LBPP, HumanEval): one row, one problem.

Columns: ``task_id``, ``completion`` (the canonical solution), ``test_setup``, ``test_list`` (a
Python-literal list of assert strings), and for LBPP ``signature``. The solution is importable
as the module ``code``, as the datasets' own setup code expects.
"""

from __future__ import annotations

import ast
import csv
import re
import sys
from pathlib import Path

from ..errors import InputError
from . import pysource
from .model import FunctionTarget, Problem, ProblemKind, Target, TestCase, TestKind, WholeFile

DATASET_MODULE = "code"
_SIGNATURE = re.compile(r"def\s+(\w+)\s*\(")


def read_rows(csv_path: Path) -> list[dict[str, str]]:
    csv.field_size_limit(sys.maxsize)
    try:
        with csv_path.open(newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    except OSError as exc:
        raise InputError(f"cannot read the dataset: {exc.strerror}", path=csv_path) from None


def problem_from_row(row: dict[str, str], *, source: str | None = None) -> Problem:
    """The row's problem, solved by ``source`` (default: the row's canonical completion)."""
    task = row["task_id"]
    try:
        asserts = ast.literal_eval(row["test_list"])
    except (ValueError, SyntaxError) as exc:
        raise InputError(f"{task}: test_list is not a Python list literal ({exc})") from None
    tests = tuple(TestCase(id=str(i + 1), kind=TestKind.ASSERT, source=str(a), line=1)
                  for i, a in enumerate(asserts))
    entry = _entry_point(row)
    target: Target = FunctionTarget(entry) if entry else WholeFile()
    code = row["completion"] if source is None else source
    return Problem(path=Path(task.replace("/", "_")) / f"{DATASET_MODULE}.py",
                   source=code, kind=ProblemKind.MODULE, target=target,
                   tests=tests, module=DATASET_MODULE, setup=row.get("test_setup", ""),
                   origin=task, name=row.get("title") or task, kept_builtins=pysource.builtin_names_defined(code))


def _entry_point(row: dict[str, str]) -> str | None:
    match = _SIGNATURE.search(row.get("signature") or "")
    if match:
        return match.group(1)
    defs = [m.group(1) for m in _SIGNATURE.finditer(row.get("completion", ""))]
    return defs[-1] if defs else None
