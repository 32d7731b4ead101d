"""The fork-per-test floor's zygote: what one test costs with nothing but a fork of a warm process.

No confinement, no measurement, no separate checker: the zygote imports the row's libraries once,
then per test forks a child that runs the setup, the solution and the test in-process and reports
pass or fail through its exit status (0: pass, as for a fresh ``python -c``). orps does all that
and more (namespaces, limits, seccomp, a checker apart from the solution, the counters), so the
gap between this and orps is the price of the sandbox and the measurement.

Run by ``exec_throughput.py`` in a temp folder, stdlib only. It reads one JSON request a line on
stdin (``preload``: modules; ``solution``: the code imported as ``code``; ``setup`` and ``tests``:
sources; ``timeout_s``) and writes one JSON reply a line (``passed``: one bool per test) to the
stdout it started with, moved aside first so that nothing a test prints can reach it.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import types
from dataclasses import dataclass
from typing import NoReturn


@dataclass(frozen=True)
class Request:
    preload: list[str]
    solution: str
    setup: str
    tests: list[str]
    timeout_s: int


def main() -> None:
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)  # a library that prints on import must not write into the replies
    for line in sys.stdin:
        request = Request(**json.loads(line))
        for name in request.preload:
            _try_import(name)
        passed = [_run_forked(request, test, devnull) for test in request.tests]
        replies.write(json.dumps({"passed": passed}) + "\n")
        replies.flush()


def _try_import(name: str) -> None:
    """A module the zygote cannot import is the test's to fail on, as in a fresh interpreter."""
    try:
        importlib.import_module(name)
    except BaseException:
        pass


def _run_forked(request: Request, test: str, devnull: int) -> bool:
    pid = os.fork()
    if pid == 0:
        _child(request, test, devnull)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def _child(request: Request, test: str, devnull: int) -> NoReturn:
    """The solution as the module ``code`` (the datasets' setup imports from it), then setup and
    test as ``__main__``; SIGALRM's default action ends a test that runs past the timeout."""
    status = 1
    try:
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        signal.alarm(request.timeout_s)
        module = types.ModuleType("code")
        module.__file__ = os.path.abspath("code.py")
        sys.modules["code"] = module
        exec(compile(request.solution, module.__file__, "exec"), module.__dict__)
        exec(compile(f"{request.setup}\n{test}", "<string>", "exec"), {"__name__": "__main__"})
        status = 0
    except SystemExit as stop:  # as ``python -c`` would exit
        status = 0 if stop.code is None or stop.code == 0 else 1
    except BaseException:
        status = 1
    finally:
        os._exit(status)


if __name__ == "__main__":
    main()
