"""The parent's records of what the sandbox did: raw runs and checker reports, typed and bounded.

They are built from ``runtime.protocol`` messages once a reader there has checked their shape,
and every text that came out of the sandbox is cut to a bound on the way in, so nothing a
sandboxed process sends can make a record arbitrarily large. Only ``judge`` turns these records
into verdicts; nothing here decides one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ..text import clip
from .runtime import protocol

MAX_TEXT = 1 << 20  # a message, an actual or expected value (the checker cuts its own far shorter)
MAX_TYPE_NAME = 200
MAX_TRACE = 8000  # a traceback's last characters
MAX_NOTES, MAX_NOTE = 32, 1000


class Outcome(Enum):
    """What a function test came to, as the checker saw it (see ``runtime.checker``)."""

    PASS = "pass"
    FAIL = "fail"
    SOLUTION_ERROR = "solution_error"  # the solution raised and the test did not expect it
    SOLUTION_EXIT = "solution_exit"  # the solution's process ended (or broke the protocol) first
    TEST_ERROR = "test_error"  # the test broke before the solution was involved


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteError:
    """An exception raised inside the sandbox, as the process it was raised in described it."""

    type: str
    message: str = ""
    line: int | None = None  # in the user's file
    trace: str = ""

    @classmethod
    def from_crash(cls, info: protocol.CrashInfo) -> RemoteError:
        return cls(type=_cut(info["type"], MAX_TYPE_NAME), message=_cut(info["message"]), line=info["line"])

    @classmethod
    def from_error(cls, info: protocol.ErrorInfo) -> RemoteError:
        return cls(type=_cut(info["type"], MAX_TYPE_NAME), message=_cut(info["message"]), line=info["line"],
                   trace=info["trace"][-MAX_TRACE:])


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckerReport:
    """The checker's account of one function test."""

    outcome: Outcome
    actual: str | None = None
    expected: str | None = None
    message: str | None = None
    line: int | None = None  # where the test failed, in the tests' file
    error: RemoteError | None = None  # what the solution raised (``SOLUTION_ERROR``)
    solution_ms: float  # time the test spent waiting on the solution
    calls: int  # calls the test made into the solution
    callback_cpu_ms: float = 0.0  # the checker's CPU running the tests' callables for the solution
    behaviour: tuple[protocol.CallRecord, ...] | None = None  # each call, when asked for
    behaviour_truncated: bool = False

    @classmethod
    def from_message(cls, msg: protocol.CheckerReport) -> CheckerReport:
        error = msg.get("error")
        return cls(outcome=Outcome(msg["outcome"]), actual=_cut_opt(msg.get("actual")),
                   expected=_cut_opt(msg.get("expected")), message=_cut_opt(msg.get("message")),
                   line=msg.get("line"), error=RemoteError.from_error(error) if error is not None else None,
                   solution_ms=float(msg["solution_ms"]), calls=msg["calls"],
                   callback_cpu_ms=max(0.0, float(msg["callback_cpu_ms"])),
                   behaviour=tuple(msg["behaviour"]) if "behaviour" in msg else None,
                   behaviour_truncated=bool(msg.get("behaviour_truncated", False)))


def parse_report(message: object) -> CheckerReport:
    """The checker's report from its raw message; ``protocol.BadMessage`` if it is not one."""
    return CheckerReport.from_message(protocol.read_report(message))


@dataclass(frozen=True, slots=True, kw_only=True)
class RawRun:
    """What the warden saw of one payload. Never leaves the sandbox/judge pair."""

    exit_code: int | None = None
    signal: int | None = None
    timed_out: bool = False
    output_exceeded: bool = False
    wall_ms: float | None = None
    cpu_ms: float | None = None
    peak_kb: int | None = None
    instructions: int | None = None
    bytecodes: int | None = None  # a counted run's (``Sandbox.run_program``'s ``count_bytecodes``)
    stdout: str = ""
    stderr: str = ""
    crash: RemoteError | None = None  # a program's uncaught exception
    harness_error: str | None = None
    notes: tuple[str, ...] = ()

    @classmethod
    def from_message(cls, msg: protocol.RunResult | protocol.RunFailed) -> RawRun:
        notes = tuple(_cut(note, MAX_NOTE) for note in msg["notes"][:MAX_NOTES])
        if msg["op"] == "failed":
            return cls(harness_error=_cut(msg["harness_error"]), notes=notes)
        crash = msg["crash"]
        return cls(exit_code=msg["exit_code"], signal=msg["signal"], timed_out=msg["timed_out"],
                   output_exceeded=msg["output_exceeded"], wall_ms=float(msg["wall_ms"]),
                   cpu_ms=float(msg["cpu_ms"]), peak_kb=msg["peak_kb"], instructions=msg["instructions"],
                   bytecodes=msg.get("bytecodes"), stdout=msg["stdout"], stderr=msg["stderr"],
                   crash=RemoteError.from_crash(crash) if crash is not None else None, notes=notes)


@dataclass(frozen=True, slots=True, kw_only=True)
class FunctionRun:
    """A function test: the checker's report and both processes' runs.

    ``report`` is None when the checker gave none; ``report_error`` then says what it sent
    instead, if it sent anything."""

    report: CheckerReport | None
    report_error: str | None = None
    solution: RawRun
    checker: RawRun


def _cut(text: str, limit: int = MAX_TEXT) -> str:
    return clip(text, limit)


def _cut_opt(text: str | None) -> str | None:
    return None if text is None else _cut(text)
