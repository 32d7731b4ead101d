"""Editor settings to engine Settings: ``workspace/configuration`` (section ``orps``) over
``initializationOptions``, over the environment and ``[tool.orps]``. The API key may come from
the client (its secret store, via initializationOptions) or the environment; it is never logged.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from orps_engine.config import Settings, resolve_settings

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


def run_on_save(values: dict[str, Any]) -> bool:
    return bool(values.get("runOnSave", SERVER_KEYS["runOnSave"]))


def describe(values: dict[str, Any]) -> str:
    """Named fields only: never the whole object (it may carry the key)."""
    shown = {k: values[k] for k in (*CLIENT_KEYS, *SERVER_KEYS) if k in values}
    return ", ".join(f"{k}={v}" for k, v in shown.items()) or "(defaults)"
