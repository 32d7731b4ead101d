"""Smoke: a real server subprocess publishes diagnostics for a file with a failing sidecar test."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "orps_server"]))
async def client(lsp_client: LanguageClient) -> AsyncIterator[None]:
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), initialization_options={}))
    yield
    await lsp_client.shutdown_session()


async def test_open_publishes_failing_test(client: LanguageClient, tmp_path: Path) -> None:
    sol = tmp_path / "calc.py"
    sol.write_text("def add(a, b):\n    return a - b\n")
    (tmp_path / "calc.tests.json").write_text(json.dumps({"asserts": ["assert add(1, 2) == 3", "assert add(0, 0) == 0"]}))
    uri = sol.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="python", version=1, text=sol.read_text())))
    found = {}
    while uri not in found:
        params = await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        found[params.uri] = params.diagnostics
    messages = [d.message for d in found[uri]]
    assert any("1 of 2 tests fail" in m for m in messages), messages
