"""Targets beyond a top-level function: methods (plain, static, class, a property's getter, decorated,
in a nested class) and ``async def``s. How each is found (``pysource``), shown to the model and put
back (``problem.target``), which replies can replace it (``critic.parse``), what the prompt says about
it, and when applying a refine to an edited file is stale. Pure: no sandbox, no model."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from orps_engine.critic import parse_programmer, programmer_messages
from orps_engine.critic.prompts import task_text
from orps_engine.file_run import Refinement
from orps_engine.model import Usage
from orps_engine.problem import FunctionTarget, Problem, ProblemKind, WholeFile, pysource
from orps_engine.problem import TestCase as Case  # aliased: pytest would collect a Test* class
from orps_engine.problem import TestKind as Kind
from orps_engine.problem.target import (
    def_line,
    function_target_at,
    replace_target,
    replacement,
    signature,
    splice,
    target_code,
    target_info,
    target_line,
    target_source,
    target_span,
)
from orps_engine.search import ORIGINAL, Node, RefineResult

FIXTURE = Path(__file__).parents[1] / "data" / "problems" / "methods" / "stats.py"
STATS = FIXTURE.read_text(encoding="utf-8")
TARGETS = ["Stats.mean", "Stats.square", "Stats.of", "Stats.size", "Stats.spread", "Stats.Summary.line",
           "fetch_total", "traced"]


def line_of(source: str, text: str, start: int = 1) -> int:
    """The 1-based line of the first line at or after ``start`` that holds ``text``."""
    lines = source.splitlines()
    return next(i for i in range(start, len(lines) + 1) if text in lines[i - 1])


def problem(qualname: str | None, source: str = STATS) -> Problem:
    target = FunctionTarget(qualname) if qualname else WholeFile()
    tests = (Case(id="1", kind=Kind.ASSERT, source="assert Stats([1, 2, 3]).mean() == 2"),)
    return Problem(path=Path("/work/stats.py"), source=source, kind=ProblemKind.MODULE, target=target, tests=tests,
                   module="stats")


def tree(source: str = STATS) -> ast.Module:
    parsed = pysource.parse(source)
    assert parsed is not None
    return parsed


# -- finding a target -------------------------------------------------------------------------------
@pytest.mark.parametrize(("qualname", "def_text"), [
    ("Stats.mean", "def mean(self):"),
    ("Stats.square", "def square(x):"),
    ("Stats.of", "def of(cls, *values):"),
    ("Stats.spread", "def spread(self):"),
    ("Stats.Summary.line", "def line(self, stats):"),
    ("fetch_total", "async def fetch_total(values):"),
])
def test_find_def_resolves_qualified_names_through_classes(qualname: str, def_text: str) -> None:
    node = pysource.find_def(tree(), qualname)
    assert node is not None and node.name == qualname.rpartition(".")[2]
    assert STATS.splitlines()[node.lineno - 1].strip() == def_text


def test_find_def_of_a_property_is_its_getter_not_its_setter() -> None:
    node = pysource.find_def(tree(), "Stats.size")
    assert isinstance(node, ast.FunctionDef)
    assert [ast.unparse(d) for d in node.decorator_list] == ["property"]
    assert node.lineno == line_of(STATS, "def size(self):")


@pytest.mark.parametrize("qualname", ["traced.inner", "Stats.missing", "Missing.mean", "Stats.mean.total",
                                      "Summary.line", "mean", "Stats.values"])
def test_nested_functions_locals_and_missing_names_are_not_targets(qualname: str) -> None:
    assert pysource.find_def(tree(), qualname) is None


def test_the_last_definition_of_a_method_wins_as_at_import() -> None:
    source = "class A:\n    def f(self):\n        return 1\n\n    def f(self):\n        return 2\n"
    node = pysource.find_def(tree(source), "A.f")
    assert node is not None and node.lineno == 5


def test_targets_lists_functions_and_methods_by_qualified_name_in_file_order() -> None:
    assert list(pysource.targets(tree())) == ["traced", "Stats.__init__", "Stats.mean", "Stats.square", "Stats.of",
                                              "Stats.size", "Stats.spread", "Stats.Summary.line", "fetch_total"]


@pytest.mark.parametrize(("text", "start", "expected"), [
    ("total += v", 1, "Stats.mean"),
    ("def mean(self):", 1, "Stats.mean"),
    ("@staticmethod", 1, "Stats.square"),  # a decorator line belongs to its method
    ("return cls(values)", 1, "Stats.of"),
    ("n += 1", 1, "Stats.size"),
    ("@traced", 1, "Stats.spread"),
    ('return f"{stats.size}', 1, "Stats.Summary.line"),
    ("return fn(*args, **kwargs)", 1, "traced"),  # inside a nested function: its enclosing one
    ("await asyncio.sleep(0)", 1, "fetch_total"),
])
def test_function_at_is_the_innermost_method_or_top_level_function(text: str, start: int, expected: str) -> None:
    line = line_of(STATS, text, start)
    assert pysource.function_at(tree(), line) == expected
    assert function_target_at(STATS, line) == FunctionTarget(expected)


@pytest.mark.parametrize("text", ["import asyncio", "SCALE = 1", '"""Numbers and what they add up to."""',
                                  'raise AttributeError("size is read-only")', "class Summary:"])
def test_function_at_outside_any_target_is_none(text: str) -> None:
    assert function_target_at(STATS, line_of(STATS, text)) is None  # the setter is no target of its own


def test_function_at_on_a_def_its_name_does_not_reach_is_none() -> None:
    source = "class A:\n    def f(self):\n        return 1\n\n    def f(self):\n        return 2\n"
    assert function_target_at(source, 3) is None  # refining "A.f" would change the second one
    assert function_target_at(source, 6) == FunctionTarget("A.f")


def test_lines_split_only_where_python_counts_lines() -> None:
    assert pysource.lines("a\fb\nc\r\nd\re") == ["a\fb\n", "c\r\n", "d\r", "e"]


# -- the span, the code shown, the signature ----------------------------------------------------------
@pytest.mark.parametrize("qualname", TARGETS)
def test_the_span_starts_at_the_def_line_and_the_decorators_stay_out(qualname: str) -> None:
    first, last = target_span(STATS, FunctionTarget(qualname))
    node = pysource.find_def(tree(), qualname)
    assert node is not None and (first, last) == (node.lineno, node.end_lineno)
    assert target_line(STATS, FunctionTarget(qualname)) == def_line(problem(qualname)) == first
    assert not target_code(problem(qualname)).lstrip().startswith("@")


def test_a_method_is_shown_at_column_0_without_its_decorators() -> None:
    assert target_code(problem("Stats.spread")) == (
        'def spread(self):\n    """\n    >>> Stats([1, 5, 3]).spread()\n    4\n    """\n'
        "    return max(self.values) - min(self.values)\n")
    assert target_source(STATS, FunctionTarget("Stats.spread")).startswith("    def spread(self):\n")


@pytest.mark.parametrize(("qualname", "expected"), [
    ("Stats.mean", "def mean(self):"),
    ("Stats.square", "def square(x):"),
    ("Stats.of", "def of(cls, *values):"),
    ("Stats.size", "def size(self):"),
    ("fetch_total", "async def fetch_total(values):"),
    ("Stats", None),  # a class has no signature
])
def test_signature_of_methods_and_async_defs(qualname: str, expected: str | None) -> None:
    assert signature(problem(qualname)) == expected


def test_signature_ends_at_the_colon_of_the_header() -> None:
    source = ("class A:\n    async def m(self, x: dict[str, int] = {'a': 1},\n"
              "                f=lambda: 0) -> int: return 1\n")
    assert signature(problem("A.m", source)) == ("async def m(self, x: dict[str, int] = {'a': 1},\n"
                                                 "            f=lambda: 0) -> int:")
    assert signature(problem("f", "def f(x): return x\n")) == "def f(x):"


# -- putting a candidate back -------------------------------------------------------------------------
@pytest.mark.parametrize("qualname", TARGETS)
def test_the_shown_code_puts_the_file_back_byte_for_byte(qualname: str) -> None:
    assert splice(problem(qualname), target_code(problem(qualname))) == STATS


FAST_MEAN = "def mean(self):\n    return sum(self.values) / len(self.values)\n"


def test_replacing_a_method_changes_only_its_lines() -> None:
    spliced = splice(problem("Stats.mean"), FAST_MEAN)
    first, last = target_span(STATS, FunctionTarget("Stats.mean"))
    lines = STATS.splitlines(keepends=True)
    assert spliced == "".join(lines[: first - 1]) + (
        "    def mean(self):\n        return sum(self.values) / len(self.values)\n") + "".join(lines[last:])
    assert ast.parse(spliced)


def test_replacing_a_decorated_method_keeps_its_decorators_and_drops_repeated_ones() -> None:
    for code in ("def spread(self):\n    return 0\n", "@traced\ndef spread(self):\n    return 0\n"):
        spliced = splice(problem("Stats.spread"), code)
        assert "    @traced\n    def spread(self):\n        return 0\n\n    class Summary:\n" in spliced
        assert spliced.count("@traced") == 1
    for qualname, decorator in (("Stats.square", "@staticmethod"), ("Stats.of", "@classmethod"),
                                ("Stats.size", "@property")):
        code = f"{decorator}\n" + target_code(problem(qualname)).replace("\n", "  # new\n", 1)
        spliced = splice(problem(qualname), code)
        assert spliced.count(decorator) == 1 and "  # new\n" in spliced
        assert spliced.replace("  # new\n", "\n", 1) == STATS


def test_a_decorator_the_block_adds_goes_between_the_files_and_the_def() -> None:
    code = "@functools.lru_cache\n@traced\ndef spread(self):\n    return 0\n"
    spliced = splice(problem("Stats.spread"), code)
    assert "    @traced\n    @functools.lru_cache\n    def spread(self):\n        return 0\n" in spliced


def test_a_top_level_function_keeps_its_decorators_and_the_blocks_helpers_go_above_them() -> None:
    source = "import functools\n\n\n@functools.cache\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"
    code = ("import math\n\n\ndef _phi():\n    return (1 + math.sqrt(5)) / 2\n\n\n"
            "def fib(n):\n    return round(_phi() ** n)\n")
    placed = replacement(source, FunctionTarget("fib"), code)
    assert (placed.first, placed.last) == (4, 6)
    spliced = placed.applied_to(source)
    assert spliced == ("import functools\n\n\nimport math\n\n\ndef _phi():\n    return (1 + math.sqrt(5)) / 2\n\n\n"
                       "@functools.cache\ndef fib(n):\n    return round(_phi() ** n)\n")
    undecorated = source.replace("@functools.cache\n", "")
    assert replacement(undecorated, FunctionTarget("fib"), code).first == 4  # only the def's lines, as before
    assert replace_target(undecorated, FunctionTarget("fib"), code) == "import functools\n\n\n" + code


def test_a_method_goes_back_with_tabs_in_a_file_indented_by_tabs() -> None:
    source = STATS.replace("    ", "\t")
    code = ("def mean(self):\n    if not self.values:\n        return 0.0\n"
            "    return sum(self.values) / len(self.values)\n")
    spliced = splice(problem("Stats.mean", source), code)
    assert ("\tdef mean(self):\n\t\tif not self.values:\n\t\t\treturn 0.0\n"
            "\t\treturn sum(self.values) / len(self.values)\n") in spliced
    assert ast.parse(spliced)
    assert splice(problem("Stats.mean", source), target_code(problem("Stats.mean", source))) == source


def test_a_method_goes_back_with_four_spaces_when_the_block_uses_tabs() -> None:
    code = "def mean(self):\n\tif not self.values:\n\t\treturn 0.0\n\treturn 1\n"
    spliced = splice(problem("Stats.mean"), code)
    assert "    def mean(self):\n        if not self.values:\n            return 0.0\n        return 1\n" in spliced


def test_a_block_indented_unevenly_keeps_its_own_indentation_under_the_methods() -> None:
    source = STATS.replace("    ", "\t")
    code = "def mean(self):\n  if self.values:\n     return 1\n  return 0\n"  # 2, then 5: no whole unit
    spliced = splice(problem("Stats.mean", source), code)
    assert "\tdef mean(self):\n\t  if self.values:\n\t     return 1\n\t  return 0\n" in spliced
    assert ast.parse(spliced)


def test_a_method_goes_back_with_the_files_crlf_line_endings() -> None:
    source = STATS.replace("\n", "\r\n")
    spliced = splice(problem("Stats.mean", source), FAST_MEAN)
    assert "\r\n    def mean(self):\r\n        return sum(self.values) / len(self.values)\r\n" in spliced
    assert "\n" not in spliced.replace("\r\n", "")
    assert splice(problem("Stats.mean", source), target_code(problem("Stats.mean", source))) == source
    assert target_code(problem("Stats.mean", source)).startswith("def mean(self):\r\n")


def test_string_literals_keep_their_value_and_docstrings_move_with_the_code() -> None:
    source = 'class A:\n    def text(self):\n        return """x\ny"""\n'
    assert target_code(problem("A.text", source)) == 'def text(self):\n    return """x\ny"""\n'
    code = 'def text(self):\n    """Two lines.\n\n    The second.\n    """\n    return """x\n  y"""\n'
    spliced = splice(problem("A.text", source), code)
    assert spliced == ('class A:\n    def text(self):\n        """Two lines.\n\n        The second.\n        """\n'
                       '        return """x\n  y"""\n')
    namespace: dict[str, object] = {}
    exec(spliced, namespace)
    instance = namespace["A"]()  # type: ignore[operator]
    assert instance.text() == "x\n  y"


def test_replacing_a_method_in_a_nested_class() -> None:
    code = 'def line(self, stats):\n    return "short"\n'
    spliced = splice(problem("Stats.Summary.line"), code)
    assert '        def line(self, stats):\n            return "short"\n' in spliced


def test_replacing_an_async_def() -> None:
    code = "async def fetch_total(values):\n    return sum(values) * SCALE\n"
    spliced = splice(problem("fetch_total"), code)
    assert spliced.endswith("\n\n\nasync def fetch_total(values):\n    return sum(values) * SCALE\n")


# -- the stale check and the edit after edits elsewhere -------------------------------------------------
def _refinement(target: str, code: str) -> Refinement:
    prob = problem(target)
    original = Node(id=ORIGINAL, parent=None, round=-1, code=target_code(prob))
    best = Node(id="r0.k0.s0", parent=ORIGINAL, round=0, code=code)
    result = RefineResult(problem=prob, original=original, best=best, nodes=[original, best], usage=Usage(),
                          rounds_run=1)
    return Refinement(result=result, started_source=target_source(prob.source, prob.target))


def test_edits_elsewhere_in_the_class_leave_a_method_refinement_applicable() -> None:
    refinement = _refinement("Stats.mean", FAST_MEAN)
    edited = (STATS.replace("    def __init__(self, values):\n",
                            "    LIMIT = 10  # a new attribute above\n\n    def __init__(self, values):\n")
              .replace("        return x * x\n", "        # squared\n        return x ** 2\n")
              .replace("    @traced\n", "    @traced\n    @functools.lru_cache\n"))
    assert refinement.stale_reason(edited) is None
    edit = refinement.edit(edited)
    assert (edit.first, edit.last) == target_span(edited, FunctionTarget("Stats.mean"))
    assert edit.text == "    def mean(self):\n        return sum(self.values) / len(self.values)\n"
    applied = refinement.applied_to(edited)
    assert applied == splice(problem("Stats.mean", edited), FAST_MEAN)
    assert "LIMIT = 10" in applied and "return x ** 2" in applied and "@functools.lru_cache" in applied


def test_a_method_refinement_is_stale_once_the_method_changed_or_went() -> None:
    refinement = _refinement("Stats.mean", FAST_MEAN)
    assert refinement.stale_reason(STATS.replace("total += v", "total = total + v")) == (
        "Stats.mean changed since the refine began; refine it again")
    gone = STATS.replace("    def mean(self):", "    def average(self):")
    assert refinement.stale_reason(gone) == "Stats.mean is no longer in the file"


def test_changing_a_methods_decorators_does_not_make_it_stale_and_they_stay() -> None:
    refinement = _refinement("Stats.spread", "def spread(self):\n    return 0\n")
    edited = STATS.replace("    @traced\n", "    @traced  # noted\n")
    assert refinement.stale_reason(edited) is None
    assert "    @traced  # noted\n    def spread(self):\n        return 0\n" in refinement.applied_to(edited)


# -- which replies can replace the target ----------------------------------------------------------------
def reply(code: str) -> str:
    return f"Reasoning.\n```python\n{code}```\n"


def test_a_method_reply_at_column_0_is_accepted() -> None:
    parsed = parse_programmer(reply(FAST_MEAN), FunctionTarget("Stats.mean"), STATS)
    assert parsed.problem is None and parsed.code == FAST_MEAN


def test_a_method_reply_copied_with_its_indentation_is_dedented() -> None:
    parsed = parse_programmer(reply("    def mean(self):\n        return 1.0\n"), FunctionTarget("Stats.mean"), STATS)
    assert parsed.problem is None and parsed.code == "def mean(self):\n    return 1.0\n"


@pytest.mark.parametrize(("qualname", "code", "problem_text"), [
    ("fetch_total", "def fetch_total(values):\n    return sum(values)\n",
     "the code defines fetch_total as a plain def (not async), but it is an async def: keep it an async def"),
    ("Stats.mean", "async def mean(self):\n    return 1\n",
     "the code defines mean as an async def, but it is a plain def (not async): keep it a plain def (not async)"),
    ("Stats.mean", "def average(self):\n    return 1\n", "the code does not define mean"),
    ("fetch_total", "fetch_total = None\n",
     "the code assigns fetch_total instead of defining it: keep it an async def"),
    ("Stats.mean", "class Stats:\n    def mean(self):\n        return 1\n",
     "give only the method mean at column 0, without its class Stats around it"),
])
def test_replies_that_do_not_define_the_target_as_the_original_does_are_refused(
        qualname: str, code: str, problem_text: str) -> None:
    assert parse_programmer(reply(code), FunctionTarget(qualname), STATS).problem == problem_text


@pytest.mark.parametrize("extra", ["def _helper(x):\n    return x\n", "import math\n", "CACHE = {}\n"])
def test_a_method_reply_with_more_than_the_method_is_refused(extra: str) -> None:
    for code in (extra + "\n" + FAST_MEAN, FAST_MEAN + "\n" + extra):
        parsed = parse_programmer(reply(code), FunctionTarget("Stats.mean"), STATS)
        assert parsed.problem == ("for a method target the block must hold only the method: put helpers and "
                                  "imports inside the method")


@pytest.mark.parametrize(("extra", "names"), [
    ("class Stats:\n    pass\n", "Stats"),
    ("SCALE = 10\n", "SCALE"),
    ("def traced(fn):\n    return fn\n", "traced"),
    ("from math import fsum as SCALE\n", "SCALE"),
    ("SCALE, traced = 1, None\n", "SCALE, traced"),
])
def test_a_reply_that_redefines_other_names_of_the_file_is_refused(extra: str, names: str) -> None:
    code = extra + "\n\nasync def fetch_total(values):\n    return sum(values)\n"
    parsed = parse_programmer(reply(code), FunctionTarget("fetch_total"), STATS)
    assert parsed.problem is not None
    assert parsed.problem.startswith(f"the code redefines {names}, which the rest of the file defines: leave")


def test_a_reply_may_import_again_and_add_helpers_of_its_own() -> None:
    code = ("import asyncio\nimport math\n\n\ndef _fsum(values):\n    return math.fsum(values)\n\n\n"
            "async def fetch_total(values):\n    await asyncio.sleep(0)\n    return _fsum(values) * SCALE\n")
    assert parse_programmer(reply(code), FunctionTarget("fetch_total"), STATS).problem is None


def test_a_whole_file_reply_may_define_anything() -> None:
    assert parse_programmer(reply("class Stats:\n    pass\nSCALE = 2\n"), WholeFile(), STATS).problem is None


# -- what the prompt says -------------------------------------------------------------------------------
def test_the_prompt_names_a_method_its_class_and_what_the_block_holds() -> None:
    text = task_text(problem("Stats.mean"), 24_000)
    assert ("## Target: the method `Stats.mean` (a method of class `Stats`; keep its signature and decorators):\n"
            "    def mean(self):\n") in text
    assert ("Return only the method, as `def mean` at column 0: no class around it, no decorators, and nothing "
            "else in the block (put any helpers and imports inside the method).") in text
    assert "## Current code\n```python\ndef mean(self):\n    total = 0\n" in text


@pytest.mark.parametrize(("qualname", "kind", "decorators"), [
    ("Stats.square", "a static method", "@staticmethod"),
    ("Stats.of", "a class method", "@classmethod"),
    ("Stats.size", "a property getter", "@property"),
    ("Stats.spread", "a method", "@traced"),
])
def test_the_prompt_says_what_kind_of_method_and_which_decorators_stay(qualname: str, kind: str,
                                                                      decorators: str) -> None:
    text = task_text(problem(qualname), 24_000)
    assert f"({kind} of class `Stats`; keep its signature and decorators)" in text
    assert f"Its decorators stay in the file, above it (do not repeat them): {decorators}\n" in text
    assert "```python\n@" not in text  # the code shown has no decorators


def test_the_prompt_says_an_async_def_stays_async() -> None:
    text = task_text(problem("fetch_total"), 24_000)
    assert "## Target: the function `fetch_total` (an `async def`); keep its signature:\n" in text
    assert "    async def fetch_total(values):\nIt is awaited by the tests: keep it an `async def`.\n" in text
    assert "The rest of the file stays as it is: do not redefine its other names." in text
    decorated = task_text(problem("fib", "import functools\n\n\n@functools.cache\ndef fib(n):\n    return n\n"), 24_000)
    assert "Its decorators stay in the file, above it (do not repeat them): @functools.cache\n" in decorated


def test_a_methods_info_and_the_full_prompt() -> None:
    info = target_info(problem("Stats.Summary.line"))
    assert info is not None and (info.owner, info.kind, info.is_async) == ("Stats.Summary", "method", False)
    source = "class Client:\n    @staticmethod\n    async def get(url):\n        return url\n"
    text = task_text(problem("Client.get", source), 24_000)
    assert ("the method `Client.get` (an `async def`, a static method of class `Client`; keep its signature and "
            "decorators):\n    async def get(url):\nIt is awaited by the tests: keep it an `async def`.\n") in text
    assert "as `async def get` at column 0" in text
    messages = programmer_messages(problem("Stats.mean"), [], "Be fast.", 24_000)
    assert "the method `Stats.mean`" in messages[-1]["content"]
