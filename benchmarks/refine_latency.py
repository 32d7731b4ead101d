"""Refine latency: how close a full refine's wall time comes to its critical path of model calls,
on an endpoint that never pushes back and on one that answers HTTP 429 above k calls in flight.

Starts the tests' scripted OpenAI-compatible server (``tests/fixtures/scripted_model.py``)
in-process, with a fixed latency per call (``--latency``, default 0.2 s), and runs
``orps_engine.search.refine`` with the paper preset (N=20 samples, beam K=3, R=5 rounds after
round 0) and the default settings otherwise (so the default ``max_in_flight`` ceiling and the
client's adaptive limit) on one small problem written to a temp folder. It does so twice in the
same run: against a server that never limits, then against one that answers 429 (with
``Retry-After: --retry-after``) whenever more than ``--rate-limit-above`` calls are in flight.
The sandboxes are started before the clock starts: the time measured is the search's (original
run, every round, final pick).

How the script keeps every round running. The search stops early once its best candidate passes
every test and a round brings no improvement, so here *nothing ever passes every test*: the
original ``count_vowels`` misses upper-case vowels (one of its three tests fails), and every
programmer reply is the same, equally wrong, variant (it counts the vowels twenty thousand times over:
more lines, more branches and far more work, so it never beats the original in the final pick,
whatever the noise, and no ``measure`` phase runs). Every critic answers ``Score: 3`` with no
``Final: yes``, so no beam node is retired. Because every candidate is the same code, the
execution cache runs it once; the rest of the wall time is model calls and the search's own
overhead.

Reference times, for L the latency per call:

* critical path: (R+1) rounds x 2 calls deep (programmer, then critic) x L; the wall time of
  an unbounded number of calls in flight;
* sequential calls: the number of requests x L; the wall time of one call at a time;
* against the rate-limited server, the k bound: sum over rounds of max(2, ceil(calls / k)) x L,
  the best any client could do with k calls served at once.

Measured on the 2-core development machine, shared and loaded (so noisy), before roadmap 9
(fixed cap of 8 calls in flight): 19.4x the critical path at 0.2 s a call, 7.2x at 1 s. After
(ceiling 128, slow start from 32, chunks read as plain JSON, the final pick's figures cached):
2.9x at 0.2 s and 1.5x at 1 s. What is left is the client's CPU per call, about 6 ms for a
45-chunk reply (openai's and httpx's work per streamed chunk, serialised on one event loop):
the 60 replies of a phase all arrive at once here, so each phase costs L plus some 0.35 s; real
replies stream over seconds and hide it. At 0.2 s a call that lag can also look like server-side
queueing to the limiter, which then lowers the limit (to 36-39 in these runs).

The last line: ``wall_vs_critical_path`` (never limiting), ``calls`` (answered model calls,
both runs), ``lost`` (calls that failed for good, both runs), ``rate_limited_wall_vs_critical_path``,
then the rate-limited run's 429s and its wall over the k bound.

    .venv/bin/python benchmarks/refine_latency.py [--latency S] [--max-in-flight N]
        [--rate-limit-above K] [--retry-after S] [--rounds R] [--samples N] [--beam K]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import multiprocessing
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: the fixture lives in the repository's tests/
    sys.path.insert(0, str(REPO))

from orps_engine.config import Settings, resolve_settings  # noqa: E402
from orps_engine.critic.prompts import CRITIC_SYSTEM, PROGRAMMER_SYSTEM  # noqa: E402
from orps_engine.model import OpenAIChatModel  # noqa: E402
from orps_engine.problem import load_problem  # noqa: E402
from orps_engine.search import Evaluator, Event, EventKind, RefineResult, refine  # noqa: E402
from tests.fixtures import scripted_model  # noqa: E402
from tests.fixtures.scripted_model import MODEL_NAME, ScriptedModel  # noqa: E402

# The fixture's handler writes the response headers and the body in two sends; with Nagle's
# algorithm on, the body waits for the client's delayed ACK (~40 ms a call on Linux loopback),
# which would be measured here as search overhead. TCP_NODELAY on the server's sockets removes it.
scripted_model._Handler.disable_nagle_algorithm = True

SOLUTION = '''def count_vowels(text):
    """How many vowels (a, e, i, o, u, in either case) text has."""
    return sum(1 for ch in text if ch in "aeiou")
'''
TESTS = {
    "entry_point": "count_vowels",
    "asserts": ["assert count_vowels('hello') == 2", "assert count_vowels('xyz') == 0",
                "assert count_vowels('AEIOU') == 5"],
}
PROGRAMMER_REPLY = '''Counting again and again and checking the counts agree guards against a miscount.

```python
def count_vowels(text):
    vowels = "aeiou"
    counts = [sum(1 for ch in text if ch in vowels) for _ in range(20000)]
    if len(set(counts)) != 1:
        raise AssertionError("the counts disagree")
    return counts[0]
```
'''
CRITIC_REPLY = "The candidate still misses upper-case vowels (test 3 fails); lower-case the text first.\nScore: 3"


def _system_is(text: str) -> Any:
    def match(body: dict[str, Any]) -> bool:
        messages = body.get("messages") or [{}]
        return bool(messages[0].get("content") == text)

    return match


@dataclass(frozen=True, slots=True)
class Scenario:
    """One refine against the scripted server, and what the server saw of it."""

    settings: Settings
    result: RefineResult
    wall: float
    runs: int
    stages: list[float]
    requests: int  # what the server saw (filled in once it has said)
    rate_limited: int  # requests answered 429
    peak_served: int  # the most requests the server answered at once


async def _refine(args: argparse.Namespace, base_url: str, folder: Path) -> Scenario:
    path = folder / "vowels.py"
    path.write_text(SOLUTION, encoding="utf-8")
    (folder / "vowels.tests.json").write_text(json.dumps(TESTS), encoding="utf-8")
    problem = load_problem(path)
    flags: dict[str, Any] = {"preset": "paper", "model": MODEL_NAME, "base_url": base_url,
                             "samples": args.samples, "beam": args.beam, "rounds": args.rounds, "max_retries": 0}
    if args.max_in_flight is not None:
        flags["max_in_flight"] = args.max_in_flight
    settings = resolve_settings(flags, {}, None)  # no environment, no settings files: the run is hermetic
    model = OpenAIChatModel(settings)
    evaluator = Evaluator(problem)
    await evaluator.start()
    marks: list[float] = []

    def on_event(event: Event) -> None:
        if event.kind in (EventKind.ROUND, EventKind.MEASURE, EventKind.DONE):
            marks.append(time.perf_counter())

    try:
        started = time.perf_counter()
        result = await refine(problem, settings, model, on_event=on_event, evaluator=evaluator)
        wall = time.perf_counter() - started
    finally:
        await evaluator.close()
        await model.close()
    return Scenario(settings=settings, result=result, wall=wall, runs=evaluator.runs,
                    stages=[b - a for a, b in itertools.pairwise(marks)], requests=0, rate_limited=0, peak_served=0)


@dataclass(frozen=True, slots=True)
class ServerSaw:
    requests: int
    rate_limited: int
    peak_served: int


def _serve(args: argparse.Namespace, rate_limit_above: int | None, pipe: Connection) -> None:
    """The scripted server, in a process of its own as a real server is: in this one, its threads
    would take the GIL from the client's event loop, and their CPU time would count as the search's."""
    with ScriptedModel() as server:
        server.latency_s = args.latency
        server.rate_limit_above = rate_limit_above
        server.rate_limit_retry_after = args.retry_after
        server.on(_system_is(CRITIC_SYSTEM), CRITIC_REPLY)
        server.on(_system_is(PROGRAMMER_SYSTEM), PROGRAMMER_REPLY)
        pipe.send(server.base_url)
        pipe.recv()  # the refine is over
        pipe.send(ServerSaw(server.calls(), server.rate_limited, server.peak_generating))


def _scenario(args: argparse.Namespace, rate_limit_above: int | None) -> Scenario:
    ours, theirs = multiprocessing.get_context("fork").Pipe()
    child = multiprocessing.get_context("fork").Process(target=_serve, args=(args, rate_limit_above, theirs))
    child.start()
    try:
        base_url = ours.recv()
        with tempfile.TemporaryDirectory(prefix="orps-refine-bench-") as folder:
            run = asyncio.run(_refine(args, base_url, Path(folder)))
        ours.send("done")
        saw: ServerSaw = ours.recv()
    finally:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
    return replace(run, requests=saw.requests, rate_limited=saw.rate_limited, peak_served=saw.peak_served)


def _report(name: str, run: Scenario, latency: float) -> float:
    """Print one scenario; return its wall over the critical path."""
    settings, result = run.settings, run.result
    n, k, r = settings.samples, settings.beam, settings.rounds
    slots = [n] + [min(k, n) * n] * r  # round 0 expands the original alone, later rounds K nodes N times
    expected = 2 * sum(slots)
    answered = run.requests - run.rate_limited
    critical = (r + 1) * 2 * latency
    print(f"-- {name}: preset {settings.preset}, N={n} K={k} R={r}, latency {latency:g} s per call, "
          f"max_in_flight {settings.max_in_flight}")
    print(f"rounds run: {result.rounds_run} of {r + 1} ({result.stopped or 'no early stop'}); model calls "
          f"answered: {answered} (expected {expected}), failed for good: {result.usage.failed_calls}; "
          f"requests: {run.requests}, of which 429: {run.rate_limited}; retries {result.usage.retries}; "
          f"the most answered at once: {run.peak_served}; calls in flight at the end: "
          f"{result.usage.in_flight_limit}; sandbox suite runs: {run.runs}; pick: {result.best.id}")
    if result.rounds_run != r + 1 or answered != expected or result.improved:
        print("warning: the run did not go as scripted; the reference times below do not describe it")
    print("stage times: " + ", ".join(f"{s:.2f}" for s in run.stages) + " s")
    print(f"refine wall: {run.wall:.2f} s; critical path ((R+1) x 2 x latency): {critical:.2f} s; "
          f"sequential calls ({answered} x latency): {answered * latency:.2f} s")
    print(f"refine wall / critical path: {run.wall / critical:.2f}x; "
          f"refine wall / sequential calls: {run.wall / (answered * latency):.2f}x")
    return run.wall / critical


def _k_bound(run: Scenario, k: int, latency: float) -> float:
    n, beam, r = run.settings.samples, run.settings.beam, run.settings.rounds
    slots = [n] + [min(beam, n) * n] * r
    return sum(max(2, math.ceil(2 * s / k)) for s in slots) * latency


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per model call (default 0.2)")
    parser.add_argument("--max-in-flight", type=int, default=None, help="the ceiling on model calls at once "
                        "(default: the settings' default)")
    parser.add_argument("--rate-limit-above", type=int, default=16, help="the second server answers 429 above "
                        "this many calls in flight (default 16)")
    parser.add_argument("--retry-after", type=float, default=0.2, help="its 429s' Retry-After, seconds (default 0.2)")
    parser.add_argument("--rounds", type=int, default=None, help="R (default: the paper preset's 5)")
    parser.add_argument("--samples", type=int, default=None, help="N (default: the paper preset's 20)")
    parser.add_argument("--beam", type=int, default=None, help="K (default: the paper preset's 3)")
    args = parser.parse_args()
    if args.rate_limit_above < 1:
        parser.error("--rate-limit-above must be at least 1")

    open_run = _scenario(args, None)
    ratio = _report("an endpoint that never rate-limits", open_run, args.latency)
    limited = _scenario(args, args.rate_limit_above)
    limited_ratio = _report(f"an endpoint that answers 429 above {args.rate_limit_above} in flight", limited,
                            args.latency)
    bound = _k_bound(limited, args.rate_limit_above, args.latency)
    print(f"k bound (sum over rounds of max(2, ceil(calls / {args.rate_limit_above})) x latency): {bound:.2f} s")
    calls = open_run.result.usage.calls + limited.result.usage.calls
    lost = open_run.result.usage.failed_calls + limited.result.usage.failed_calls
    print(f"wall_vs_critical_path={ratio:.2f} calls={calls} lost={lost} "
          f"rate_limited_wall_vs_critical_path={limited_ratio:.2f} http_429={limited.rate_limited} "
          f"rate_limited_wall_vs_k_bound={limited.wall / bound:.2f}")


if __name__ == "__main__":
    main()
