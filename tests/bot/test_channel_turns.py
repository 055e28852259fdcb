"""`bot.channel`: how many turns one Rasa process runs at once (bot environment).

Run by `scripts/test.sh` with the bot's Python; the channel inside the real Rasa server is
tested in `test_channel.py`.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from bot.channel import PromptlinkInput, turns_at_once


def test_one_turn_at_a_time_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMPTLINK_RASA_TURNS_AT_ONCE", raising=False)
    assert turns_at_once() == 1
    monkeypatch.setenv("PROMPTLINK_RASA_TURNS_AT_ONCE", "4")
    assert turns_at_once() == 4
    assert PromptlinkInput(token="t").turns_at_once == 4


@pytest.mark.parametrize("raw", ["0", "65", "-1", "dos", ""])
def test_a_bad_setting_is_refused_with_its_name(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("PROMPTLINK_RASA_TURNS_AT_ONCE", raw)
    with pytest.raises(ValueError, match="PROMPTLINK_RASA_TURNS_AT_ONCE"):
        PromptlinkInput(token="t")


def test_turns_run_one_at_a_time_unless_more_are_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The channel's webhook on a real Sanic server, with a handler that records overlapping turns.

    One server (Sanic cannot start a second app in one process): five turns at once with the
    default, then with five allowed at once (as PROMPTLINK_RASA_TURNS_AT_ONCE=5 would set).
    """
    import aiohttp
    from rasa.core.channels.channel import UserMessage
    from sanic import Sanic

    monkeypatch.delenv("PROMPTLINK_RASA_TURNS_AT_ONCE", raising=False)
    channel = PromptlinkInput(token="secret")
    running: list[str] = []
    overlaps: list[tuple[str, ...]] = []
    handled: list[str] = []

    async def handle(message: UserMessage) -> None:
        running.append(message.text)
        if len(running) > 1:
            overlaps.append(tuple(running))
        handled.append(message.text)
        await asyncio.sleep(0.02)  # an await inside the turn, like the action server's
        await message.output_channel.send_text_message(message.sender_id, f"eco: {message.text}")
        running.remove(message.text)

    app = Sanic("channel_turns_test")
    app.blueprint(channel.blueprint(handle), url_prefix="/webhooks/promptlink")
    # Rasa's agent, reduced to what the channel asks of it: ready, with no NLU to run here.
    app.ctx.agent = SimpleNamespace(is_ready=lambda: True, processor=None)

    async def five_turns(http: aiohttp.ClientSession, port: int) -> list[dict]:
        async def one(k: int) -> dict:
            async with http.post(
                f"http://127.0.0.1:{port}/webhooks/promptlink/webhook",
                json={"sender": f"s-{k}", "message": f"m{k}"},
                headers={"Authorization": "Bearer secret"},
            ) as response:
                assert response.status == 200
                return await response.json()

        return await asyncio.gather(*(one(k) for k in range(5)))

    async def both() -> tuple[list[dict], list[tuple[str, ...]], list[dict], list[tuple[str, ...]], tuple[int, dict]]:
        server = await app.create_server(host="127.0.0.1", port=0, return_asyncio_server=True)
        assert server is not None
        await server.startup()
        port = server.server.sockets[0].getsockname()[1]
        try:
            async with aiohttp.ClientSession() as http:
                one_at_a_time = await five_turns(http, port)
                first_overlaps = list(overlaps)
                overlaps.clear()
                channel.turns_at_once, channel._turns = 5, None
                five_at_once = await five_turns(http, port)
                seen = list(overlaps)
                # Before Rasa has loaded a model it would take the message and answer nothing: 503 instead.
                app.ctx.agent = SimpleNamespace(is_ready=lambda: False, processor=None)
                async with http.post(
                    f"http://127.0.0.1:{port}/webhooks/promptlink/webhook",
                    json={"sender": "s-late", "message": "hola"},
                    headers={"Authorization": "Bearer secret"},
                ) as response:
                    not_ready = (response.status, await response.json())
                return one_at_a_time, first_overlaps, five_at_once, seen, not_ready
        finally:
            server.close()
            await server.wait_closed()

    answers, none, more, some, not_ready = asyncio.run(both())
    assert not_ready == (503, {"detail": "no model loaded yet"})
    assert "hola" not in handled
    assert none == []
    assert some  # five allowed at once: the turns' awaits interleave
    assert sorted(handled) == sorted([f"m{k}" for k in range(5)] * 2)
    for batch in (answers, more):
        assert [a["messages"][0]["text"] for a in batch] == [f"eco: m{k}" for k in range(5)]
        assert all(a["parse"] == {} for a in batch)  # no model loaded in this app: nothing parsed
