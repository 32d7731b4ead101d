"""Tests behave under orps as under plain Python, without handing the solution a way to cheat:
builtins the candidate redefines, subclasses of builtin containers, coroutines, objects of shared
classes, and functions the test hands to the solution (a known limit, with a clear error)."""

from __future__ import annotations

import json
import os
import socket
import sys
import textwrap
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from orps_engine import Verdict, load_problem, run_tests
from orps_engine.judge import checker_spec, judge_function, open_sandbox
from orps_engine.problem import FunctionTarget, Problem, ProblemKind
from orps_engine.problem.datasets import problem_from_row
from orps_engine.problem.pysource import builtin_names_defined
from orps_engine.results import ExecutionResult
from orps_engine.sandbox import Limits
from orps_engine.sandbox.runtime import codec, rpc

Write = Callable[..., Path]


def problem_of(write: Write, code: str, asserts: list[str], **extra: object) -> Problem:
    path = write("mod.py", code)
    write("mod.tests.json", json.dumps({"asserts": asserts, **extra}))
    return load_problem(path)


def verdicts(results: list[ExecutionResult] | tuple[ExecutionResult, ...]) -> list[Verdict]:
    return [r.verdict for r in results]


def run(problem: Problem) -> list[ExecutionResult]:
    return list(run_tests(problem).results)


# -- 1. a candidate cannot shadow builtins inside the test --------------------------------------------
ORIGINAL = "def f(x):\n    return x * 2\n"
CHEAT = "def abs(x):\n    return 0\n\ndef f(x):\n    return x * 3\n"


def test_candidate_defining_abs_does_not_judge_the_tolerance_assert(write: Write) -> None:
    problem = problem_of(write, ORIGINAL, ["assert abs(f(2) - 4) < 1e-9"])
    assert problem.kept_builtins == frozenset()
    assert verdicts(run(problem)) == [Verdict.AC]
    assert verdicts(run(problem.with_source(CHEAT))) == [Verdict.WA]


def test_candidate_abs_stays_reachable_as_module_attribute(write: Write) -> None:
    problem = problem_of(write, ORIGINAL, ["import mod\nassert mod.abs(-5) == 0 and abs(-5) == 5"])
    assert verdicts(run(problem.with_source(CHEAT))) == [Verdict.AC]


def test_star_import_of_the_candidate_does_not_shadow_either(write: Write) -> None:
    problem = problem_of(write, ORIGINAL, ["assert abs(f(2) - 4) < 1e-9"], setup="from mod import *")
    assert verdicts(run(problem.with_source(CHEAT))) == [Verdict.WA]


def test_users_own_function_named_like_a_builtin_is_what_their_tests_call(write: Write) -> None:
    code = "def filter(xs):\n    return [x for x in xs if x > 0]\n"
    problem = problem_of(write, code, ["assert filter([-1, 2, 3]) == [2, 3]"], entry_point="filter")
    assert problem.kept_builtins == frozenset({"filter"})
    assert verdicts(run(problem)) == [Verdict.AC]
    candidate = problem.with_source("def filter(xs):\n    return sorted(x for x in xs if x > 0)\n")
    assert candidate.kept_builtins == frozenset({"filter"})
    assert verdicts(run(candidate)) == [Verdict.AC]


def test_doctest_namespace_is_bound_alike(write: Write) -> None:
    path = write("dt.py", 'def f(x):\n    """\n    >>> abs(f(-2))\n    4\n    """\n    return x * 2\n')
    problem = load_problem(path)
    assert verdicts(run(problem)) == [Verdict.AC]
    cheat = 'def abs(x):\n    return 4\n\ndef f(x):\n    """\n    >>> abs(f(-2))\n    4\n    """\n    return 0\n'
    assert verdicts(run(problem.with_source(cheat))) == [Verdict.WA]


def test_kept_builtins_come_from_the_loaded_file() -> None:
    assert builtin_names_defined("def sum(x):\n    pass\nmax = 3\nclass list: pass\ndef f(): pass\n") == {
        "sum", "max", "list"}
    assert builtin_names_defined("def broken(:\n") == frozenset()
    row = {"task_id": "t/1", "completion": "def len(x):\n    return 1\n", "test_list": "['assert len(0) == 1']"}
    assert problem_from_row(row).kept_builtins == frozenset({"len"})
    assert checker_spec(problem_from_row(row), problem_from_row(row).tests[0])["builtin_names_kept"] == ["len"]


def test_problem_with_source_keeps_kept_builtins() -> None:
    problem = Problem(path=Path("x.py"), source="def sum(): pass", kind=ProblemKind.MODULE,
                      target=FunctionTarget("sum"), tests=(), kept_builtins=frozenset({"sum"}))
    assert problem.with_source("x = 1").kept_builtins == {"sum"}


# -- 2. equality of builtin-container subclasses ---------------------------------------------------
STACKS = textwrap.dedent("""
    class Stack(list):
        pass

    class Tagged(list):
        def __init__(self, items, tag):
            super().__init__(items)
            self.tag = tag

    class Liar(list):
        def __eq__(self, other):
            return True

        def __ne__(self, other):
            return False

    class Name(str):
        pass

    class Table(dict):
        pass

    import enum

    class Color(enum.IntEnum):
        RED = 1

    def make(items):
        return Stack(items)

    def tagged(items, tag):
        return Tagged(items, tag)

    def liar(items):
        return Liar(items)
""")


@pytest.mark.parametrize(("statement", "verdict"), [
    pytest.param("assert make([1, 3]) == Stack([1, 2])", Verdict.WA, id="wrong-contents-vs-handle"),
    pytest.param("assert make([1, 2]) == Stack([1, 2])", Verdict.AC, id="right-contents-vs-handle"),
    pytest.param("assert make([1, 3]) == [1, 2]", Verdict.WA, id="wrong-contents-vs-plain"),
    pytest.param("assert make([1, 2]) == [1, 2]", Verdict.AC, id="right-contents-vs-plain"),
    pytest.param("assert [1, 2] == make([1, 2])", Verdict.AC, id="plain-on-the-left"),
    pytest.param("assert make([1, 2]) != [1, 3]", Verdict.AC, id="not-equal"),
    pytest.param("assert make([1, 2]) != (1, 2)", Verdict.AC, id="list-is-not-a-tuple"),
    pytest.param("assert tagged([1], 'a') == Tagged([1], 'b')", Verdict.WA, id="state-still-counts"),
    pytest.param("assert tagged([1], 'a') == Tagged([1], 'a')", Verdict.AC, id="state-and-contents"),
    pytest.param("assert liar([9]) == [1, 2]", Verdict.WA, id="always-equal-vs-plain"),
    pytest.param("assert liar([9]) == Liar([1, 2])", Verdict.WA, id="always-equal-vs-handle"),
    pytest.param("assert not (liar([9]) != [1, 2])", Verdict.WA, id="never-unequal"),
    pytest.param("assert Name('ab') == 'ab' and Name('ab') != 'abc'", Verdict.AC, id="str-subclass"),
    pytest.param("assert Table(a=1) == {'a': 1} and Table(a=1) != {'a': 2}", Verdict.AC, id="dict-subclass"),
    pytest.param("assert Color.RED == 1 and Color.RED != 2", Verdict.AC, id="int-enum"),
])
def test_builtin_subclass_equality(write: Write, statement: str, verdict: Verdict) -> None:
    assert verdicts(run(problem_of(write, STACKS, [statement], entry_point="make"))) == [verdict]


# -- 3. async targets -----------------------------------------------------------------------------------
ASYNC = textwrap.dedent("""
    import asyncio

    LOCK = asyncio.Lock()
    SEEN = []

    async def f(x):
        async with LOCK:
            await asyncio.sleep(0)
        if x == 0:
            raise ValueError("zero")
        SEEN.append(x)
        return x + 1

    def seen():
        return list(SEEN)

    class Box:
        async def get(self):
            return "boxed"

    async def numbers():
        yield 1
""")


@pytest.mark.parametrize(("statement", "verdict"), [
    pytest.param("assert asyncio.run(f(1)) == 2", Verdict.AC, id="asyncio-run"),
    pytest.param("assert asyncio.run(f(1)) == 3", Verdict.WA, id="wrong-value"),
    pytest.param("async def main():\n    return await f(1) + await f(2)\nassert asyncio.run(main()) == 5",
                 Verdict.AC, id="await-in-a-test-helper"),
    pytest.param("assert asyncio.run(f(1)) == 2 and asyncio.run(f(2)) == 3 and seen() == [1, 2]",
                 Verdict.AC, id="one-loop-for-the-process"),
    pytest.param("asyncio.run(f(0))", Verdict.RE, id="raises-when-awaited"),
    pytest.param("try:\n    asyncio.run(f(0))\nexcept ValueError as e:\n    assert str(e) == 'zero'\n"
                 "else:\n    raise AssertionError('no error')", Verdict.AC, id="expected-exception"),
    pytest.param("c = f(0)\nassert asyncio.iscoroutine(c)\nc.close()", Verdict.AC, id="not-awaited-is-no-error"),
    pytest.param("assert asyncio.run(Box().get()) == 'boxed'", Verdict.AC, id="async-method"),
    pytest.param("assert f(1) == 2", Verdict.WA, id="a-coroutine-is-not-its-value"),
])
def test_async_function_asserts(write: Write, statement: str, verdict: Verdict) -> None:
    problem = problem_of(write, ASYNC, [statement], setup="import asyncio", entry_point="f")
    assert verdicts(run(problem)) == [verdict]


def test_async_exception_is_the_solutions_error_with_its_line(write: Write) -> None:
    results = run(problem_of(write, ASYNC, ["asyncio.run(f(0))"], setup="import asyncio", entry_point="f"))
    error = results[0].error
    assert error is not None and (error.type, error.message) == ("ValueError", "zero")
    assert error.line == 11


def test_async_generator_is_a_clear_error_not_a_crash(write: Write) -> None:
    results = run(problem_of(write, ASYNC, ["async def main():\n    return [x async for x in numbers()]\n"
                                            "assert asyncio.run(main()) == [1]"], setup="import asyncio",
                             entry_point="numbers"))
    assert verdicts(results) == [Verdict.RE]
    assert results[0].error is not None and "async generator" in results[0].error.message


def test_async_doctest(write: Write) -> None:
    code = textwrap.dedent('''
        import asyncio

        async def double(x):
            """
            >>> import asyncio
            >>> asyncio.run(double(2))
            4
            >>> asyncio.run(double(-1))
            Traceback (most recent call last):
            ValueError: negative
            """
            await asyncio.sleep(0)
            if x < 0:
                raise ValueError("negative")
            return x * 2
    ''')
    problem = load_problem(write("adt.py", code))
    assert verdicts(run(problem)) == [Verdict.AC, Verdict.AC]
    wrong = problem.with_source(code.replace("return x * 2", "return x * 3"))
    assert verdicts(run(wrong)) == [Verdict.WA, Verdict.AC]


# -- 4. values of shared classes travel by value -------------------------------------------------
SHAPES = textwrap.dedent('''
    from dataclasses import dataclass, field

    @dataclass(frozen=True, slots=True)
    class Point:
        x: int
        y: int

    @dataclass
    class Bag:
        items: list = field(default_factory=list)

    INITS = []

    class Strict:
        """Every way of building one that calls its code leaves a trace or raises."""

        def __init__(self, v):
            INITS.append(v)
            object.__setattr__(self, "v", v)

        def __setattr__(self, name, value):
            raise AttributeError("read-only")

        def __post_init__(self):
            INITS.append("post")

    class Custom:
        def __reduce__(self):
            return (Custom, ())

    LOOKUPS = []

    def __getattr__(name):
        LOOKUPS.append(name)
        raise AttributeError(name)
''')


@pytest.fixture
def shapes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[types.ModuleType]:
    """A helper module both sides import identically (the forked solution inherits it)."""
    (tmp_path / "orps_shapes_helper.py").write_text(SHAPES, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    import orps_shapes_helper  # type: ignore[import-not-found]

    yield orps_shapes_helper
    sys.modules.pop("orps_shapes_helper", None)


@contextmanager
def broker(solution: str, by_value: list[str]) -> Iterator[tuple[rpc.Endpoint, dict[str, Any]]]:
    """A real checker endpoint here and a solution endpoint in a forked process, as in the sandbox."""
    ours, theirs = socket.socketpair()
    pid = os.fork()
    if pid == 0:  # the solution's process
        try:
            ours.close()
            module = types.ModuleType("solution")
            sys.modules["solution"] = module
            exec(compile(solution, "<solution>", "exec"), module.__dict__)
            rpc.Endpoint(theirs, serve_ops=rpc.SOLUTION_OPS, module_loader=lambda: module).serve_forever()
        finally:
            os._exit(0)
    theirs.close()
    endpoint = rpc.Endpoint(ours, serve_ops=rpc.CHECKER_OPS)
    endpoint.codec.share_by_value(by_value, own_module="solution")
    try:
        listing = endpoint.request("module", value=by_value)
        yield endpoint, listing["names"]
    finally:
        ours.close()
        os.waitpid(pid, 0)


SOLUTION = textwrap.dedent("""
    from orps_shapes_helper import Point, Bag, Strict, Custom

    def moved(p, dx):
        return Point(p.x + dx, p.y)

    def fill(bag):
        bag.items.append(len(bag.items))

    def strict(v):
        return Strict(v)

    def custom():
        return Custom()

    class Own:
        def __init__(self):
            self.secret = 1

    def own():
        return Own()
""")


def test_dataclass_of_a_shared_module_goes_and_comes_back_by_value(shapes: types.ModuleType) -> None:
    with broker(SOLUTION, ["orps_shapes_helper"]) as (_endpoint, names):
        result = names["moved"](shapes.Point(1, 2), 2)
    assert type(result) is shapes.Point and result == shapes.Point(3, 2)


def test_callee_changes_to_a_by_value_argument_are_mirrored(shapes: types.ModuleType) -> None:
    bag = shapes.Bag([7])
    with broker(SOLUTION, ["orps_shapes_helper"]) as (_endpoint, names):
        names["fill"](bag)
        names["fill"](bag)
    assert bag.items == [7, 1, 2]


def test_rebuilding_calls_no_code_of_the_class(shapes: types.ModuleType) -> None:
    with broker(SOLUTION, ["orps_shapes_helper"]) as (_endpoint, names):
        result = names["strict"](5)
    assert type(result) is shapes.Strict and result.v == 5
    assert shapes.INITS == []  # the solution's process ran __init__; this one never did


def test_classes_of_the_solutions_module_and_pickling_classes_stay_handles(shapes: types.ModuleType) -> None:
    with broker(SOLUTION, ["orps_shapes_helper", "solution"]) as (_endpoint, names):
        assert isinstance(names["own"](), rpc.Remote)
        assert isinstance(names["custom"](), rpc.Remote)


def test_without_the_allow_list_shared_objects_stay_handles(shapes: types.ModuleType) -> None:
    with broker(SOLUTION, []) as (_endpoint, names):
        assert isinstance(names["strict"](1), rpc.Remote)
        with pytest.raises(AttributeError, match="belongs to the tests"):  # the solution may only call it
            names["moved"](shapes.Point(1, 2), 1)


def _codec(by_value: list[str]) -> codec.Codec:
    c = codec.Codec(export=lambda obj: 1, resolve=lambda n: None, remote=lambda n: ("remote", n),
                    remote_id=lambda obj: None)
    c.share_by_value(by_value, own_module="solution")
    return c


EVERYTHING = ["orps_shapes_helper", "solution", "os", "orps_engine"]  # refused even where listed


@pytest.mark.parametrize(("allowed", "module", "qualname"), [
    pytest.param(["orps_shapes_helper"], "os", "PathLike", id="outside-the-allow-list"),
    pytest.param(EVERYTHING, "solution", "Own", id="the-solutions-own-module"),
    pytest.param(EVERYTHING, "orps_engine.sandbox.runtime.rpc", "Remote", id="the-runtime-itself"),
    pytest.param(EVERYTHING, "orps_shapes_helper", "Custom", id="custom-pickling"),
    pytest.param(EVERYTHING, "orps_shapes_helper", "Point.__init__", id="not-a-class"),
    pytest.param(EVERYTHING, "orps_shapes_helper", "Missing", id="no-such-name"),
    pytest.param(EVERYTHING, "orps_shapes_helper.sub", "X", id="module-that-does-not-exist"),
    pytest.param(EVERYTHING, 3, "X", id="malformed"),
])
def test_decoding_refuses_classes_it_may_not_rebuild(shapes: types.ModuleType, allowed: list[str], module: Any,
                                                     qualname: str) -> None:
    with pytest.raises(codec.CodecError):
        _codec(allowed).decode({"$obj": [module, qualname, []]})
    assert qualname.split(".")[0] not in shapes.LOOKUPS  # names are never looked up through __getattr__


def test_decoding_refuses_state_a_slotted_class_cannot_hold(shapes: types.ModuleType) -> None:
    c = _codec(["orps_shapes_helper"])
    assert c.decode({"$obj": ["orps_shapes_helper", "Point", [["x", 1], ["y", 2]]]}) == shapes.Point(1, 2)
    with pytest.raises(codec.CodecError):
        c.decode({"$obj": ["orps_shapes_helper", "Point", [["z", 1]]]})
    with pytest.raises(codec.CodecError):
        c.decode({"$obj": ["orps_shapes_helper", "Point", [[1, 1]]]})


def test_shared_dataclass_through_the_sandbox(write: Write) -> None:
    """``pstats`` stands for a library both processes import: its dataclasses cross by value."""
    code = textwrap.dedent("""
        import dataclasses

        def twice(profile):
            return dataclasses.replace(profile, ncalls=profile.ncalls * 2)
    """)
    problem = problem_of(write, code, [
        "p = FunctionProfile('3', 0.5, 0.1, 1.0, 0.2, 'f.py', 7)\n"
        "assert twice(p) == FunctionProfile('33', 0.5, 0.1, 1.0, 0.2, 'f.py', 7)"],
        setup="from pstats import FunctionProfile", entry_point="twice")
    assert verdicts(run(problem)) == [Verdict.RE]  # by default a checker object is a handle
    assert _run_by_value(problem, ["pstats"]).verdict is Verdict.AC
    wrong = problem.with_source(code.replace("* 2", "* 3"))
    assert _run_by_value(wrong, ["pstats"]).verdict is Verdict.WA


def test_forged_object_outside_the_allow_list_is_the_solutions_failure(write: Write) -> None:
    code = textwrap.dedent("""
        import sys

        def f():
            return 1

        runtime = sys.modules[[m for m in sys.modules if m.endswith("runtime.rpc")][0]]
        plain_ok = runtime.Endpoint._ok
        runtime.Endpoint._ok = lambda self, msg, value: (
            {"re": msg["id"], "ok": {"$obj": ["os", "PathLike", []]}} if value == 1 else plain_ok(self, msg, value))
    """)
    problem = problem_of(write, code, ["assert f() == 1"], entry_point="f")
    result = _run_by_value(problem, ["pstats"])
    assert result.verdict is Verdict.WA
    assert result.detail is not None and "may not travel by value" in result.detail


def _run_by_value(problem: Problem, modules: list[str]) -> ExecutionResult:
    test = problem.tests[0]
    limits = Limits.for_time_and_memory(problem.time_limit_s, problem.memory_limit_mb)
    with open_sandbox(problem) as box:
        run_ = box.run_function_test(source=problem.source, filename=str(problem.path), module=problem.module,
                                     spec=checker_spec(problem, test, by_value_modules=modules), limits=limits)
    return judge_function(problem, test, run_)


# -- 5. functions the test hands to the solution stay in the checker ----------------------------
def test_solution_inspecting_a_test_function_gets_an_error_naming_the_limit(write: Write) -> None:
    code = "def name_of(g):\n    return g.__code__.co_name\n"
    results = run(problem_of(write, code, ["def h():\n    pass\nassert name_of(h) == 'h'"], entry_point="name_of"))
    assert verdicts(results) == [Verdict.RE]
    error = results[0].error
    assert error is not None and error.type == "AttributeError"
    assert "__code__" in error.message and "belongs to the tests" in error.message


def test_solution_may_still_call_a_test_function(write: Write) -> None:
    code = "def apply(g, x):\n    return g(g(x))\n"
    results = run(problem_of(write, code, ["assert apply(lambda v: v + 1, 1) == 3"], entry_point="apply"))
    assert verdicts(results) == [Verdict.AC]


def test_solution_may_wrap_and_memoise_a_test_function(write: Write) -> None:
    code = textwrap.dedent("""
        import functools

        def memo_apply(g, xs):
            cached = functools.lru_cache(maxsize=None)(g)
            return [cached(x) for x in xs]

        def wrapped(g):
            @functools.wraps(g)
            def inner(x):
                return g(x) + 1
            return inner(1)
    """)
    results = run(problem_of(write, code, ["calls = []\ndef g(v):\n    calls.append(v)\n    return v * 2\n"
                                           "assert memo_apply(g, [1, 1, 2]) == [2, 2, 4] and calls == [1, 2]",
                                           "assert wrapped(lambda v: v * 10) == 11"], entry_point="memo_apply"))
    assert verdicts(results) == [Verdict.AC, Verdict.AC]


# -- iterables the tests hand over ------------------------------------------------------------
def test_the_solution_iterates_a_generator_the_test_passes(write: Write) -> None:
    code = "def chunks(items, n):\n    out, row = [], []\n    for x in items:\n        row.append(x)\n" \
           "        if len(row) == n:\n            out.append(row)\n            row = []\n" \
           "    return out + ([row] if row else [])\n"
    problem = problem_of(write, code, ["assert chunks((c for c in 'abcde'), 2) == [['a', 'b'], ['c', 'd'], ['e']]",
                                       "assert chunks(range(3), 5) == [[0, 1, 2]]"])
    assert verdicts(run(problem)) == [Verdict.AC, Verdict.AC]


def test_iterating_a_test_object_gives_no_way_to_its_attributes(write: Write) -> None:
    code = ("def peek(xs):\n    it = iter(xs)\n"
            "    return type(it).__name__ + ':' + str(getattr(it, 'gi_frame', 'none'))\n")
    problem = problem_of(write, code, ["assert peek(c for c in 'ab') == '_RemoteIterator:none'"])
    assert verdicts(run(problem)) == [Verdict.AC]  # an iterator of the broker's: no frame behind it
