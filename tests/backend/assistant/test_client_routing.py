"""Turn routing across Rasa servers: a server whose status check fails (a Rasa server loading a model
does not answer) gets new turns only after the others, until it answers a check again."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from promptlink.assistant.client import AVOID_SECONDS, AssistantUnavailable, RasaClient


class StatusServer:
    """`GET /status` answered with a model file — or, while `hang` is set, accepted and never answered."""

    def __init__(self) -> None:
        self.hang = False
        self.server: asyncio.Server | None = None
        self.url = ""

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        if self.hang:
            await asyncio.sleep(30)
        body = json.dumps({"model_file": "promptlink-x.tar.gz"}).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
        writer.write(body)
        await writer.drain()
        writer.close()

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()


@pytest_asyncio.fixture
async def servers() -> AsyncIterator[list[StatusServer]]:
    made = [StatusServer(), StatusServer()]
    for s in made:
        await s.start()
    yield made
    for s in made:
        await s.stop()


def _sender_first_on(rasa: RasaClient, url: str) -> str:
    """A conversation id whose stable hash puts `url` first when nothing else differs."""
    for k in range(1000):
        if rasa.servers_for(f"c{k}")[0] == url:
            return f"c{k}"
    raise AssertionError("no sender hashes to that server")


async def test_a_server_failing_its_status_check_is_tried_last_until_it_answers(servers: list[StatusServer]) -> None:
    loading, other = servers
    rasa = RasaClient(rasa_urls=[loading.url, other.url], rasa_token="t", channel_token="c", actions_url="http://x")
    try:
        sender = _sender_first_on(rasa, loading.url)
        await rasa.rasa_ready(timeout=0.5)
        assert rasa.servers_for(sender) == [loading.url, other.url]

        loading.hang = True  # PUT /model in progress on that server: /status does not answer
        with pytest.raises(AssistantUnavailable) as down:
            await rasa.rasa_ready(timeout=0.5)
        assert "1 of 2 servers up" in down.value.detail and loading.url in down.value.detail
        assert rasa.servers_for(sender) == [other.url, loading.url]  # still the fallback

        # The window is AVOID_SECONDS; once past it with no check since, back to the usual order.
        assert rasa.avoid_until[loading.url] - time.monotonic() == pytest.approx(AVOID_SECONDS, abs=1.0)
        rasa.avoid_until[loading.url] = time.monotonic() - 0.001
        assert rasa.servers_for(sender) == [loading.url, other.url]

        # Avoided again, then the load ends and the next check clears it at once.
        with pytest.raises(AssistantUnavailable):
            await rasa.rasa_ready(timeout=0.5)
        assert rasa.servers_for(sender)[0] == other.url
        loading.hang = False
        await rasa.rasa_ready(timeout=0.5)
        assert rasa.servers_for(sender) == [loading.url, other.url]
    finally:
        await rasa.close()


async def test_a_refused_connection_is_avoided_too(servers: list[StatusServer]) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    closed.close()  # nothing listens there
    rasa = RasaClient(rasa_urls=[url, servers[1].url], rasa_token="t", channel_token="c", actions_url="http://x")
    try:
        sender = _sender_first_on(rasa, url)
        with pytest.raises(AssistantUnavailable):
            await rasa.rasa_ready(timeout=0.5)
        assert rasa.servers_for(sender) == [servers[1].url, url]
    finally:
        await rasa.close()
