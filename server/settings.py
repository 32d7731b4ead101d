"""Editor settings to engine Settings: ``workspace/configuration`` (section ``orps``) over
``initializationOptions``, over the environment and ``[tool.orps]``. The API key may come from
the client (its secret store, via initializationOptions) or the environment; it is never logged.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from orps_engine.config import Settings, resolve_settings
from orps_engine.problem import Problem

# Client keys (camelCase, as VS Code settings are named) to engine setting names.
CLIENT_KEYS = {"model": "model", "baseUrl": "base_url", "preset": "preset", "samples": "samples", "beam": "beam",
               "rounds": "rounds", "temperature": "temperature", "maxInFlight": "max_in_flight",
               "timeout": "timeout_s", "maxRetries": "max_retries", "promptBudget": "prompt_budget",
               "repeats": "repeats"}
SERVER_KEYS = {"runOnSave": True, "timeLimit": None, "memoryLimit": None}


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
    return resolve_settings(flags, os.environ, root, flag_source="the editor's orps settings")


def with_limits(problem: Problem, values: dict[str, Any]) -> Problem:
    """The editor's time (ms) and memory (MB) limits, where set, over the tests' own."""
    changes: dict[str, Any] = {}
    time_ms, memory_mb = values.get("timeLimit"), values.get("memoryLimit")
    if isinstance(time_ms, (int, float)) and not isinstance(time_ms, bool) and 0 < time_ms <= 86_400_000:
        changes["time_limit_s"] = float(time_ms) / 1000
    if isinstance(memory_mb, (int, float)) and not isinstance(memory_mb, bool) and 0 < memory_mb <= 1 << 20:
        changes["memory_limit_mb"] = int(memory_mb)
    return replace(problem, **changes) if changes else problem


def run_on_save(values: dict[str, Any]) -> bool:
    return bool(values.get("runOnSave", SERVER_KEYS["runOnSave"]))


def describe(values: dict[str, Any]) -> str:
    """Named fields only: never the whole object (it may carry the key)."""
    shown = {k: values[k] for k in (*CLIENT_KEYS, *SERVER_KEYS) if k in values}
    return ", ".join(f"{k}={v}" for k, v in shown.items()) or "(defaults)"
