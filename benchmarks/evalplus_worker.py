"""evalplus's own ``untrusted_check``, behind a JSON line protocol, in the venv the benchmark made
for it (so that evalplus and its pins never touch the engine's venv).

``untrusted_check(dataset, code, inputs, entry_point, expected, atol, ref_time, ...)`` forks one
process per candidate (``multiprocessing``'s default start on Linux), which ``exec``s the code
once and calls ``entry_point(*inputs[i])`` for every input in-process, each under a SIGALRM time
limit of ``max(min_time_limit, gt_time_limit_factor * ref_time[i])``, comparing with
``expected[i]`` by ``==`` (floats: ``np.allclose``, atol 1e-6). That is how evalplus judges every
sample of HumanEval+ and MBPP+: the benchmark hands it the tests of a row that are
``assert f(literals) == literal``.

Requests, one JSON line each on stdin: ``preload`` (modules this worker imports first, as orps's
zygote and the fork floor do), ``solution``, ``entry_point``, ``inputs`` (per test, the source of
each argument), ``expected`` (per test, the source of the expected value), ``time_limit_s``.
Reply, one line on the stdout it started with (moved aside first): ``passed``, one bool per test.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import sys
from dataclasses import dataclass
from typing import Any

from evalplus.eval import PASS, untrusted_check

DATASET = "orps-bench"  # neither "humaneval" nor "mbpp": none of their per-task special oracles


@dataclass(frozen=True)
class Request:
    preload: list[str]
    solution: str
    entry_point: str
    inputs: list[list[str]]
    expected: list[str]
    time_limit_s: float


def main() -> None:
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    for line in sys.stdin:
        request = Request(**json.loads(line))
        for name in request.preload:
            _try_import(name)
        replies.write(json.dumps({"passed": _check(request)}) + "\n")
        replies.flush()


def _try_import(name: str) -> None:
    try:
        importlib.import_module(name)
    except BaseException:
        pass


def _check(request: Request) -> list[bool]:
    inputs: list[list[Any]] = [[ast.literal_eval(arg) for arg in args] for args in request.inputs]
    expected = [ast.literal_eval(value) for value in request.expected]
    status, details = untrusted_check(DATASET, request.solution, inputs, request.entry_point, expected, atol=0,
                                      ref_time=[0.0] * len(inputs), min_time_limit=request.time_limit_s)
    if status == PASS:
        return [True] * len(inputs)
    done = [bool(ok) for ok in details]  # the inputs it reached before a crash or a time-out
    return done + [False] * (len(inputs) - len(done))


if __name__ == "__main__":
    main()
