"""Competitive Companion's problem documents: checking one, and writing it into a folder as a
solution file (from a template; an existing one is never overwritten) and its sidecar of tests
(an existing sidecar with other tests is kept as a backup). No HTTP here (``listen`` serves it).

The sidecar is the document as received, so the name, url and limits travel with the tests; only
the fields Competitive Companion sends are kept, so a POST can never add the function schema's
``setup`` code or a ``compare`` the user did not choose.
"""

from __future__ import annotations

import json
import keyword
import os
import re
import sys
import threading
import unicodedata
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from .errors import InputError
from .problem.limits import MEMORY_LIMIT_RULE, TIME_LIMIT_RULE, memory_limit_mb, time_limit_s
from .problem.sidecar_edit import sidecar_path, write_sidecar
from .text import one_line

# What Competitive Companion sends (its README's "Explanation of the JSON format"); nothing else is kept.
COMPANION_FIELDS = ("name", "group", "url", "interactive", "memoryLimit", "timeLimit", "tests", "testType",
                    "input", "output", "languages", "batch")
MAX_STEM_CHARS = 60
MAX_BATCH_SIZE = 1000
MAX_SAME_NAME = 100  # problems of one name from different urls: stem, stem_2, ... stem_100


@dataclass(frozen=True, slots=True, kw_only=True)
class Batch:
    """A contest's problems arrive as ``size`` POSTs that share ``id``."""

    id: str
    size: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CompanionProblem:
    """One checked POST: what the listener needs to name and write it, and the sidecar's document."""

    name: str
    url: str | None
    interactive: bool
    unsupported: str | None  # why orps cannot judge it yet (interactive, file input), if it cannot
    test_count: int
    batch: Batch | None
    document: dict[str, Any]  # the Companion fields as received


class SidecarWrite(str, Enum):
    """What became of the problem's sidecar."""

    CREATED = "created"
    UPDATED = "updated"  # it held other tests: those are kept in the backup
    UNCHANGED = "unchanged"  # it holds these tests already: left as it is (with any edits of its other fields)
    NONE = "none"  # the problem has no sample tests: no sidecar written


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportedProblem:
    """One problem written into the folder."""

    name: str
    url: str | None
    solution: Path
    solution_created: bool  # False: the file was there already and is kept as it is
    tests: Path
    sidecar: SidecarWrite
    backup: Path | None  # the previous sidecar, where it held other tests
    test_count: int
    unsupported: str | None
    batch: Batch | None


def parse_problem(body: bytes) -> CompanionProblem:
    """The problem a POST carries; InputError saying what is wrong with it otherwise."""
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError("the body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"the body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise InputError("the body is not valid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise InputError("expected a JSON object (Competitive Companion's problem)")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InputError('field "name": expected the problem\'s name')
    url = data.get("url")
    if url is not None and not isinstance(url, str):
        raise InputError('field "url": expected a string')
    interactive = data.get("interactive", False)
    if not isinstance(interactive, bool):
        raise InputError('field "interactive": expected true or false')
    _check_limits(data)
    return CompanionProblem(name=name.strip(), url=url or None, interactive=interactive,
                            unsupported=_unsupported(data, interactive), test_count=_check_tests(data.get("tests")),
                            batch=_batch(data.get("batch")),
                            document={key: data[key] for key in COMPANION_FIELDS if key in data})


def _check_limits(data: dict[str, Any]) -> None:
    if "timeLimit" in data and time_limit_s(data["timeLimit"]) is None:
        raise InputError(f'field "timeLimit": {TIME_LIMIT_RULE}')
    if "memoryLimit" in data and memory_limit_mb(data["memoryLimit"]) is None:
        raise InputError(f'field "memoryLimit": {MEMORY_LIMIT_RULE}')


def _check_tests(tests: Any) -> int:
    if not isinstance(tests, list):
        raise InputError('field "tests": expected a list of {"input", "output"} objects')
    for i, test in enumerate(tests):
        if not isinstance(test, dict) or not all(isinstance(test.get(key), str) for key in ("input", "output")):
            raise InputError(f'field "tests[{i}]": expected an object with string "input" and "output"')
    return len(tests)


def _batch(batch: Any) -> Batch | None:
    if batch is None:
        return None
    size = batch.get("size") if isinstance(batch, dict) else None
    ident = batch.get("id") if isinstance(batch, dict) else None
    if not isinstance(ident, str) or not ident or isinstance(size, bool) or not isinstance(size, int) \
            or not 1 <= size <= MAX_BATCH_SIZE:
        raise InputError(f'field "batch": expected {{"id": a string, "size": 1 to {MAX_BATCH_SIZE}}}')
    return Batch(id=ident, size=size)


def _unsupported(data: dict[str, Any], interactive: bool) -> str | None:
    if interactive:
        return "interactive problems are not supported yet: orps test refuses its tests"
    for key, stream in (("input", "stdin"), ("output", "stdout")):
        spec = data.get(key)
        kind = spec.get("type", stream) if isinstance(spec, dict) else stream
        if kind != stream:
            return f"it uses {one_line(str(kind), 40)} {key}, not {stream}: orps test judges stdin/stdout problems only"
    return None


def file_stem(name: str) -> str:
    """A safe file stem for a problem's name: its letters and digits (any script), lowercased and
    joined by ``_`` ("A. Watermelon" -> ``a_watermelon``): no separator, dot or control character
    survives, so the file stays in its folder. A standard module's name or a keyword gets
    ``_solution`` after it (``random.py`` next to other solutions would shadow the module)."""
    words = re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", name).casefold())
    stem = "_".join(words)[:MAX_STEM_CHARS].strip("_") or "problem"
    if stem in sys.stdlib_module_names or keyword.iskeyword(stem) or stem == "test":
        stem += "_solution"
    return stem


def default_template(problem: CompanionProblem) -> str:
    """The solution file written when no template is given: the problem's name and url, and a
    program that reads its standard input."""
    header = [f"# {one_line(problem.name, 200)}"] + ([f"# {one_line(problem.url, 300)}"] if problem.url else [])
    return "\n".join([*header, "import sys", "", "", "def main() -> None:", "    data = sys.stdin.read().split()",
                      "    print(data)", "", "", 'if __name__ == "__main__":', "    main()", ""])


class ProblemWriter:
    """Writes problems into one folder; one at a time (POSTs arrive on threads of their own)."""

    def __init__(self, folder: Path, template: str | None = None) -> None:
        self.folder = folder
        self.template = template
        self._lock = threading.Lock()

    def write(self, problem: CompanionProblem) -> ImportedProblem:
        with self._lock:
            stem = self._stem(problem)
            solution = self.folder / f"{stem}.py"
            tests = sidecar_path(solution)
            created = _create(solution, self.template if self.template is not None else default_template(problem))
            state, backup = _write_tests(solution, tests, problem)
            return ImportedProblem(name=problem.name, url=problem.url, solution=solution, solution_created=created,
                                   tests=tests, sidecar=state, backup=backup, test_count=problem.test_count,
                                   unsupported=problem.unsupported, batch=problem.batch)

    def _stem(self, problem: CompanionProblem) -> str:
        """The problem's stem; where that stem's sidecar is another problem's (another url), the
        first of ``stem_2``, ``stem_3``, ... that is free or this problem's."""
        base = file_stem(problem.name)
        for n in range(1, MAX_SAME_NAME + 1):
            stem = base if n == 1 else f"{base}_{n}"
            other = _sidecar_url(sidecar_path(self.folder / f"{stem}.py"))
            if other is None or problem.url is None or other == problem.url:
                return stem
        raise InputError(f"{MAX_SAME_NAME} problems named {base!r} from other urls are in the folder already",
                         path=self.folder, hint="import this one into another folder (--dir)")


def _sidecar_url(path: Path) -> str | None:
    """The url a sidecar names, if it is readable and names one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError, RecursionError):
        return None
    url = data.get("url") if isinstance(data, dict) else None
    return url if isinstance(url, str) and url else None


def _create(path: Path, text: str) -> bool:
    """Create ``path`` with ``text`` unless something is there already (never overwritten)."""
    try:
        with path.open("x", encoding="utf-8") as out:
            out.write(text)
    except FileExistsError:
        if not path.is_file():
            raise InputError("is in the way of the solution file, and is not a file", path=path) from None
        return False
    return True


def _write_tests(solution: Path, path: Path, problem: CompanionProblem) -> tuple[SidecarWrite, Path | None]:
    if not problem.test_count:
        return SidecarWrite.NONE, None
    if not os.path.lexists(path):
        write_sidecar(solution, problem.document)
        return SidecarWrite.CREATED, None
    if _tests_of(path) == _pairs(problem.document["tests"]):
        return SidecarWrite.UNCHANGED, None
    backup = _free_backup(path)
    os.replace(path, backup)
    write_sidecar(solution, problem.document)
    return SidecarWrite.UPDATED, backup


def _tests_of(path: Path) -> list[tuple[Any, Any]] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError, RecursionError):
        return None
    tests = data.get("tests") if isinstance(data, dict) else None
    return _pairs(tests) if isinstance(tests, list) else None


def _pairs(tests: list[Any]) -> list[tuple[Any, Any]]:
    return [(t.get("input"), t.get("output")) if isinstance(t, dict) else (t, None) for t in tests]


def _free_backup(path: Path) -> Path:
    for n in range(1, 1000):
        backup = path.with_name(path.name + (".bak" if n == 1 else f".bak{n}"))
        if not os.path.lexists(backup):
            return backup
    raise InputError("999 backups of this tests file exist already", path=path, hint="delete the old .bak files")

