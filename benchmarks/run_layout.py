"""The interpreter's speed inside the sandbox against plain ``python3``: the same loop, the same
interpreter, in the same run of this script.

Why it exists: on the development VM, the first pages a forked run was given made the eval loop
1.5 to 4 times slower for as long as the run's hot data lay on them (C code was not affected),
and which pages those were repeated from run to run of a session, so one candidate could be slow
in every run and another in none (``confine.settle_fresh_pages`` is the fix). This prints how far
the sandbox is from plain Python, in the main thread and in a worker thread, so a return of the
effect shows. The loop's shape matters: the same loop written with ``for ... else`` did not show
the effect where this one did (measured before the fix: median ratio 1.40, 44 of 72 calls slow;
after: 1.00, 0 of 72).

Each of ``--runs`` runs (default 12) calls a trial-division loop ``--calls`` times (default 3) in its
main thread, then as often in a new thread, timing each call by the thread's CPU time. The
sandboxed runs all come from one warm sandbox (as a refine's do); the plain ones are ``python3
FILE`` processes, alternating with them. A call is "slow" when it takes over 1.25x the plain
calls' median.

    .venv/bin/python benchmarks/run_layout.py [--runs N] [--calls N]

The last line: ``sandbox_median_ratio=... sandbox_p90_ratio=... slow_calls=K/N plain_slow_calls=K/N``
(ratios near 1.0, and as few slow calls in the sandbox as in plain Python).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from orps_engine.sandbox import Limits, Sandbox

PROGRAM = """import json, sys, threading, time


def work():
    total = 0
    for c in range(2, 3000):
        ok = True
        for d in range(2, c):
            if c % d == 0:
                ok = False
                break
        if ok:
            total += c
    return total


def timed():
    start = time.thread_time()
    work()
    return (time.thread_time() - start) * 1000


calls = int(sys.argv[1])
main = [timed() for _ in range(calls)]
worker = []
thread = threading.Thread(target=lambda: worker.extend(timed() for _ in range(calls)))
thread.start()
thread.join()
print(json.dumps({"main": main, "thread": worker}))
"""
SLOW = 1.25


def sandboxed(box: Sandbox, calls: int) -> dict[str, list[float]]:
    run = box.run_program(source=PROGRAM, filename="/tmp/layout.py", stdin="", argv=[str(calls)],
                          limits=Limits.for_time_and_memory(60, 512))
    if run.exit_code != 0:
        raise SystemExit(f"the sandboxed run failed: {run.stderr[-500:]}")
    return dict(json.loads(run.stdout))


def plain(path: Path, calls: int) -> dict[str, list[float]]:
    done = subprocess.run([sys.executable, "-I", str(path), str(calls)], capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout))


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=12, help="runs of each kind (default 12)")
    parser.add_argument("--calls", type=int, default=3, help="calls per thread in each run (default 3)")
    args = parser.parse_args()
    box_times: dict[str, list[float]] = {"main": [], "thread": []}
    plain_times: dict[str, list[float]] = {"main": [], "thread": []}
    with tempfile.TemporaryDirectory() as folder, Sandbox() as box:
        path = Path(folder) / "layout.py"
        path.write_text(PROGRAM)
        for _ in range(args.runs):
            for where, times in (("sandbox", sandboxed(box, args.calls)), ("plain", plain(path, args.calls))):
                into = box_times if where == "sandbox" else plain_times
                for kind in ("main", "thread"):
                    into[kind].extend(times[kind])
    plain_all = plain_times["main"] + plain_times["thread"]
    box_all = box_times["main"] + box_times["thread"]
    base = statistics.median(plain_all)
    for kind in ("main", "thread"):
        box, bare = box_times[kind], plain_times[kind]
        print(f"{kind:>6}: sandbox median {statistics.median(box):.1f} ms, p90 {p90(box):.1f} ms; "
              f"plain median {statistics.median(bare):.1f} ms, p90 {p90(bare):.1f} ms")
    slow = sum(t > SLOW * base for t in box_all)
    plain_slow = sum(t > SLOW * base for t in plain_all)
    print(f"sandbox_median_ratio={statistics.median(box_all) / base:.2f} "
          f"sandbox_p90_ratio={p90(box_all) / p90(plain_all):.2f} "
          f"slow_calls={slow}/{len(box_all)} plain_slow_calls={plain_slow}/{len(plain_all)}")


if __name__ == "__main__":
    main()
