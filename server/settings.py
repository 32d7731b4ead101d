"""Editor settings to engine Settings: ``workspace/configuration`` (section ``orps``) over
``initializationOptions``, over the environment and ``[tool.orps]``. The API key may come from
the client (its secret store, via initializationOptions) or the environment; it is never logged.

Every key here is declared in the extension's manifest (package.json); a test checks both ways.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from orps_engine import (
    MEMORY_LIMIT_RULE,
    TIME_LIMIT_RULE,
    InputError,
    Problem,
    Settings,
    memory_limit_mb,
    resolve_settings,
    time_limit_s,
)

# Client keys (camelCase, as VS Code settings are named) to engine setting names.
CLIENT_KEYS = {"model": "model", "baseUrl": "base_url", "preset": "preset", "samples": "samples", "beam": "beam",
               "rounds": "rounds", "temperature": "temperature", "maxInFlight": "max_in_flight",
               "timeout": "timeout_s", "maxRetries": "max_retries", "promptBudget": "prompt_budget",
               "repeats": "repeats", "maxTokens": "max_tokens", "contextWindow": "context_window",
               "earlyStop": "early_stop"}
# Keys the server reads itself, with their defaults (None: the tests' own value).
SERVER_KEYS = {"runOnSave": True, "saveBurstDelay": 150, "timeLimit": None, "memoryLimit": None,
               "allowSubprocesses": None, "reviewMode": "sideBySide"}
REVIEW_MODES = ("sideBySide", "inline")
MAX_SAVE_BURST_DELAY_MS = 60_000
SOURCE = "the editor's orps settings"


@dataclass(frozen=True, slots=True, kw_only=True)
class InitializationOptions:
    values: dict[str, Any]
    api_key: str | None
    storage_folder: Path | None = None  # where the refine history is saved (None: kept in memory)


NOT_SETTINGS = ("apiKey", "storageFolder")  # initializationOptions beside the settings


def read_initialization_options(options: Any) -> InitializationOptions:
    """``{"settings": {...}, "apiKey": ..., "storageFolder": ...}`` as the extension sends it (or the
    settings alone, beside the other two)."""
    if not isinstance(options, dict):
        return InitializationOptions(values={}, api_key=None)
    key = options.get("apiKey")
    folder = options.get("storageFolder")
    nested = options.get("settings")
    values = dict(nested) if isinstance(nested, dict) else {k: v for k, v in options.items() if k not in NOT_SETTINGS}
    return InitializationOptions(values=values, api_key=key if isinstance(key, str) and key else None,
                                 storage_folder=Path(folder) if isinstance(folder, str) and folder else None)


def read_section(section: Any) -> dict[str, Any]:
    """The ``orps`` section of ``workspace/configuration``; a key there is dropped (it belongs in
    the secret store, not in settings)."""
    if not isinstance(section, dict):
        return {}
    return {k: v for k, v in section.items() if k != "apiKey"}


def client_values(*layers: dict[str, Any] | None) -> dict[str, Any]:
    """Merge client setting layers (later wins), keeping only values that are set."""
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in (layer or {}).items():
            if value is not None and value != "":
                merged[key] = value
    return merged


def engine_settings(values: dict[str, Any], api_key: str | None, root: Path | None) -> Settings:
    flags = {CLIENT_KEYS[k]: v for k, v in values.items() if k in CLIENT_KEYS}
    if api_key:
        flags["api_key"] = api_key
    return resolve_settings(flags, os.environ, root, flag_source=SOURCE)


def with_limits(problem: Problem, values: dict[str, Any]) -> Problem:
    """The editor's time (ms) and memory (MB) limits and whether the code may start processes,
    where set, over the tests' own; checked and rounded as a tests file's are."""
    changes: dict[str, Any] = {}
    if "timeLimit" in values:
        changes["time_limit_s"] = time_limit_s(values["timeLimit"])
        if changes["time_limit_s"] is None:
            raise InputError(f"orps.timeLimit: {TIME_LIMIT_RULE} (got {values['timeLimit']!r} from {SOURCE})")
    if "memoryLimit" in values:
        changes["memory_limit_mb"] = memory_limit_mb(values["memoryLimit"])
        if changes["memory_limit_mb"] is None:
            raise InputError(f"orps.memoryLimit: {MEMORY_LIMIT_RULE} (got {values['memoryLimit']!r} from {SOURCE})")
    if "allowSubprocesses" in values:
        if not isinstance(values["allowSubprocesses"], bool):
            raise InputError(f"orps.allowSubprocesses: expected true or false (got {values['allowSubprocesses']!r} "
                             f"from {SOURCE})")
        changes["allow_subprocesses"] = values["allowSubprocesses"]
    return replace(problem, **changes) if changes else problem


def run_on_save(values: dict[str, Any]) -> bool:
    return bool(values.get("runOnSave", SERVER_KEYS["runOnSave"]))


def save_burst_delay_s(values: dict[str, Any]) -> float:
    """How long a save that cancelled a run still going waits for more saves before the tests run
    again, so that a burst (Save All, auto-save) costs one run and one sandbox restart, not one
    per file; a save with no run going never waits (``orps.saveBurstDelay``, ms)."""
    value = values.get("saveBurstDelay", SERVER_KEYS["saveBurstDelay"])
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_SAVE_BURST_DELAY_MS:
        raise InputError(f"orps.saveBurstDelay: a number of milliseconds from 0 to {MAX_SAVE_BURST_DELAY_MS} "
                         f"(got {value!r} from {SOURCE})")
    return float(value) / 1000


def review_inline(values: dict[str, Any]) -> bool:
    """Does the user review a refinement hunk by hunk in the file (``orps.reviewMode: inline``), or
    side by side (the default)?"""
    mode = values.get("reviewMode", SERVER_KEYS["reviewMode"])
    if mode not in REVIEW_MODES:
        raise InputError(f"orps.reviewMode: one of {', '.join(REVIEW_MODES)} (got {mode!r} from {SOURCE})")
    return bool(mode == "inline")


def describe(values: dict[str, Any]) -> str:
    """Named fields only: never the whole object (it may carry the key)."""
    shown = {k: values[k] for k in (*CLIENT_KEYS, *SERVER_KEYS) if k in values}
    return ", ".join(f"{k}={v}" for k, v in shown.items()) or "(defaults)"
