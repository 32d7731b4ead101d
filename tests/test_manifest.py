"""The VS Code manifest agrees with the engine and the server: defaults, setting names, commands."""

from __future__ import annotations

import json
import re
from pathlib import Path

from orps_server import settings as server_settings

from orps_engine import config

REPO = Path(__file__).parent.parent
MANIFEST = json.loads((REPO / "package.json").read_text(encoding="utf-8"))
PROPERTIES = MANIFEST["contributes"]["configuration"]["properties"]


def default(key: str) -> object:
    return PROPERTIES[f"orps.{key}"]["default"]


def test_manifest_defaults_equal_the_engine_defaults() -> None:
    preset = config.PRESETS["interactive"]
    assert default("preset") == "interactive"
    assert (default("samples"), default("beam"), default("rounds")) == (
        preset["samples"], preset["beam"], preset["rounds"])
    assert default("timeLimit") == config.DEFAULT_TIME_LIMIT_S * 1000
    assert default("memoryLimit") == config.DEFAULT_MEMORY_LIMIT_MB
    assert default("runOnSave") is server_settings.SERVER_KEYS["runOnSave"]
    assert default("saveBurstDelay") == server_settings.SERVER_KEYS["saveBurstDelay"]
    assert PROPERTIES["orps.saveBurstDelay"]["maximum"] == server_settings.MAX_SAVE_BURST_DELAY_MS
    assert PROPERTIES["orps.preset"]["enum"] == sorted(config.PRESETS)
    engine = config.resolve_settings({}, {}, None)  # the interactive preset over the defaults
    for key, name in server_settings.CLIENT_KEYS.items():
        if key not in ("model", "baseUrl"):  # no default: unset means "ask the environment"
            assert default(key) == getattr(engine, name), key


def test_every_setting_the_server_reads_is_declared_and_forwarded() -> None:
    server_keys = set(server_settings.CLIENT_KEYS) | set(server_settings.SERVER_KEYS)
    declared = {name.removeprefix("orps.") for name in PROPERTIES}
    assert server_keys <= declared, f"undeclared in package.json: {sorted(server_keys - declared)}"
    client = (REPO / "extension" / "src" / "common" / "settings.ts").read_text(encoding="utf-8")
    block = client[client.index("export const SERVER_KEYS"):]
    forwarded = set(re.findall(r"'(\w+)'", block[:block.index("];")]))
    assert forwarded == server_keys


def test_every_manifest_setting_is_read_by_someone() -> None:
    server_keys = set(server_settings.CLIENT_KEYS) | set(server_settings.SERVER_KEYS)
    client_only = {"interpreter", "importStrategy", "trace.server"}
    for name in PROPERTIES:
        key = name.removeprefix("orps.")
        assert key in server_keys | client_only, f"{name} is neither sent to the server nor read by the client"


def test_no_api_key_setting_in_the_manifest() -> None:
    assert not any("key" in name.lower() for name in PROPERTIES)


def test_manifest_commands_match_the_client_constants() -> None:
    constants = (REPO / "extension" / "src" / "common" / "constants.ts").read_text(encoding="utf-8")
    block = constants[constants.index("export const COMMANDS"):constants.index("} as const;")]
    client_ids = set(re.findall(r"'(orps\.[A-Za-z]+)'", block))
    manifest_ids = {c["command"] for c in MANIFEST["contributes"]["commands"]}
    assert client_ids == manifest_ids
    server_ids = {"orps.refine", "orps.runTests", "orps.showCritique", "orps.showProposal", "orps.proposal",
                  "orps.applyRefinement"}
    assert not client_ids & server_ids  # the language client registers the server's own ids
