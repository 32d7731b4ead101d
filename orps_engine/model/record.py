"""Record and replay of model exchanges, as JSONL: one header line, then one line per call.

A recording keeps each call's key, the messages, the temperature and ``max_tokens``, and how the
call ended: its reply (text, finish reason, token counts), or its failure (the error's kind and
message, and the text that had streamed in), or that the search cancelled it. Failed calls are
recorded because the search reacts to them (a prompt rebuilt after a context error, a candidate
failed): a recording without them cannot be replayed. Lines without a key record what the client
learnt of the model, e.g. ``{"context_window": 1024, "source": "error"}``. Never headers or keys.

Format ``orps-recording/2``::

    {"format": "orps-recording/2", ...the caller's header...}
    {"key": "r0/k0/s0/programmer#0", "temperature": 0.7, "max_tokens": 900, "messages": [...],
     "reply": "...", "finish": "done", "usage": {"prompt_tokens": 812, "completion_tokens": null,
     "estimated": [0, 240]}, "attempts": 1, "seconds": 9.81}
    {"key": "r0/k0/s1/critic#0", ..., "error": {"kind": "context", "message": "...", "retryable": false,
     "context_window": 1024}, "partial": "", "attempts": 1, "seconds": 0.02}
    {"key": "r0/k0/s2/programmer#0", ..., "cancelled": true, "partial": "...", "seconds": 3.2}
    {"context_window": 1024, "source": "error"}

Version 1 files (``examples/*/*.replay.jsonl``) are still read: each line a ``key`` and its
``reply``, which counts as a reply that ended by itself.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..errors import InputError
from .interface import FinishReason, Message, ModelError, ModelErrorKind, Reply

FORMAT = "orps-recording/2"
FORMAT_V1 = "orps-recording/1"
FORMATS = (FORMAT_V1, FORMAT)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedError:
    """A call's failure as recorded: enough to raise the same ``ModelError`` again."""

    kind: ModelErrorKind
    message: str
    retryable: bool
    context_window: int | None = None
    hint: str | None = None

    @classmethod
    def of(cls, error: ModelError) -> RecordedError:
        return cls(kind=error.kind, message=error.message, retryable=error.retryable,
                   context_window=error.context_window, hint=error.hint)

    def error(self, *, partial: str = "", attempts: int = 1) -> ModelError:
        return ModelError(self.message, kind=self.kind, retryable=self.retryable, context_window=self.context_window,
                          partial=partial, attempts=attempts, hint=self.hint)


@dataclass(frozen=True, slots=True, kw_only=True)
class Exchange:
    """One call and how it ended: exactly one of ``reply``, ``error``, ``cancelled``."""

    key: str
    messages: list[Message] = field(default_factory=list)
    temperature: float | None = None
    max_tokens: int | None = None
    reply: Reply | None = None
    error: RecordedError | None = None
    cancelled: bool = False
    partial: str = ""  # the text streamed in before the failure or the cancellation
    estimate: tuple[int, int] = (0, 0)  # (prompt, completion) tokens estimated where the server gave no count
    attempts: int = 1
    seconds: float | None = None

    def to_json(self) -> dict[str, Any]:
        line: dict[str, Any] = {"key": self.key, "temperature": self.temperature, "max_tokens": self.max_tokens,
                                "messages": self.messages}
        if self.reply is not None:
            line["reply"] = self.reply.text
            line["finish"] = self.reply.finish.value
            line["usage"] = {"prompt_tokens": self.reply.prompt_tokens,
                             "completion_tokens": self.reply.completion_tokens, "estimated": list(self.estimate)}
        elif self.error is not None:
            line["error"] = {"kind": self.error.kind.value, "message": self.error.message,
                             "retryable": self.error.retryable, "context_window": self.error.context_window}
            if self.error.hint:
                line["error"]["hint"] = self.error.hint
            line["partial"] = self.partial
        else:
            line["cancelled"] = True
            line["partial"] = self.partial
        line["attempts"] = self.attempts
        if self.seconds is not None:
            line["seconds"] = round(self.seconds, 3)
        return line


class Recorder:
    """Appends exchanges as they end (so an interrupted refine still leaves a record)."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            self._fh: IO[str] = path.open("w", encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write the recording: {exc.strerror}", path=path) from None
        self._line({"format": FORMAT, **header})

    def write(self, exchange: Exchange) -> None:
        self._line(exchange.to_json())

    def write_context_window(self, tokens: int, source: str) -> None:
        """The client learnt the model's context window (``source``: "server" or "error")."""
        self._line({"context_window": tokens, "source": source})

    def _line(self, obj: dict[str, Any]) -> None:
        with self._lock:
            if self._fh.closed:
                return  # a call that ends after the refine closed its recorder (a cancelled straggler)
            self._fh.write(json.dumps(obj, ensure_ascii=False) + "\n")
            self._fh.flush()

    def close(self) -> None:
        with self._lock:
            self._fh.close()


@dataclass
class Recording:
    header: dict[str, Any]
    exchanges: dict[str, Exchange] = field(default_factory=dict)
    context_window: int | None = None  # the first window the recorded client learnt

    @property
    def format(self) -> str:
        return str(self.header.get("format"))

    @classmethod
    def load(cls, path: Path) -> Recording:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise InputError(f"cannot read the recording: {exc.strerror}", path=path) from None
        entries = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError as exc:
                raise InputError(f"not a JSON line: {exc}", path=path, line=number) from None
            if not isinstance(entry, dict):
                raise InputError("expected a JSON object", path=path, line=number)
            entries.append((number, entry))
        if not entries or entries[0][1].get("format") not in FORMATS:
            raise InputError(f"not an orps recording (the first line must have \"format\": \"{FORMAT}\")",
                             path=path, line=1)
        recording = cls(header=entries[0][1])
        v1 = recording.format == FORMAT_V1
        for number, entry in entries[1:]:
            if not v1 and "key" not in entry and "context_window" in entry:
                tokens = entry["context_window"]
                if not isinstance(tokens, int) or isinstance(tokens, bool) or tokens < 1:
                    raise InputError("\"context_window\" must be a positive integer", path=path, line=number)
                if recording.context_window is None:
                    recording.context_window = tokens
                continue
            try:
                exchange = _exchange_v1(entry) if v1 else _exchange(entry)
            except (TypeError, ValueError) as exc:
                raise InputError(str(exc), path=path, line=number) from None
            recording.exchanges[exchange.key] = exchange
        return recording


def _exchange_v1(entry: dict[str, Any]) -> Exchange:
    if not isinstance(entry.get("key"), str) or not isinstance(entry.get("reply"), str):
        raise ValueError("an exchange needs a string \"key\" and \"reply\"")
    usage = entry.get("usage") or {}
    reply = Reply(text=entry["reply"], finish=FinishReason.STOP, prompt_tokens=_count(usage, "prompt_tokens"),
                  completion_tokens=_count(usage, "completion_tokens"))
    return Exchange(key=entry["key"], messages=_messages(entry), temperature=_number(entry, "temperature"),
                    reply=reply)


def _exchange(entry: dict[str, Any]) -> Exchange:
    key = entry.get("key")
    outcomes = [name for name in ("reply", "error", "cancelled") if name in entry]
    if not isinstance(key, str) or len(outcomes) != 1:
        raise ValueError("an exchange needs a string \"key\" and one of a string \"reply\", an \"error\" or "
                         "\"cancelled\"")
    partial = entry.get("partial", "")
    attempts = entry.get("attempts", 1)
    if not isinstance(partial, str) or not isinstance(attempts, int) or attempts < 1:
        raise ValueError("\"partial\" must be a string and \"attempts\" a positive integer")
    common: dict[str, Any] = {"key": key, "messages": _messages(entry), "temperature": _number(entry, "temperature"),
                              "max_tokens": _count(entry, "max_tokens"), "partial": partial, "attempts": attempts,
                              "seconds": _number(entry, "seconds")}
    if "reply" in entry:
        if not isinstance(entry["reply"], str):
            raise ValueError("an exchange needs a string \"key\" and \"reply\"")
        usage = entry.get("usage") or {}
        if not isinstance(usage, dict):
            raise ValueError("\"usage\" must be an object")
        estimated = usage.get("estimated", [0, 0])
        if not (isinstance(estimated, list) and len(estimated) == 2 and all(isinstance(n, int) for n in estimated)):
            raise ValueError("\"usage\".\"estimated\" must be two integers")
        reply = Reply(text=entry["reply"], finish=FinishReason(entry.get("finish", "stop")),
                      prompt_tokens=_count(usage, "prompt_tokens"),
                      completion_tokens=_count(usage, "completion_tokens"))
        return Exchange(reply=reply, estimate=(estimated[0], estimated[1]), **common)
    if "error" in entry:
        error = entry["error"]
        if not isinstance(error, dict) or not isinstance(error.get("message"), str):
            raise ValueError("an \"error\" needs a \"kind\" and a string \"message\"")
        hint = error.get("hint")
        recorded = RecordedError(kind=ModelErrorKind(error.get("kind")), message=error["message"],
                                 retryable=bool(error.get("retryable", False)),
                                 context_window=_count(error, "context_window"),
                                 hint=hint if isinstance(hint, str) else None)
        return Exchange(error=recorded, **common)
    if entry["cancelled"] is not True:
        raise ValueError("\"cancelled\" must be true")
    return Exchange(cancelled=True, **common)


def _messages(entry: dict[str, Any]) -> list[Message]:
    messages = entry.get("messages", [])
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise ValueError("\"messages\" must be a list of objects")
    return [{str(k): str(v) for k, v in m.items()} for m in messages]


def _count(obj: dict[str, Any], name: str) -> int | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"\"{name}\" must be a non-negative integer or null")
    return value


def _number(obj: dict[str, Any], name: str) -> float | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ValueError(f"\"{name}\" must be a number or null")
    return float(value)
