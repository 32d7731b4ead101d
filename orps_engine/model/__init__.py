"""The model client (any OpenAI-compatible chat endpoint), its recorder and its replay.

Knows no prompts and no sandbox: it sends messages and returns replies, with retries, a limit on
calls in flight and usage accounting.
"""

from typing import TYPE_CHECKING

from .interface import ChatModel, FinishReason, Message, ModelError, ModelErrorKind, Reply, StopRule, Usage
from .record import Recorder, Recording
from .replay import ReplayChatModel, ReplayMissing

if TYPE_CHECKING:
    from .client import OpenAIChatModel


def __getattr__(name: str) -> object:
    """``OpenAIChatModel`` on first use: importing ``openai`` costs about 0.4 s, which ``orps test``
    and the editor's test runs, which never call a model, should not pay."""
    if name == "OpenAIChatModel":
        from .client import OpenAIChatModel

        return OpenAIChatModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

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
