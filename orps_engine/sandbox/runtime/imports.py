"""How the code under test becomes importable in the sandbox, on both sides of the RPC boundary.

In the **solution** process, the module under test comes from the candidate's source instead of
its file: a finder at the front of ``sys.meta_path`` answers for that one dotted name, so the
module is imported the usual way (its parent packages first, from the project's own files),
with the real ``__file__`` and ``__package__``, whoever imports it, whenever.

In the **checker** process (project tests), the same dotted name is answered with a proxy module
bound to the solution process: every import of it, by a test, a ``conftest``, or another module
of the project, gets that proxy, and so the code under test always runs in the solution process.

Standard library only, as everything in ``runtime``.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import linecache
import os
import sys
import types
from collections.abc import Callable, Sequence


class _SourceLoader(importlib.abc.Loader):
    def __init__(self, source: str, filename: str) -> None:
        self.source, self.filename = source, filename

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None  # the default module object

    def exec_module(self, module: types.ModuleType) -> None:
        code = compile_source(self.source, self.filename)
        exec(code, module.__dict__)

    def get_source(self, fullname: str) -> str:
        return self.source


class _ProxyLoader(importlib.abc.Loader):
    def __init__(self, bind: Callable[[types.ModuleType], None]) -> None:
        self.bind = bind

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        self.bind(module)


class _OneModuleFinder(importlib.abc.MetaPathFinder):
    """Answers for one dotted name only; every other import goes on as usual."""

    def __init__(self, module: str, filename: str, package: bool, loader: importlib.abc.Loader) -> None:
        self.module, self.filename, self.package, self.loader = module, filename, package, loader

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.module:
            return None
        locations = [os.path.dirname(self.filename)] if self.package else None
        return importlib.util.spec_from_file_location(fullname, self.filename, loader=self.loader,
                                                      submodule_search_locations=locations)


def compile_source(source: str, filename: str) -> types.CodeType:
    """Compile with ``filename`` for tracebacks (and ``linecache``, which has no file to read)."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return compile(source, filename, "exec", dont_inherit=True)


def import_source(module: str, source: str, filename: str, package: bool, sys_path: Sequence[str]) -> types.ModuleType:
    """Import ``module`` with ``source`` as its code (the solution's side). A module of that name
    already imported here (the zygote's ``json``, ``doctest``, for a solution named so) is not the
    solution: it is dropped first, so the import runs the solution's code (the runtime keeps the
    module objects it imported at its start)."""
    sys.path[:0] = [p for p in sys_path if p not in sys.path]
    sys.meta_path.insert(0, _OneModuleFinder(module, filename, package, _SourceLoader(source, filename)))
    sys.modules.pop(module, None)
    return importlib.import_module(module)


def proxy_imports(module: str, filename: str, package: bool, bind: Callable[[types.ModuleType], None]) -> None:
    """From now on, importing ``module`` gives a module that ``bind`` fills (the checker's side)."""
    sys.meta_path.insert(0, _OneModuleFinder(module, filename, package, _ProxyLoader(bind)))
