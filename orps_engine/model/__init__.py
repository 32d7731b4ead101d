"""The model client (any OpenAI-compatible chat endpoint), its recorder and its replay.

Knows no prompts and no sandbox: it sends messages and returns replies, with retries, a limit on
calls in flight and usage accounting.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from ..errors import MissingPackage, install_command
from .interface import ChatModel, FinishReason, Message, ModelError, ModelErrorKind, Reply, StopRule, Usage
from .record import Recorder, Recording
from .replay import ReplayChatModel, ReplayMissing

if TYPE_CHECKING:
    from ..config import Settings
    from .client import OpenAIChatModel


def open_model(settings: Settings, *, recorder: Recorder | None = None) -> OpenAIChatModel:
    """The client for the endpoint ``settings`` name, importing ``openai`` only now: a refine is the
    only thing that needs it, and the server bundled with the editor extension ships without it
    (pydantic-core, which it needs, is compiled per Python version). Its absence is a
    ``MissingPackage`` that names the command installing it into this interpreter."""
    try:
        from .client import OpenAIChatModel
    except ModuleNotFoundError as exc:
        if (exc.name or "").startswith("orps_engine"):
            raise  # our own module missing: a broken install, not the optional dependency
        raise MissingPackage(f"refining needs the openai package, which {sys.executable} cannot import ({exc})",
                             hint=f"install it with: {install_command(sys.executable, 'openai')}") from None
    return OpenAIChatModel(settings, recorder=recorder)


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
           "open_model",
]
