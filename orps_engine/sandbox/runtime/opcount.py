"""Counting the bytecode instructions a run executes: a cost that is the same on every run of the
same code on the same input, where the machine has no hardware counter (``confine.open_counter``).

How: on Python 3.12+ a ``sys.monitoring`` tool with the INSTRUCTION event (every thread of the
interpreter); before that, a trace function with opcode events (``frame.f_trace_opcodes``) in
every thread the run starts. Code of this runtime (the RPC broker, the codec, the payload) is
not counted, so what is counted is the user's code and the library code it runs (its imports
included, and the few standard-library calls the broker makes per message: a fixed cost per test,
the same for any two candidates that behave alike); work done in C (``sorted``, numpy) costs the few
instructions that call it. Threads are counted, and exactly up to their synchronisation's own few
instructions (waiting on a lock can loop a different number of times).

Tracing is slow (each instruction calls back into Python), so a counted run is always a run of
its own, next to the measured one (``JobCommon.bytecode_token``): its CPU time and memory are
never the figures anyone reads. The count goes to the warden on ``COUNT_FD`` with the job's token,
which is taken out of the job before the code runs: a count the code writes there itself lacks it.

The count is made inside the untrusted run, so it is only as honest as the run lets it be. What
is made hard: the code's own ``sys.settrace``, ``sys.setprofile``, ``threading.settrace`` (and
``setprofile``, and their all-threads forms) do nothing while counting, since their callbacks run
unseen by the counter; on 3.12+ ``sys.monitoring`` refuses the counter's tool id; threads started
with ``_thread`` are counted too. What is detected, and makes the tally not ``intact``: a traced
frame that returns with its opcode events turned off, a frame whose trace function was removed or
replaced (its return never reaches the counter), the counter's trace function or monitoring tool
gone at the end; and a count the code writes on ``COUNT_FD`` itself has no token. What remains
possible (``ctypes``, reaching the counter's objects or the token through ``gc`` and frames,
turning opcode events off and on again around work, calling this runtime's own functions to do
work) is left to the parent, which never lets a count win against the run's CPU time
(``orps_engine.measure``). Not counted at all: the checker's process (the test's own callables the
code calls back, whose CPU is billed to it), and child processes (a counted run allows none).

Standard library only, and no imports of the rest of orps: this module runs inside the sandbox.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import types
from collections.abc import Callable
from typing import Any, NamedTuple

from .protocol import MAX_BYTECODES, Job, OpCount

TOOL_NAME = "orps-count"
# The tool ids sys.monitoring leaves unassigned (0, 1, 2 and 5 are the debugger's, coverage's,
# the profiler's and the optimizer's by convention): the counter takes the first one free.
_FREE_TOOL_IDS = (3, 4)


class Tally(NamedTuple):
    """What the counter saw. (A NamedTuple, not a dataclass: importing dataclasses would add
    milliseconds to every zygote's start.)"""

    bytecodes: int
    intact: bool  # no sign that the run interfered with the counter


def counting(job: Job, report_fd: int) -> _Counting:
    """Count the bytecodes of what runs inside the ``with`` block where ``job`` asks for it (its
    ``bytecode_token``, removed from it here), and report them on ``report_fd`` at its end (one
    ``protocol.OpCount``, with the token). Otherwise nothing is counted or reported."""
    token = job.pop("bytecode_token", None)
    return _Counting(token, report_fd)


class _Counting:
    def __init__(self, token: str | None, report_fd: int) -> None:
        self._counter: _Counter | None = _new_counter() if token is not None else None
        self._token = token or ""
        self._fd = report_fd

    def __enter__(self) -> None:
        if self._counter is not None:
            self._counter.start()

    def __exit__(self, *exc: object) -> None:
        if self._counter is None:
            return
        tally = self._counter.stop()
        message: OpCount = {"bytecodes": min(tally.bytecodes, MAX_BYTECODES), "intact": tally.intact,
                            "token": self._token}
        try:
            os.write(self._fd, json.dumps(message).encode())
        except OSError:  # the run closed it: the warden then has no count
            pass


class _Counter:
    """Counts from ``start`` to ``stop``, in this process (all its threads)."""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> Tally:
        raise NotImplementedError


def _new_counter() -> _Counter:
    if sys.version_info >= (3, 12):
        return _MonitoringCounter()
    return _TraceCounter()


# -- what is not counted: this runtime's own code -------------------------------------------------
def runtime_code_ids() -> frozenset[int]:
    """The ids of every code object of this runtime's functions (those whose globals are one of
    its modules', with their nested functions, lambdas and comprehensions), found from its modules
    before the run's code runs (not through ``gc``: the zygote froze them out of its sight).
    Identity, not file names: code the run compiles under the runtime's file name is counted."""
    package = __name__.rpartition(".")[0]
    modules = [module for name, module in list(sys.modules.items())
               if module is not None and (name == package or name.startswith(package + "."))]
    walk = _Walk({id(vars(module)) for module in modules}, package)
    for module in modules:
        walk.value(vars(module))
    _KEPT.extend(walk.found.values())  # alive as long as the process, so no other code gets their ids
    return frozenset(walk.found)


_KEPT: list[types.CodeType] = []


class _Walk:
    """Through a module's namespace: its functions, its classes' members, the containers that
    hold them (a dispatch table of lambdas); only functions of the runtime's own modules count."""

    def __init__(self, namespaces: set[int], package: str) -> None:
        self.namespaces, self.package = namespaces, package
        self.found: dict[int, types.CodeType] = {}
        self.seen: set[int] = set()

    def value(self, value: Any) -> None:
        if id(value) in self.seen:
            return
        self.seen.add(id(value))
        if isinstance(value, (staticmethod, classmethod)):
            self.value(value.__func__)
        elif isinstance(value, property):
            for accessor in (value.fget, value.fset, value.fdel):
                self.value(accessor)
        elif isinstance(value, types.FunctionType):
            if id(value.__globals__) in self.namespaces:
                _add_code(value.__code__, self.found)
        elif isinstance(value, type):
            if str(getattr(value, "__module__", "")).startswith(self.package):
                for member in list(vars(value).values()):
                    self.value(member)
        elif isinstance(value, dict):
            for item in list(value.values()):
                self.value(item)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for item in list(value):
                self.value(item)


def _add_code(code: types.CodeType, found: dict[int, types.CodeType]) -> None:
    if id(code) in found:
        return
    found[id(code)] = code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _add_code(const, found)


# -- guards: the code's own hooks that would hide work from the counter -------------------------------
def _ignore(*args: object, **kwargs: object) -> None:
    """Installed in place of ``sys.settrace`` and its kin while counting: a trace or profile
    function runs with tracing off, so work done inside one would never be counted."""


_HOOK_SETTERS = {"sys": ("settrace", "setprofile", "_settraceallthreads", "_setprofileallthreads"),
                 "threading": ("settrace", "setprofile", "settrace_all_threads", "setprofile_all_threads")}


def _install_guards() -> None:
    for module_name, names in _HOOK_SETTERS.items():
        module = sys.modules.get(module_name)
        for name in names:
            if module is not None and hasattr(module, name):
                setattr(module, name, _ignore)


# -- 3.11 and before: opcode tracing ----------------------------------------------------------------
class _TraceCounter(_Counter):
    """A trace function per thread; opcode events only (no line events). Every call event is
    matched by a return event (an exception leaving a frame, and a generator's yield, are return
    events too), so a frame whose trace function was taken away shows as an unmatched call."""

    def __init__(self) -> None:
        self._skip = runtime_code_ids()
        self._ops = itertools.count()
        self._threads: list[_ThreadTrace] = []
        self._tampered: list[str] = []
        self._settrace: Callable[[Any], None] = sys.settrace
        self._gettrace: Callable[[], Any] = sys.gettrace
        self._main: _ThreadTrace | None = None

    def start(self) -> None:
        self._main = self._thread_trace()
        _install_guards()
        self._wrap_thread_start()
        self._settrace(self._main.on_call)

    def stop(self) -> Tally:
        main = self._main
        assert main is not None
        installed = self._gettrace()
        self._settrace(None)
        if installed is not main.on_call:
            self._tampered.append("trace function replaced")
        for trace in self._threads:
            if (trace is main or trace.finished) and not trace.balanced():
                self._tampered.append("a frame's trace function removed")
        return Tally(bytecodes=_value(self._ops), intact=not self._tampered)

    def _thread_trace(self) -> _ThreadTrace:
        trace = _ThreadTrace(self._skip, self._ops, self._tampered)
        self._threads.append(trace)
        return trace

    def _wrap_thread_start(self) -> None:
        """Threads get the trace function too: ``threading`` starts them through
        ``_thread.start_new_thread``, and so may the code."""
        import _thread

        original = _thread.start_new_thread
        settrace = self._settrace

        def start_new_thread(function: Callable[..., Any], args: tuple[Any, ...],
                             kwargs: dict[str, Any] | None = None) -> int:
            trace = self._thread_trace()

            def traced(*a: Any, **kw: Any) -> Any:
                settrace(trace.on_call)
                try:
                    return function(*a, **kw)
                finally:
                    settrace(None)
                    trace.finished = True

            return original(traced, args, kwargs or {})

        _thread.start_new_thread = start_new_thread
        threading = sys.modules.get("threading")
        if threading is not None and hasattr(threading, "_start_new_thread"):
            threading._start_new_thread = start_new_thread  # type: ignore[attr-defined]


class _ThreadTrace:
    """One thread's trace functions and its call/return balance."""

    def __init__(self, skip: frozenset[int], ops: itertools.count[int], tampered: list[str]) -> None:
        self.calls = itertools.count()
        self.returns = itertools.count()
        self.finished = False
        calls, returns, tally = self.calls, self.returns, ops

        def on_opcode(frame: types.FrameType, event: str, arg: object) -> Any:
            next(tally)
            if event == "return":
                next(returns)
                if not frame.f_trace_opcodes:
                    tampered.append("opcode events turned off")
            return on_opcode

        def on_call(frame: types.FrameType, event: str, arg: object) -> Any:
            if id(frame.f_code) in skip:
                return None
            frame.f_trace_lines = False
            frame.f_trace_opcodes = True
            next(calls)
            return on_opcode

        self.on_call = on_call

    def balanced(self) -> bool:
        return _value(self.calls) == _value(self.returns)


def _value(counter: itertools.count[int]) -> int:
    """How far a counter got, without moving it (``count(N)``'s repr holds N)."""
    return int(repr(counter)[6:-1])


# -- 3.12 and later: sys.monitoring ----------------------------------------------------------------------
class _MonitoringCounter(_Counter):
    """A monitoring tool with the INSTRUCTION event, for every thread at once. This runtime's own
    code gets ``DISABLE`` at its first instruction of each place, and costs nothing after that."""

    def __init__(self) -> None:
        self._skip = runtime_code_ids()
        self._ops = itertools.count()
        self._mon: Any = getattr(sys, "monitoring")  # noqa: B009 (3.12+: mypy checks for 3.11)
        self._real = {name: getattr(self._mon, name) for name in ("get_tool", "get_events", "register_callback",
                                                                   "set_events", "free_tool_id")}
        self._tool: int | None = None

    def start(self) -> None:
        mon, skip, tally, disable = self._mon, self._skip, self._ops, self._mon.DISABLE

        def on_instruction(code: types.CodeType, offset: int) -> Any:
            if id(code) in skip:
                return disable
            next(tally)
            return None

        self._callback = on_instruction
        for tool in _FREE_TOOL_IDS:
            try:
                mon.use_tool_id(tool, TOOL_NAME)
            except ValueError:
                continue
            self._tool = tool
            break
        if self._tool is None:
            return
        _install_guards()
        self._guard_tool(self._tool)
        self._real["register_callback"](self._tool, mon.events.INSTRUCTION, on_instruction)
        self._real["set_events"](self._tool, mon.events.INSTRUCTION)

    def stop(self) -> Tally:
        tool = self._tool
        if tool is None:
            return Tally(bytecodes=_value(self._ops), intact=False)
        instruction = self._mon.events.INSTRUCTION
        intact = (self._real["get_tool"](tool) == TOOL_NAME and self._real["get_events"](tool) == instruction
                  and self._real["register_callback"](tool, instruction, None) is self._callback)
        self._real["set_events"](tool, 0)
        self._real["free_tool_id"](tool)
        return Tally(bytecodes=_value(self._ops), intact=intact)

    def _guard_tool(self, tool: int) -> None:
        """Every ``sys.monitoring`` call that could change the counter's tool is refused for it."""
        mon = self._mon
        for name in ("set_events", "set_local_events", "register_callback", "free_tool_id", "clear_tool_id",
                     "use_tool_id"):
            real = getattr(mon, name, None)
            if real is not None:
                setattr(mon, name, _refusing(real, tool))


def _refusing(real: Callable[..., Any], tool: int) -> Callable[..., Any]:
    def guarded(tool_id: int, *args: Any) -> Any:
        if tool_id == tool:
            raise ValueError(f"tool {tool} is in use by orps's bytecode counter")
        return real(tool_id, *args)

    return guarded
