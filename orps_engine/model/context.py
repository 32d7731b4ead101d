"""The model's context window, as servers tell it: in an error that refuses a prompt as too long,
in their model list, or in llama.cpp's ``/props``. Pure functions over what the server sent.

Each server words the refusal its own way (the tests keep a collection); what they share is a
word for the context and, often, the number. The number is read only from phrases that name the
window itself ("maximum context length is 1024", "context window of 1024", "n_ctx": 1024), never
from the counts of the request ("you requested 1100 tokens").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_CONTEXT = re.compile(
    r"context[ _-]?(?:length|window|size)|maximum model length|max_model_len|\bn_ctx\b"
    r"|maximum (?:sequence|input) length|prompt is too long|prompt too long|input is too long"
    r"|too long for the model|tokens\)? is too long|tokens \+ `max_new_tokens`"
    r"|`inputs` tokens|exceed(?:s|ed)? (?:the )?(?:model'?s? )?(?:maximum|max) (?:number of )?tokens",
    re.IGNORECASE)
_CONTEXT_CODES = ("context_length_exceeded", "exceed_context_size_error", "context_window_exceeded",
                  "string_above_max_length")
# Phrases that name the window; the first group is its size.
_WINDOW = [re.compile(p, re.IGNORECASE) for p in (
    r"maximum context length (?:is|of) (\d+)",
    r"context (?:window|length|size) of (?:only )?(\d+)",
    r"(?:context window|context length|context size|n_ctx) (?:is|=|:) ?(\d+)",
    r"context length \((\d+)(?: tokens)?\)",
    r"maximum model length (?:of|is) (\d+)",
    r"\bmax_model_len\b\W{0,3}(\d+)",
    r"\bn_ctx\b\W{0,3}(\d+)",
    r"exceeds (?:the )?limit of (\d+)",
    r"must be <= (\d+)",
    r"(\d+) maximum context length",
    r"> (\d+) maximum",
)]
_WINDOW_FIELDS = ("n_ctx", "max_model_len", "context_window", "context_length", "max_context_length")
MIN_WINDOW = 16  # below this a number is not a context window

# Fields of a model list's entry, best first: the window the server runs with, then the model's own.
_SERVED_FIELDS = ("loaded_context_length", "n_ctx", "max_model_len", "context_window", "context_length",
                  "max_context_length", "max_seq_len", "max_input_tokens")


def is_context_error(message: str, body: object = None) -> bool:
    """Does a refusal say the prompt (with the reply's room) does not fit the context window?"""
    if _CONTEXT.search(message):
        return True
    error = _error_dict(body)
    return any(str(error.get(name, "")).lower() in _CONTEXT_CODES for name in ("code", "type"))


def window_in_error(message: str, body: object = None) -> int | None:
    """The context window a refusal names, if it names one."""
    error = _error_dict(body)
    for name in _WINDOW_FIELDS:
        value = _positive(error.get(name))
        if value is not None:
            return value
    for pattern in _WINDOW:
        match = pattern.search(message)
        if match:
            value = _positive(match.group(1))
            if value is not None:
                return value
    return None


def window_in_models(payload: object, model: str | None) -> tuple[int | None, bool]:
    """The window a ``/v1/models`` answer gives for ``model`` (or its only model), and whether it
    is the window the server runs with (False: only what the model was trained for, llama.cpp's
    ``meta.n_ctx_train``, which a server started with a smaller ``-c`` does not offer)."""
    entry = _entry(payload, model)
    if entry is None:
        return None, False
    for name in _SERVED_FIELDS:
        value = _positive(entry.get(name))
        if value is not None:
            return value, True
    top = entry.get("top_provider")  # OpenRouter
    if isinstance(top, Mapping) and _positive(top.get("context_length")) is not None:
        return _positive(top.get("context_length")), True
    meta = entry.get("meta")  # llama.cpp's server
    if isinstance(meta, Mapping):
        if _positive(meta.get("n_ctx")) is not None:
            return _positive(meta.get("n_ctx")), True
        if _positive(meta.get("n_ctx_train")) is not None:
            return _positive(meta.get("n_ctx_train")), False
    return None, False


def window_in_props(payload: object) -> int | None:
    """llama.cpp's ``/props``: the context of one slot, which is what one request gets."""
    if not isinstance(payload, Mapping):
        return None
    settings = payload.get("default_generation_settings")
    if isinstance(settings, Mapping) and _positive(settings.get("n_ctx")) is not None:
        return _positive(settings.get("n_ctx"))
    return _positive(payload.get("n_ctx"))


def slots_in_props(payload: object) -> int | None:
    """llama.cpp's ``/props``: how many requests it generates at once."""
    return _positive(payload.get("total_slots"), least=1) if isinstance(payload, Mapping) else None


def _entry(payload: object, model: str | None) -> Mapping[str, Any] | None:
    data = payload.get("data") if isinstance(payload, Mapping) else payload
    if not isinstance(data, list):
        return None
    entries = [e for e in data if isinstance(e, Mapping)]
    named = [e for e in entries if model is not None and e.get("id") == model]
    if named:
        return named[0]
    return entries[0] if len(entries) == 1 else None


def _error_dict(body: object) -> Mapping[str, Any]:
    if isinstance(body, Mapping):
        error = body.get("error", body)
        return error if isinstance(error, Mapping) else body
    return {}


def _positive(value: object, least: int = MIN_WINDOW) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and value >= least else None
