"""Issue #13, the customer chat socket and invalid text (F3, F7, F14 and F13's broken character).

Against a real backend process (its own, so the per-address socket bound can be set and counted
alone) whose assistant is a small fake Rasa served by the test: each customer message gets an
answer through the same batched writes as with the real assistant.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
import socketio
from aiohttp import web

from testkit.chat_client import ChatClient, widget_token
from testkit.demo import DEMO_PASSWORDS, agent_token
from testkit.live_clients import AgentPeer
from testkit.processes import Running, start_lone_backend, stopping

SOCKETS_PER_IP = 24
TYPING_RATE = "4/second;60/minute"
INVALID = "El texto contiene caracteres no válidos."
ANA = "ana.gomez@cableandina.example"
SUPERVISOR = "supervisor@promptlink.example"
POISON = ("lone surrogate", "hola \ud800 mundo"), ("NUL", "hola\x00mundo"), ("escape", "a\x1bb")


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory, rasa_port: int) -> Iterator[Running]:
    started = start_lone_backend(
        tmp_path_factory.mktemp("chat-abuse"),
        PROMPTLINK_RASA_URLS=f"http://127.0.0.1:{rasa_port}",
        PROMPTLINK_CHAT_CONNECTIONS_PER_IP=str(SOCKETS_PER_IP),
        PROMPTLINK_CHAT_TYPING_RATE=TYPING_RATE,
    )
    with stopping(started) as running:
        yield running


@pytest.fixture(scope="module")
def supervisor(backend: Running) -> str:
    """The supervisor's bearer token (one login for the module)."""
    return agent_token(backend.base_url, SUPERVISOR, DEMO_PASSWORDS[SUPERVISOR])


@pytest_asyncio.fixture
async def fake_rasa(rasa_port: int) -> AsyncIterator[list[str]]:
    """Rasa's channel webhook: answers every message with «Eco: <text>»; yields the texts it got."""
    heard: list[str] = []

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        heard.append(body["message"])
        await asyncio.sleep(0.05)  # the turns of concurrent senders overlap, as with the real assistant
        return web.json_response(
            {
                "messages": [{"text": f"Eco: {body['message']}"}],
                "parse": {"intent": {"name": "greet", "confidence": 0.9}},
            }
        )

    app = web.Application()
    app.router.add_post("/webhooks/promptlink/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", rasa_port)
    await site.start()
    try:
        yield heard
    finally:
        await runner.cleanup()


def _count(backend: Running, table: str) -> int:
    with sqlite3.connect(backend.var_dir / "promptlink.db") as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608 - a fixed name


async def _settled() -> None:
    """Let the server handle the disconnects of the previous test's sockets."""
    await asyncio.sleep(0.5)


async def _close_all(clients: list[ChatClient]) -> None:
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


# --- F3: one poisoned message must not fail the others -----------------------------------


async def test_one_poisoned_message_among_24_senders_fails_alone(backend: Running, fake_rasa: list[str]) -> None:
    await _settled()
    clients = [ChatClient(backend.base_url) for _ in range(24)]
    await asyncio.gather(*(c.connect() for c in clients))
    try:
        texts = [f"mensaje {n} {uuid.uuid4().hex[:6]}" for n in range(24)]
        texts[11] = "veneno \ud800"
        acks = await asyncio.gather(
            *(c.send(text, uuid.uuid4().hex) for c, text in zip(clients, texts, strict=True)), return_exceptions=True
        )
        good = [(c, t, a) for n, (c, t, a) in enumerate(zip(clients, texts, acks, strict=True)) if n != 11]
        failed = [a for _, _, a in good if a != {"seq": 1}]
        assert not failed, f"{len(failed)} of 23 good messages failed: {failed[:3]}"  # each stored, first of its chat
        assert acks[11] == {"error": INVALID}
        # ... and answered: the assistant's reply to each, stored and delivered.
        answers = await asyncio.gather(*(c.wait_for(lambda m, t=t: m["text"] == f"Eco: {t}") for c, t, _ in good))
        assert all(a["role"] == "bot" and a["seq"] == 2 for a in answers)
        assert "veneno \ud800" not in fake_rasa and len(fake_rasa) == 23
    finally:
        await _close_all(clients)
    # Nothing of the poisoned message was stored, nor a conversation for its sender.
    assert _count(backend, "messages WHERE role = 'customer'") == 23
    assert _count(backend, "conversations") == 23


@pytest.mark.parametrize(("what", "text"), POISON, ids=[p[0] for p in POISON])
async def test_invalid_text_over_the_socket_gets_the_spanish_error_and_stores_nothing(
    backend: Running, fake_rasa: list[str], what: str, text: str
) -> None:
    client = await ChatClient(backend.base_url).connect()
    try:
        assert await client.send(text, uuid.uuid4().hex) == {"error": INVALID}
        assert await client.sio.call("message", {"text": "hola", "client_msg_id": "\ud800"}, namespace="/chat") == {
            "error": INVALID
        }
        assert await client.send("válido: ñandú, 😀, עברית", uuid.uuid4().hex) == {"seq": 1}
        await client.wait_for(lambda m: m["role"] == "bot")
    finally:
        await client.close()


async def test_invalid_text_in_the_connect_auth_is_refused_in_spanish(backend: Running) -> None:
    sio = socketio.AsyncClient(reconnection=False)
    refusals: list[Any] = []
    sio.on("connect_error", refusals.append, namespace="/chat")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(
            backend.base_url,
            namespaces=["/chat"],
            auth={"conversation_id": "x\ud800", "resume_token": "\x00"},
            transports=["websocket"],
            wait_timeout=10,
        )
    assert refusals == [{"message": INVALID}]


@pytest.mark.parametrize(("what", "text"), POISON, ids=[p[0] for p in POISON])
def test_invalid_text_over_rest_is_a_422_and_stores_nothing(
    backend: Running, supervisor: str, what: str, text: str
) -> None:
    before = _count(backend, "tickets")
    ticket = {"customer": "CABLEANDINA", "contact": ANA, "type": "software_bug", "title": "Falla"}
    response = _post_ticket(backend, supervisor, {**ticket, "description": text})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["detail"].startswith("body.description contains an invalid character (U+")
    assert body["message"] == INVALID
    # Deeper in the document (a key of a nested object) too.
    nested = _post_ticket(backend, supervisor, {**ticket, "facts": {text: True}})
    assert nested.status_code == 422 and nested.json()["message"] == INVALID
    assert _count(backend, "tickets") == before


@pytest.mark.parametrize("query", ["q=%00", "q=a%1Bb", "customer=%00CABLEANDINA"])
def test_invalid_text_in_a_query_string_is_a_422(backend: Running, supervisor: str, query: str) -> None:
    response = httpx.get(
        f"{backend.base_url}/api/v1/tickets?{query}", headers={"Authorization": f"Bearer {supervisor}"}, timeout=15
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith("query.") and response.json()["message"] == INVALID


def test_a_body_that_is_not_utf8_is_a_422(backend: Running, supervisor: str) -> None:
    response = httpx.post(
        f"{backend.base_url}/api/v1/tickets",
        content=b'{"customer": "CABLEANDINA", "type": "software_bug", "title": "Falla \xed\xa0\x80 \xff"}',
        headers={"Authorization": f"Bearer {supervisor}", "Content-Type": "application/json"},
        timeout=15,
    )
    assert response.status_code == 422 and response.json()["detail"] == "body is not valid JSON"


def _post_ticket(backend: Running, token: str, data: dict[str, Any]) -> httpx.Response:
    # json.dumps escapes a lone surrogate as \ud800, as a browser's JSON.stringify does (httpx's
    # own encoder cannot encode it at all).
    return httpx.post(
        f"{backend.base_url}/api/v1/tickets",
        content=json.dumps(data),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=15,
    )


# --- F7: sockets per address; no conversation row without a message -------------------------


async def test_sockets_per_address_are_bounded_and_leave_no_conversation_rows(backend: Running) -> None:
    await _settled()
    before = _count(backend, "conversations")
    clients: list[ChatClient] = []
    try:
        for _ in range(SOCKETS_PER_IP):
            clients.append(await ChatClient(backend.base_url).connect())
        extra = ChatClient(backend.base_url)
        refusals: list[Any] = []
        extra.sio.on("connect_error", refusals.append, namespace="/chat")
        with pytest.raises(socketio.exceptions.ConnectionError):
            await extra.sio.connect(backend.base_url, namespaces=["/chat"], transports=["websocket"], wait_timeout=10)
        assert refusals and "demasiadas conversaciones abiertas" in refusals[0]["message"]
        # Every socket has a conversation id to show, and none has a row yet.
        assert len({c.session["conversation_id"] for c in clients}) == SOCKETS_PER_IP
        assert _count(backend, "conversations") == before
        # One closes: another may connect.
        await clients.pop().close()
        await _settled()
        clients.append(await ChatClient(backend.base_url).connect())
    finally:
        await _close_all(clients)
    assert _count(backend, "conversations") == before


async def test_a_conversation_row_is_written_with_the_first_message_and_resumes(
    backend: Running, fake_rasa: list[str]
) -> None:
    before = _count(backend, "conversations")
    first = await ChatClient(backend.base_url).connect()
    cid, grant = first.session["conversation_id"], first.session["resume_token"]
    await first.close()
    # A reload before writing keeps the same conversation id, still without a row.
    again = await ChatClient(backend.base_url).connect(conversation_id=cid, resume_token=grant, last_seq=0)
    assert again.session["conversation_id"] == cid and _count(backend, "conversations") == before
    # Without the resume token the id is not given out again.
    other = await ChatClient(backend.base_url).connect(conversation_id=cid, last_seq=0)
    assert other.session["conversation_id"] != cid
    await other.close()
    # Ending or rating a conversation that has not started writes nothing either.
    assert (await again.sio.call("end", {}, namespace="/chat"))["error"].startswith("La conversación aún no")
    try:
        assert await again.send("hola", uuid.uuid4().hex) == {"seq": 1}
        await again.wait_for(lambda m: m["role"] == "bot")
        assert _count(backend, "conversations") == before + 1
        assert await again.send("otra", uuid.uuid4().hex) == {"seq": 3}
    finally:
        await again.close()
    back = await ChatClient(backend.base_url).connect(conversation_id=cid, resume_token=grant, last_seq=0)
    try:
        await back.wait_for(lambda m: m["seq"] == 4)
        # The room is joined before the replay is sent, so the bot's late reply may arrive first:
        # clients order by seq (the widget does), not by arrival.
        assert [m["text"] for m in sorted(back.messages, key=lambda m: m["seq"])][:1] == ["hola"]
    finally:
        await back.close()
    assert _count(backend, "conversations") == before + 1


async def test_an_identified_contact_reuses_its_empty_conversation(backend: Running) -> None:
    token = widget_token(backend.base_url, ANA)
    before = _count(backend, "conversations")
    ids = set()
    for _ in range(5):
        client = await ChatClient(backend.base_url).connect(identity=token)
        ids.add(client.session["conversation_id"])
        await client.close()
    assert len(ids) == 1 and _count(backend, "conversations") <= before + 1


# --- F14: typing is rate-limited per socket -------------------------------------------------


async def test_a_typing_flood_is_relayed_at_most_the_allowed_number_of_times(
    backend: Running, supervisor: str, fake_rasa: list[str]
) -> None:
    await _settled()
    customer = await ChatClient(backend.base_url).connect()
    boss = await AgentPeer(backend.base_url, supervisor).connect()
    try:
        assert await customer.send("hola", uuid.uuid4().hex) == {"seq": 1}
        cid = customer.session["conversation_id"]
        assert "error" not in await boss.watch(cid)
        for n in range(300):
            await customer.sio.emit("typing", {"on": n % 2 == 0}, namespace="/chat")
        await customer.sio.call("resume", {"last_seq": 99}, namespace="/chat")  # every typing was handled
        await asyncio.sleep(0.5)

        def relayed() -> list[dict[str, Any]]:
            return [t for t in boss.event("typing") if t.get("conversation_id") == cid and t["role"] == "customer"]

        flood = len(relayed())
        assert 1 <= flood <= 4, flood  # 4 per second
        # The socket still works, and typing is relayed again once the window has passed.
        await asyncio.sleep(1.1)
        await customer.sio.emit("typing", {"on": False}, namespace="/chat")
        for _ in range(100):
            if len(relayed()) > flood:
                break
            await asyncio.sleep(0.05)
        assert len(relayed()) == flood + 1 and relayed()[-1]["on"] is False
    finally:
        await customer.close()
        await boss.close()
