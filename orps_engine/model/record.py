"""Record and replay of model exchanges, as JSONL: one header line, then one line per exchange.

A recording keeps the call's key, the messages, the temperature, the reply and token counts;
never headers or keys. A replay answers from it with no network: a key the recording lacks is
an error that says so, rather than a silent difference.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..errors import InputError

FORMAT = "orps-recording/1"


class Recorder:
    """Appends exchanges as they complete (so an interrupted refine still leaves a record)."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            self._fh: IO[str] = path.open("w", encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write the recording: {exc.strerror}", path=path) from None
        self._line({"format": FORMAT, **header})

    def write(self, key: str, messages: list[dict[str, str]], temperature: float, reply: str,
              prompt_tokens: int, completion_tokens: int) -> None:
        self._line({"key": key, "temperature": temperature, "messages": messages, "reply": reply,
                    "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}})

    def _line(self, obj: dict[str, Any]) -> None:
        with self._lock:
            self._fh.write(json.dumps(obj, ensure_ascii=False) + "\n")
            self._fh.flush()

    def close(self) -> None:
        self._fh.close()


@dataclass
class Recording:
    header: dict[str, Any]
    replies: dict[str, dict[str, Any]] = field(default_factory=dict)

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
        if not entries or entries[0][1].get("format") != FORMAT:
            raise InputError(f"not an orps recording (the first line must have \"format\": \"{FORMAT}\")",
                             path=path, line=1)
        recording = cls(header=entries[0][1])
        for number, entry in entries[1:]:
            if not isinstance(entry.get("key"), str) or not isinstance(entry.get("reply"), str):
                raise InputError("an exchange needs a string \"key\" and \"reply\"", path=path, line=number)
            recording.replies[entry["key"]] = entry
        return recording
