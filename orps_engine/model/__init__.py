"""The model client (any OpenAI-compatible chat endpoint), its recorder and its replay.

Knows no prompts and no sandbox: it sends messages and returns text, with retries, a cap on
calls in flight and usage accounting.
"""

from .client import ChatModel, Message, ModelError, OpenAIChatModel, Usage
from .record import Recorder, Recording
from .replay import ReplayChatModel, ReplayMissing

__all__ = ["ChatModel", "Message", "ModelError", "OpenAIChatModel", "Recorder", "Recording", "ReplayChatModel",
           "ReplayMissing", "Usage"]
