"""Sidecar and doctest tests of files that live in packages or import their siblings: the code runs
as Python would run it, from a copy of its own tree (never its tests)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from orps_engine import Verdict, load_problem, run_tests

Write = Callable[[str, str], Path]


def verdicts(path: Path) -> list[Verdict]:
    return [r.verdict for r in run_tests(load_problem(path)).results]


def test_a_module_in_a_package_uses_relative_imports(write: Write) -> None:
    write("pkg/__init__.py", "")
    write("pkg/util.py", "def twice(x):\n    return 2 * x\n")
    module = write("pkg/calc.py", "from . import util\nfrom .util import twice\n\n\n"
                                  "def quad(x):\n    return util.twice(twice(x))\n")
    write("pkg/calc.tests.json", json.dumps({"entry_point": "quad", "asserts": ["assert quad(3) == 12"]}))
    assert load_problem(module).module == "pkg.calc"
    assert verdicts(module) == [Verdict.AC]


def test_a_sibling_package_imports_and_the_asserts_import_a_helper(write: Write) -> None:
    write("helpers/__init__.py", "")
    write("helpers/util.py", "def inc(x):\n    return x + 1\n")
    write("fixtures.py", "CASES = [(1, 2), (5, 6)]\n")
    module = write("calc.py", "from helpers import util\n\n\ndef bump(x):\n    return util.inc(x)\n")
    write("calc.tests.json", json.dumps({"entry_point": "bump", "setup": "from fixtures import CASES",
                                         "asserts": ["assert all(bump(a) == b for a, b in CASES)"]}))
    assert verdicts(module) == [Verdict.AC]


def test_the_copy_leaves_the_tests_out(write: Write) -> None:
    write("test_calc.py", "SECRET = 42\n")
    write("tests/__init__.py", "")
    write("tests/data.py", "SECRET = 42\n")
    module = write("calc.py", "def peek():\n    found = []\n    for name in ('test_calc', 'tests.data'):\n"
                              "        try:\n            __import__(name)\n            found.append(name)\n"
                              "        except ImportError:\n            pass\n    return found\n")
    write("calc.tests.json", json.dumps({"entry_point": "peek", "asserts": ["assert peek() == []"]}))
    assert verdicts(module) == [Verdict.AC]


def test_the_asserts_may_import_a_test_helper_the_solution_cannot(write: Write) -> None:
    write("test_support.py", "EXPECTED = {1: 2}\n")
    module = write("calc.py", "def bump(x):\n    try:\n        import test_support  # noqa\n"
                              "        return 'peeked'\n    except ImportError:\n        return x + 1\n")
    write("calc.tests.json", json.dumps({"entry_point": "bump", "setup": "from test_support import EXPECTED",
                                         "asserts": ["assert all(bump(a) == b for a, b in EXPECTED.items())"]}))
    assert verdicts(module) == [Verdict.AC]
