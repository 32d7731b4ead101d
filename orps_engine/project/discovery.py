"""Which of a project's tests exercise a file: pytest collects them and runs them once on the
user's own code in the sandbox (``sandbox.runtime.discover``), tracing the calls of the file's
functions. The result is cached by the contents of the project's files (the target file by the
names it defines: editing a function's body does not change which tests call it).
"""

from __future__ import annotations

import ast
import hashlib
import importlib.machinery
import json
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import config
from ..errors import HarnessError, install_command
from ..problem import pysource
from ..sandbox import DiscoverReport, Limits, RawRun, Sandbox

log = logging.getLogger(__name__)

CACHE_FORMAT = "orps-discovery/1"
MAX_FILES = 20_000  # walked for the cache key; a root with more is keyed by what was seen
_SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", ".venv", "venv", "env", ".env", "node_modules", "__pycache__",
                           ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", "build", "dist",
                           "site-packages", ".eggs"})
_CONFIG_FILES = ("pyproject.toml", "setup.cfg", "setup.py", "pytest.ini", "tox.ini")
_DISCOVER_RUNTIME = Path(__file__).parent.parent / "sandbox" / "runtime" / "discover.py"


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscoveredTest:
    nodeid: str
    file: Path
    line: int | None
    function: str  # the test function's qualified name in its file
    outcome: str  # on the user's code: passed, failed, error, skipped, xfailed, xpassed
    calls: frozenset[str]  # the target file's functions it called (qualified names)


@dataclass(frozen=True, slots=True, kw_only=True)
class Discovery:
    root: Path
    target: Path
    tests: tuple[DiscoveredTest, ...]
    collect_errors: tuple[str, ...]
    module: str | None  # the target's dotted name, as the tests imported it
    package: bool
    package_files: tuple[Path, ...]
    error: str | None  # why nothing was collected
    notes: tuple[str, ...] = ()
    missing: str | None = None  # a package the interpreter lacks to collect them (pytest), named in ``error``

    @property
    def import_paths(self) -> tuple[Path, ...]:
        """The folder the target's dotted name is imported from (``src/`` in a src layout)."""
        if self.module is None:
            return ()
        depth = self.module.count(".") + (1 if self.package else 0) + 1
        folder = self.target
        for _ in range(depth):
            folder = folder.parent
        return (folder,)


def discover(target: Path, root: Path, *, python: str | None = None, args: Sequence[str] = (),
             use_cache: bool = True) -> Discovery:
    """The project's tests and what each does with ``target``'s functions (cached)."""
    target, root = target.resolve(), root.resolve()
    key = cache_key(target, root, python, args)
    if use_cache:
        cached = _load(key)
        if cached is not None:
            return cached
    found = _run(target, root, python, list(args))
    if use_cache and found.error is None:
        _store(key, found)
    return found


def _run(target: Path, root: Path, python: str | None, args: list[str]) -> Discovery:
    limits = Limits.for_time_and_memory(config.DISCOVERY_TIME_LIMIT_S, config.DISCOVERY_MEMORY_LIMIT_MB)
    with Sandbox(python=python, preload=["pytest"], sibling_modules=False, protected=[root]) as box:
        python_path = box.interpreter["sys_path"]
        if importlib.machinery.PathFinder.find_spec("pytest", list(python_path)) is None:
            return _without_pytest(target, root, box.interpreter["executable"], box.notes)
        outcome = box.discover({"root": str(root), "args": args or [str(root)], "target_file": str(target),
                                "sys_path": []}, limits)
        notes = box.notes
    if isinstance(outcome, RawRun):
        raise HarnessError(f"collecting the project's tests failed: {_why(outcome)}")
    return _discovery(target, root, outcome, notes)


def _without_pytest(target: Path, root: Path, python: str, notes: tuple[str, ...]) -> Discovery:
    """``python`` has no pytest of its own (looked up on its path, as its import would, without
    running it): the project's tests run under the interpreter that runs the code, never under the
    copy of orps's libraries the editor extension bundles."""
    error = f"the project's tests need pytest in {python}: {install_command(python, 'pytest')}"
    return Discovery(root=root, target=target, tests=(), collect_errors=(), module=None, package=False,
                     package_files=(), error=error, notes=notes, missing="pytest")


def _why(run: RawRun) -> str:
    if run.harness_error:
        return run.harness_error
    if run.timed_out:
        return f"the test run passed its {config.DISCOVERY_TIME_LIMIT_S:g} s deadline"
    tail = run.stderr.strip().splitlines()[-1:] or [f"exit code {run.exit_code}, signal {run.signal}"]
    return tail[0][:500]


def _discovery(target: Path, root: Path, report: DiscoverReport, notes: tuple[str, ...]) -> Discovery:
    tests = tuple(DiscoveredTest(nodeid=item["nodeid"], file=Path(item["file"]), line=item["line"] or None,
                                 function=item["function"], outcome=item["outcome"], calls=frozenset(item["calls"]))
                  for item in report["items"])
    return Discovery(root=root, target=target, tests=tests, collect_errors=tuple(report["collect_errors"]),
                     module=report["module"], package=report["package"],
                     package_files=tuple(Path(p) for p in report["package_files"]), error=report["error"],
                     notes=notes)


# -- the cache --------------------------------------------------------------------------------------
def cache_key(target: Path, root: Path, python: str | None, args: Sequence[str]) -> str:
    digest = hashlib.sha256(f"{CACHE_FORMAT}\0{python or ''}\0{root}\0{target}\0{list(args)}".encode())
    digest.update(_content_hash(_DISCOVER_RUNTIME))  # another orps may discover otherwise
    digest.update(repr(_defined(target)).encode())
    for path in _project_files(root):
        if path != target:
            digest.update(f"\0{path.relative_to(root)}\0".encode())
            digest.update(_content_hash(path))
    return digest.hexdigest()[:32]


def _project_files(root: Path) -> Iterator[Path]:
    """The files whose contents decide what the tests do: Python sources and configuration."""
    seen = 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS and not d.endswith(".egg-info"))
        for name in sorted(files):
            if name.endswith(".py") or name in _CONFIG_FILES:
                seen += 1
                if seen > MAX_FILES:
                    return
                yield Path(folder) / name


_HASHES: dict[tuple[str, int, int], bytes] = {}


def _content_hash(path: Path) -> bytes:
    try:
        stat = path.stat()
    except OSError:
        return b"-"
    memo = (str(path), stat.st_mtime_ns, stat.st_size)
    if memo not in _HASHES:
        try:
            _HASHES[memo] = hashlib.sha256(path.read_bytes()).digest()
        except OSError:
            return b"-"
    return _HASHES[memo]


def _defined(path: Path) -> list[str]:
    """The qualified names of the classes and functions the file defines (not their bodies)."""
    try:
        tree = pysource.parse(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return []
    names: list[str] = []

    def visit(nodes: list[ast.stmt], prefix: str) -> None:
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.append(prefix + node.name)
                visit(node.body, f"{prefix}{node.name}.")

    if tree is not None:
        visit(tree.body, "")
    return names


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "orps" / "discovery"


_MEMORY: dict[str, Discovery] = {}


def _load(key: str) -> Discovery | None:
    if key in _MEMORY:
        return _MEMORY[key]
    try:
        data = json.loads((cache_dir() / f"{key}.json").read_text(encoding="utf-8"))
        found = _from_json(data)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    _MEMORY[key] = found
    return found


def _store(key: str, found: Discovery) -> None:
    _MEMORY[key] = found
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{key}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(_to_json(found)), encoding="utf-8")
        os.replace(tmp, folder / f"{key}.json")
    except OSError as exc:  # a cache that cannot be written only costs time
        log.info("cannot cache the test discovery in %s: %s", folder, exc)


def _to_json(found: Discovery) -> dict[str, object]:
    return {"format": CACHE_FORMAT, "root": str(found.root), "target": str(found.target),
            "tests": [{"nodeid": t.nodeid, "file": str(t.file), "line": t.line, "function": t.function,
                       "outcome": t.outcome, "calls": sorted(t.calls)} for t in found.tests],
            "collect_errors": list(found.collect_errors), "module": found.module, "package": found.package,
            "package_files": [str(p) for p in found.package_files]}


def _from_json(data: Any) -> Discovery:
    """A cached discovery, or ValueError/KeyError/TypeError if the file is not one (then it is run anew)."""
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
        raise ValueError("not a cached discovery")
    tests = tuple(DiscoveredTest(nodeid=str(t["nodeid"]), file=Path(str(t["file"])),
                                 line=int(t["line"]) if t["line"] is not None else None,
                                 function=str(t["function"]), outcome=str(t["outcome"]),
                                 calls=frozenset(str(c) for c in t["calls"])) for t in _list(data["tests"]))
    module = data["module"]
    return Discovery(root=Path(str(data["root"])), target=Path(str(data["target"])), tests=tests,
                     collect_errors=tuple(str(e) for e in _list(data["collect_errors"])),
                     module=str(module) if module is not None else None, package=bool(data["package"]),
                     package_files=tuple(Path(str(p)) for p in _list(data["package_files"])), error=None)


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError("expected a list")
    return value
