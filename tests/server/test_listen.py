"""``orps.listen`` and ``orps.stopListening`` in a real server subprocess: a real POST to the
listener it starts, the solution opened with ``window/showDocument``, and a busy port answered
with the offer of a free one (``window/showMessageRequest``)."""

from __future__ import annotations

import asyncio
import socket
import urllib.error
from pathlib import Path

import pytest
from lsprotocol import types

from tests.fixtures.companion import post, problem
from tests.server.test_lsp import WAIT_S, Client, Launcher, execute, poll_until, wait_until
from tests.server.test_lsp import lsp as lsp  # the fixture


async def wait_for_message(client: Client, needle: str) -> str:
    def found() -> str | None:
        return next((m.message for m in client.messages if needle in m.message), None)

    return str(await wait_until(client, types.WINDOW_SHOW_MESSAGE, found, f"a message with {needle!r}"))


async def test_listen_post_opens_the_new_solution_and_stop_ends_it(lsp: Launcher, tmp_path: Path) -> None:
    client = await lsp.start()
    folder = tmp_path / "cf"
    started = await execute(client, "orps.listen", {"port": 0, "dir": str(folder)})
    assert started["listening"] is True and started["dir"] == str(folder), started

    status, _text = await asyncio.to_thread(post, started["port"], problem())
    assert status == 200
    message = await wait_for_message(client, "A. Watermelon")
    await poll_until(lambda: client.shown_documents, "window/showDocument")

    assert message == "orps: A. Watermelon: created a_watermelon.py; 3 tests in a_watermelon.tests.json"
    solution = folder / "a_watermelon.py"
    assert [d.uri for d in client.shown_documents] == [solution.resolve().as_uri()]
    assert solution.is_file() and (folder / "a_watermelon.tests.json").is_file()

    stopped = await execute(client, "orps.stopListening")
    assert stopped == {"listening": False, "port": started["port"]}
    with pytest.raises(urllib.error.URLError):
        await asyncio.to_thread(post, started["port"], problem())


async def test_listen_busy_port_offers_the_next_free_port(lsp: Launcher, tmp_path: Path) -> None:
    client = await lsp.start()
    offers: list[types.ShowMessageRequestParams] = []

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def accept(params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
        offers.append(params)
        return params.actions[0] if params.actions else None

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        answer = await execute(client, "orps.listen", {"port": busy, "dir": str(tmp_path / "cf")})
        assert answer["listening"] is False and answer["port"] == busy and answer["freePort"] > busy, answer
        free = answer["freePort"]
        await wait_for_message(client, f"listening for Competitive Companion on port {free}")

    assert len(offers) == 1 and f"port {busy} is busy" in offers[0].message
    assert [a.title for a in offers[0].actions or []] == [f"Listen on port {free}"]
    status, _text = await asyncio.to_thread(post, free, problem())
    assert status == 200
    await asyncio.wait_for(poll_until(lambda: client.shown_documents, "window/showDocument"), WAIT_S)
