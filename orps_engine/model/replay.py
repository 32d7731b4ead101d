"""A model that answers from a recording, with no network."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from .client import Message, Usage
from .record import Recording


class ReplayMissing(InputError):
    """The search asked for a reply the recording does not have."""


@dataclass
class ReplayChatModel:
    path: Path
    recording: Recording | None = None
    usage: Usage = field(default_factory=Usage)

    def __post_init__(self) -> None:
        if self.recording is None:
            self.recording = Recording.load(self.path)

    async def complete(self, key: str, messages: list[Message], temperature: float) -> str:
        assert self.recording is not None
        entry = self.recording.replies.get(key)
        if entry is None:
            raise ReplayMissing(f"the recording has no reply for the call {key}", path=self.path,
                                hint="replay with the settings and files it was recorded with, or record anew")
        usage = entry.get("usage") or {}
        self.usage.add(int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0)), 0.0)
        return str(entry["reply"])

    async def close(self) -> None:
        return None
