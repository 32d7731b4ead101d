"""Refine latency: how close a full refine's wall time comes to its critical path of model calls.

Starts the tests' scripted OpenAI-compatible server (``tests/fixtures/scripted_model.py``)
in-process, with a fixed latency per call (``--latency``, default 0.2 s), and runs
``orps_engine.search.refine`` with the paper preset (N=20 samples, beam K=3, R=5 rounds after
round 0) on one small problem written to a temp folder. The sandboxes are started before the
clock starts: the time measured is the search's (original run, every round, final pick).

How the script keeps every round running. The search stops early once its best candidate passes
every test and a round brings no improvement, so here *nothing ever passes every test*: the
original ``count_vowels`` misses upper-case vowels (one of its three tests fails), and every
programmer reply is the same, equally wrong, variant (it counts twice and asserts the counts
agree: more lines, more branches and more work, so it never beats the original in the final
pick, and no ``measure`` phase runs). Every critic answers ``Score: 3`` with no ``Final: yes``,
so no beam node is retired. Because every candidate is the same code, the execution cache runs
it once; the rest of the wall time is model calls and the search's own overhead.

Reference times, for L the latency per call:

* critical path: (R+1) rounds x 2 calls deep (programmer, then critic) x L; the wall time of
  an unbounded number of calls in flight;
* sequential calls: the number of requests x L; the wall time of one call at a time.

Calls in flight are capped (``--max-in-flight``, default 8, the client's default), so the wall
time cannot reach the critical path: round 0 sends 2N = 40 calls and each later round
2KN = 120, which at 8 at a time is at least 40/8 and 120/8 waves of L (the "in-flight bound"
printed below: 16 s at the defaults, against a 2.4 s critical path and 128 s sequential). The
measured wall sits close to that bound (on the development machine: 16.9 s, 1.06x the bound,
7.05x the critical path, 0.13x sequential); with ``--max-in-flight 128`` it was 4.3 s, 1.78x
the critical path, the rest being the client's and the in-process server's own CPU time per
call (about 2 ms each, serialised by the GIL they share) and the growing prompts.

    .venv/bin/python benchmarks/refine_latency.py [--latency S] [--max-in-flight N]
        [--rounds R] [--samples N] [--beam K]

The last line is the two ratios: refine wall over the critical path, and over sequential calls.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: the fixture lives in the repository's tests/
    sys.path.insert(0, str(REPO))

from orps_engine.config import resolve_settings  # noqa: E402
from orps_engine.critic.prompts import CRITIC_SYSTEM, PROGRAMMER_SYSTEM  # noqa: E402
from orps_engine.model import OpenAIChatModel  # noqa: E402
from orps_engine.problem import load_problem  # noqa: E402
from orps_engine.search import Evaluator, Event, EventKind, refine  # noqa: E402
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
PROGRAMMER_REPLY = '''Counting twice and checking the counts agree guards against a miscount.

```python
def count_vowels(text):
    vowels = "aeiou"
    first = sum(1 for ch in text if ch in vowels)
    second = sum(1 for ch in text if ch in vowels)
    assert first == second
    return first
```
'''
CRITIC_REPLY = "The candidate still misses upper-case vowels (test 3 fails); lower-case the text first.\nScore: 3"


def _system_is(text: str) -> Any:
    def match(body: dict[str, Any]) -> bool:
        messages = body.get("messages") or [{}]
        return bool(messages[0].get("content") == text)

    return match


async def _run(args: argparse.Namespace, server: ScriptedModel, folder: Path) -> dict[str, Any]:
    path = folder / "vowels.py"
    path.write_text(SOLUTION, encoding="utf-8")
    (folder / "vowels.tests.json").write_text(json.dumps(TESTS), encoding="utf-8")
    problem = load_problem(path)
    flags = {"preset": "paper", "model": MODEL_NAME, "base_url": server.base_url, "max_in_flight": args.max_in_flight,
             "samples": args.samples, "beam": args.beam, "rounds": args.rounds, "max_retries": 0}
    settings = resolve_settings(flags, {}, None)  # no environment, no settings files: the run is hermetic
    model = OpenAIChatModel(settings)
    evaluator = Evaluator(problem)
    await evaluator.start()
    round_starts: list[float] = []

    def on_event(event: Event) -> None:
        if event.kind in (EventKind.ROUND, EventKind.MEASURE, EventKind.DONE):
            round_starts.append(time.perf_counter())

    try:
        started = time.perf_counter()
        result = await refine(problem, settings, model, on_event=on_event, evaluator=evaluator)
        wall = time.perf_counter() - started
    finally:
        await evaluator.close()
        await model.close()
    return {"settings": settings, "result": result, "wall": wall, "runs": evaluator.runs,
            "stages": [b - a for a, b in itertools.pairwise(round_starts)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per model call (default 0.2)")
    parser.add_argument("--max-in-flight", type=int, default=8, help="model calls at once (default 8)")
    parser.add_argument("--rounds", type=int, default=None, help="R (default: the paper preset's 5)")
    parser.add_argument("--samples", type=int, default=None, help="N (default: the paper preset's 20)")
    parser.add_argument("--beam", type=int, default=None, help="K (default: the paper preset's 3)")
    args = parser.parse_args()

    with ScriptedModel() as server, tempfile.TemporaryDirectory(prefix="orps-refine-bench-") as folder:
        server.latency_s = args.latency
        server.on(_system_is(CRITIC_SYSTEM), CRITIC_REPLY)
        server.on(_system_is(PROGRAMMER_SYSTEM), PROGRAMMER_REPLY)
        out = asyncio.run(_run(args, server, Path(folder)))
        requests = server.calls()

    settings, result, wall = out["settings"], out["result"], out["wall"]
    n, k, r, latency = settings.samples, settings.beam, settings.rounds, args.latency
    # round 0 expands the original alone; later rounds expand min(K, N) beam nodes N times each
    slots = [n] + [min(k, n) * n] * r
    expected = 2 * sum(slots)
    critical = (r + 1) * 2 * latency
    sequential = requests * latency
    bound = sum(max(2, math.ceil(2 * s / settings.max_in_flight)) for s in slots) * latency

    print(f"preset {settings.preset}: N={n} K={k} R={r}; latency {latency:g} s per call; "
          f"max_in_flight {settings.max_in_flight}")
    print(f"rounds run: {result.rounds_run} of {r + 1} ({result.stopped or 'no early stop'}); "
          f"model requests: {requests} (expected {expected}); retries {result.usage.retries}; "
          f"parse failures {result.parse_failures}; sandbox suite runs: {out['runs']}; "
          f"pick: {result.best.id}")
    if result.rounds_run != r + 1 or requests != expected or result.improved:
        print("warning: the run did not go as scripted; the reference times below do not describe it")
    print("stage times: " + ", ".join(f"{s:.2f}" for s in out["stages"]) + " s")
    print(f"refine wall: {wall:.2f} s")
    print(f"critical path ((R+1) x 2 x latency): {critical:.2f} s")
    print(f"sequential calls ({requests} x latency): {sequential:.2f} s")
    print(f"in-flight bound (sum over rounds of max(2, ceil(calls / max_in_flight)) x latency): {bound:.2f} s; "
          f"refine wall / in-flight bound: {wall / bound:.2f}x")
    print(f"refine wall / critical path: {wall / critical:.2f}x; "
          f"refine wall / sequential calls: {wall / sequential:.2f}x")


if __name__ == "__main__":
    main()
