"""The model client (any OpenAI-compatible chat endpoint), its recorder and its replay.

Knows no prompts and no sandbox: it sends messages and returns replies, with retries, a limit on
calls in flight and usage accounting.
"""

from .client import (
           ChatModel,
           FinishReason,
           Message,
           ModelError,
           ModelErrorKind,
           OpenAIChatModel,
           Reply,
           StopRule,
           Usage,
)
from .record import Recorder, Recording
from .replay import ReplayChatModel, ReplayMissing

__all__ = [
           "ChatModel",
           "FinishReason",
           "Message",
           "ModelError",
           "ModelErrorKind",
           "OpenAIChatModel",
           "Recorder",
           "Recording",
           "ReplayChatModel",
           "ReplayMissing",
           "Reply",
           "StopRule",
           "Usage",
]
