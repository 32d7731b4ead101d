"""Writes shop.replay.jsonl: the model replies that let the README's refine of this project run
offline.

The replies were written by hand for the demo; no language model produced them. They cover
every call the interactive preset (4 samples, beam 2, rounds 0-2) can make on
``shop/analytics.py::repeat_customers``, keyed as the search names its calls
(``r{round}/k{beam slot}/s{sample}/{programmer|critic}#0``), so a replay works whichever way the
search goes. One of the candidates passes most tests but puts the customers in another order: the
project's own tests and the behaviour check refuse it.

    python examples/shop/make_demo_recording.py
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent
NOTE = ("DEMO RECORDING: these replies were written by hand for the orps demo and are served by --replay; "
        "no language model produced them.")

SETS = '''def repeat_customers(orders: list[Order]) -> list[str]:
    """The customers who ordered more than once, in the order of their second order."""
    seen: set[str] = set()
    counted: set[str] = set()
    repeat = []
    for order in orders:
        customer = order.customer
        if customer not in seen:
            seen.add(customer)
        elif customer not in counted:
            counted.add(customer)
            repeat.append(customer)
    return repeat
'''
DICT_COUNTS = '''def repeat_customers(orders: list[Order]) -> list[str]:
    counts: dict[str, int] = {}
    repeat = []
    for order in orders:
        n = counts.get(order.customer, 0) + 1
        counts[order.customer] = n
        if n == 2:
            repeat.append(order.customer)
    return repeat
'''
FIRST_ORDER = '''def repeat_customers(orders: list[Order]) -> list[str]:
    from collections import Counter

    counts = Counter(order.customer for order in orders)
    return [c for c in dict.fromkeys(order.customer for order in orders) if counts[c] > 1]
'''
SEEN_SET = '''def repeat_customers(orders: list[Order]) -> list[str]:
    seen: set[str] = set()
    repeat = []
    for order in orders:
        if order.customer in seen and order.customer not in repeat:
            repeat.append(order.customer)
        seen.add(order.customer)
    return repeat
'''


def programmer(reasoning: str, code: str) -> str:
    return f"{reasoning}\n\n```python\n{code}```\n"


PROGRAMMER = {
    0: [programmer("`in` on a list is a scan: the loop is O(n^2). Two sets make every membership test O(1) "
                   "and keep the order of the second orders.", SETS),
        programmer("Count orders per customer in a dict; a customer's second order is when the count reaches "
                   "two.", DICT_COUNTS),
        programmer("A Counter finds who ordered more than once in one pass.", FIRST_ORDER),
        programmer("Make `seen` a set; `repeat` stays a list to keep the order.", SEEN_SET)],
    1: [programmer("The two sets are already linear; keep them.", SETS),
        programmer("Counting in a dict is linear too.", DICT_COUNTS),
        programmer("Keep `repeat` a list but check a set for membership.", SETS),
        programmer("A set for `seen`.", SEEN_SET)],
    2: [programmer("Two sets, one pass.", SETS),
        programmer("Counts in a dict.", DICT_COUNTS),
        programmer("Sets for both lookups.", SETS),
        programmer("A set for `seen`.", SEEN_SET)],
}
REVIEW = {
    SETS: ("Correct on every test, and linear: each order costs two set lookups. Nothing significant is left "
           "to gain.\nScore: 5\nFinal: yes"),
    DICT_COUNTS: ("Correct and linear; the dict of counts does the same work as two sets with a little more "
                  "memory.\nScore: 5"),
    FIRST_ORDER: ("Fast, but it lists the customers in the order of their *first* order, not their second: "
                  "the order-of-second-orders tests fail. Keep the original's order.\nScore: 1"),
    SEEN_SET: ("Correct, and the set removes half of the scans, but `customer not in repeat` still scans a "
               "list: still quadratic in the number of repeat customers.\nScore: 3"),
}


def main() -> None:
    from orps_engine import load_problem
    from orps_engine.cli.refine_cmd import fingerprint

    problem = load_problem(HERE / "shop" / "analytics.py", function="repeat_customers")
    lines = [{"format": "orps-recording/1", "note": NOTE, "file": "analytics.py", "function": "repeat_customers",
              "model": "demo (hand-written replies)", "fingerprint": fingerprint(problem),
              "settings": {"samples": 4, "beam": 2, "rounds": 2, "temperature": 0.7}}]
    for r, replies in PROGRAMMER.items():
        for k in range(1 if r == 0 else 2):
            for s, reply in enumerate(replies):
                key = f"r{r}/k{k}/s{s}"
                code = reply.split("```python\n", 1)[1].split("```", 1)[0]
                lines.append({"key": f"{key}/programmer#0", "reply": reply, "usage": _usage(reply)})
                lines.append({"key": f"{key}/critic#0", "reply": REVIEW[code], "usage": _usage(REVIEW[code])})
    out = HERE / "shop.replay.jsonl"
    out.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    print(f"wrote {out} ({len(lines) - 1} replies)")


def _usage(reply: str) -> dict[str, int]:
    return {"prompt_tokens": 0, "completion_tokens": len(reply.split())}


if __name__ == "__main__":
    main()
