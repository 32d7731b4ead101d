"""Writes primes.replay.jsonl: the model replies that let the README's refine run offline.

The replies were written by hand for the demo; no language model produced them. They cover
every call the interactive preset (4 samples, beam 2, rounds 0-2) can make on primes.py, keyed
as the search names its calls (``r{round}/k{beam slot}/s{sample}/{programmer|critic}#0``), so a
replay works whichever way the search goes.

    python examples/primes/make_demo_recording.py
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent
NOTE = ("DEMO RECORDING: these replies were written by hand for the orps demo and are served by --replay; "
        "no language model produced them.")

SIEVE = '''def sum_primes_below(n: int) -> int:
    """Sum of the primes below n, with a sieve of Eratosthenes."""
    if n < 3:
        return 0
    sieve = bytearray([1]) * n
    sieve[0] = sieve[1] = 0
    for i in range(2, int(n ** 0.5) + 1):
        if sieve[i]:
            sieve[i * i::i] = bytes(len(range(i * i, n, i)))
    return sum(i for i, flag in enumerate(sieve) if flag)
'''
SQRT_TRIAL = '''def sum_primes_below(n: int) -> int:
    total = 0
    for candidate in range(2, n):
        limit = int(candidate ** 0.5)
        if all(candidate % d for d in range(2, limit + 1)):
            total += candidate
    return total
'''
ODD_TRIAL = '''def sum_primes_below(n: int) -> int:
    if n <= 2:
        return 0
    primes = [2]
    for candidate in range(3, n, 2):
        for p in primes:
            if p * p > candidate:
                primes.append(candidate)
                break
            if candidate % p == 0:
                break
        else:
            primes.append(candidate)
    return sum(primes)
'''
OFF_BY_ONE = '''def sum_primes_below(n: int) -> int:
    sieve = [True] * (n + 1)
    total = 0
    for i in range(2, n + 1):
        if sieve[i]:
            total += i
            for j in range(i * i, n + 1, i):
                sieve[j] = False
    return total
'''


def programmer(reasoning: str, code: str) -> str:
    return f"{reasoning}\n\n```python\n{code}```\n"


# What each sample offers, by round: the time-efficient hint finds the sieve at once; the others
# find slower or wrong variants, and later rounds mostly confirm the sieve.
PROGRAMMER = {
    0: [programmer("Trial division up to n is O(n^2). A sieve of Eratosthenes marks composites in "
                   "O(n log log n); bytearray slices keep the marking in C.", SIEVE),
        programmer("To save memory, keep one boolean per number and accumulate while sieving.", OFF_BY_ONE),
        programmer("Iteratively, only divisors up to the square root need checking.", SQRT_TRIAL),
        programmer("Recursion is not needed; test candidates against the primes found so far.", ODD_TRIAL)],
    1: [programmer("The square-root bound is right; a sieve removes the division entirely.", SIEVE),
        programmer("Skip even candidates and divide only by known primes.", ODD_TRIAL),
        programmer("Keep the trial division but stop at the square root.", SQRT_TRIAL),
        programmer("A sieve over all numbers below n.", SIEVE)],
    2: [programmer("The sieve is already the best approach here.", SIEVE),
        programmer("Divide by known primes only.", ODD_TRIAL),
        programmer("Square-root bound.", SQRT_TRIAL),
        programmer("Sieve of Eratosthenes.", SIEVE)],
}
REVIEW = {
    SIEVE: ("Correct on every test, and the sieve is asymptotically optimal for this task; CPU time drops "
            "from hundreds of milliseconds to a few. Nothing significant is left to gain.\nScore: 5\nFinal: yes"),
    SQRT_TRIAL: ("Correct. Bounding the divisors by the square root is a large improvement over the original, "
                 "but each number is still tested separately; a sieve would remove the divisions.\nScore: 4"),
    ODD_TRIAL: ("Correct, and dividing only by known primes helps, but it is still trial division; a sieve "
                "would be faster.\nScore: 4"),
    OFF_BY_ONE: ("Wrong: the sieve runs up to n inclusive, so a prime n is counted although the task asks for "
                 "primes below n (see the failing test). Fix the bound before optimising.\nScore: 1"),
}


def main() -> None:
    from orps_engine.cli.refine_cmd import fingerprint
    from orps_engine.problem import load_problem

    lines = [{"format": "orps-recording/1", "note": NOTE, "file": "primes.py", "function": "sum_primes_below",
              "model": "demo (hand-written replies)", "fingerprint": fingerprint(load_problem(HERE / "primes.py")),
              "settings": {"samples": 4, "beam": 2, "rounds": 2, "temperature": 0.7}}]
    for r, replies in PROGRAMMER.items():
        for k in range(1 if r == 0 else 2):
            for s, reply in enumerate(replies):
                key = f"r{r}/k{k}/s{s}"
                code = reply.split("```python\n", 1)[1].split("```", 1)[0]
                lines.append({"key": f"{key}/programmer#0", "reply": reply, "usage": _usage(reply)})
                lines.append({"key": f"{key}/critic#0", "reply": REVIEW[code], "usage": _usage(REVIEW[code])})
    out = HERE / "primes.replay.jsonl"
    out.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    print(f"wrote {out} ({len(lines) - 1} replies)")


def _usage(reply: str) -> dict[str, int]:
    return {"prompt_tokens": 0, "completion_tokens": len(reply.split())}


if __name__ == "__main__":
    main()
