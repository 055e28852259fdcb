"""`POST /api/v1/conversations/{id}/handoff` and `GET /api/v1/queues/chats` against a real backend.

The customer side is a real socket.io client on `/chat`: it receives the `handoff` event and
the Spanish system message, and its later messages no longer reach the assistant.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from testkit.api_roles import ALL_ROLES, CABLEANDINA, STAFF, STAFF_ONLY, TELECARIBE, call, expect
from testkit.chat_client import ChatClient, widget_token

ANA = "ana.gomez@cableandina.example"
HANDOFF_EXPECTED = {
    **dict.fromkeys([*STAFF, "service"], 200),
    **dict.fromkeys([*CABLEANDINA, *TELECARIBE], 403),
    "anonymous": 401,
}
DEFAULT_WAIT = 300


async def _conversation(lone_backend, **auth: Any) -> str:
    client = await ChatClient(lone_backend.base_url).connect(**auth)
    # An anonymous visitor's conversation is written with its first message (issue #13 F7).
    assert "seq" in await client.send("hola", uuid.uuid4().hex)
    await client.close()
    return str(client.session["conversation_id"])


def _handoff(lone_backend, auth_headers, cid: str, role: str = "service", **body: Any) -> httpx.Response:
    payload = {"tier": "L1", "reason": "El cliente pide hablar con una persona", "ticket": None} | body
    return call(lone_backend, auth_headers, role, "POST", f"/conversations/{cid}/handoff", json=payload)


def _queue(lone_backend, auth_headers, tier: str, role: str = "supervisor") -> list[dict[str, Any]]:
    response = call(lone_backend, auth_headers, role, "GET", "/queues/chats")
    assert response.status_code == 200, response.text
    return next(q["conversations"] for q in response.json()["queues"] if q["tier"] == tier)


def _new_ticket(lone_backend, auth_headers) -> str:
    response = httpx.post(
        f"{lone_backend.base_url}/api/v1/tickets",
        json={"customer": "CABLEANDINA", "contact": ANA, "type": "software_bug", "title": "Falla del portal"},
        headers=auth_headers["supervisor"],
        timeout=15,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


@pytest.mark.parametrize("role", ALL_ROLES)
async def test_handoff_per_role(lone_backend, auth_headers, role) -> None:
    cid = await _conversation(lone_backend)
    response = _handoff(lone_backend, auth_headers, cid, role)
    assert response.status_code == HANDOFF_EXPECTED[role], response.text
    if response.status_code == 200:
        body = response.json()
        assert set(body) == {"conversation_id", "mode", "tier", "position", "eta_seconds"}
        assert (body["conversation_id"], body["mode"], body["tier"]) == (cid, "queued", "L1")
        assert body["position"] >= 1 and body["eta_seconds"] == DEFAULT_WAIT * body["position"]
    else:
        assert response.json()["message"] in ("No tiene permiso para esta acción.", "Debe iniciar sesión.")


async def test_the_customer_sees_the_queue_and_the_bot_is_no_longer_asked(lone_backend, auth_headers) -> None:
    ticket = _new_ticket(lone_backend, auth_headers)
    client = ChatClient(lone_backend.base_url)
    handoffs: list[dict[str, Any]] = []
    client.sio.on("handoff", handoffs.append, namespace="/chat")
    await client.connect(identity=widget_token(lone_backend.base_url, ANA))
    cid = client.session["conversation_id"]
    try:
        position = len(_queue(lone_backend, auth_headers, "L2")) + 1
        response = _handoff(lone_backend, auth_headers, cid, tier="L2", reason="Falla de software", ticket=ticket)
        assert response.status_code == 200, response.text
        expected = {"tier": "L2", "position": position, "eta_seconds": DEFAULT_WAIT * position}
        assert response.json() == {"conversation_id": cid, "mode": "queued", **expected}
        notice = await client.wait_for(lambda m: m["role"] == "system")
        assert notice["text"] == (
            "Le estamos comunicando con un especialista de Soporte de Nivel 2. "
            "Mientras espera, le indicamos su lugar en la cola y el tiempo estimado."
        )
        # Nobody of L2 is online: the customer learns how and when they will be contacted.
        nobody = await client.wait_for(lambda m: m["seq"] == notice["seq"] + 1)
        assert nobody["role"] == "system"
        assert nobody["text"].startswith("En este momento no hay especialistas de Soporte de Nivel 2 conectados.")
        assert ticket in nobody["text"] and ANA in nobody["text"]
        # `handoff` comes with the handoff, and again when the tier's queue is refreshed.
        for _ in range(100):
            if len(handoffs) >= 2:
                break
            await asyncio.sleep(0.05)
        assert handoffs == [expected, expected]
        announced = len(handoffs)
        # Staff see the chat in the L2 queue with who, why and which ticket.
        [row] = [r for r in _queue(lone_backend, auth_headers, "L2") if r["conversation_id"] == cid]
        assert (row["customer"], row["contact"], row["name"]) == ("CABLEANDINA", ANA, "Ana Gómez")
        assert (row["ticket"], row["reason"], row["position"]) == (ticket, "Falla de software", position)
        assert row["waiting_seconds"] >= 0
        # The same handoff again (a retried action) keeps the place and announces nothing new.
        again = _handoff(lone_backend, auth_headers, cid, tier="L2", ticket=ticket)
        assert again.status_code == 200 and again.json() == response.json()
        # Now queued: a customer message is stored and acked, and the assistant is not asked.
        seen, typing = len(client.messages), len(client.typing)
        ack = await client.send("¿sigue ahí?", uuid.uuid4().hex)
        assert ack == {"seq": nobody["seq"] + 1}
        await asyncio.sleep(1.5)
        assert len(client.messages) == seen and len(client.typing) == typing  # no bot reply, no Rasa notice
        assert len(handoffs) == announced
        replay = await client.sio.call("resume", {"conversation_id": cid, "last_seq": notice["seq"]}, namespace="/chat")
        assert replay == {"replayed": 2}
    finally:
        await client.close()


async def test_bad_handoffs(lone_backend, auth_headers) -> None:
    cid = await _conversation(lone_backend)
    unknown = _handoff(lone_backend, auth_headers, str(uuid.uuid4()))
    assert unknown.status_code == 404 and unknown.json()["message"] == "La conversación no existe."
    for body, message in [
        ({"tier": "L4"}, "El nivel de soporte no es válido."),
        ({"tier": None}, "El nivel de soporte no es válido."),
        ({"reason": "x" * 301}, "El motivo no es válido."),
        ({"ticket": "PL-2026-999999"}, "El tiquete no existe."),
    ]:
        response = _handoff(lone_backend, auth_headers, cid, **body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["message"] == message
    not_json = call(lone_backend, auth_headers, "service", "POST", f"/conversations/{cid}/handoff", content=b"tier=L1")
    assert not_json.status_code == 422
    # Nothing above queued it: the first valid handoff does.
    assert _handoff(lone_backend, auth_headers, cid, tier="L3").json()["mode"] == "queued"


@pytest.mark.parametrize("role", ALL_ROLES)
def test_chat_queues_per_role(lone_backend, auth_headers, role) -> None:
    response = call(lone_backend, auth_headers, role, "GET", "/queues/chats")
    assert response.status_code == expect(STAFF_ONLY)[role], response.text
    if response.status_code == 200:
        tiers = [q["tier"] for q in response.json()["queues"]]
        assert tiers == ({"l1": ["L1"], "l2": ["L2"], "l3": ["L3"]}.get(role) or ["L1", "L2", "L3"])


async def test_an_agent_sees_the_chats_of_its_tier_only(lone_backend, auth_headers) -> None:
    cid = await _conversation(lone_backend)
    assert _handoff(lone_backend, auth_headers, cid, tier="L3", reason="Caso complejo").status_code == 200
    assert cid in [r["conversation_id"] for r in _queue(lone_backend, auth_headers, "L3", role="l3")]
    assert cid in [r["conversation_id"] for r in _queue(lone_backend, auth_headers, "L3", role="admin")]
    l1 = call(lone_backend, auth_headers, "l1", "GET", "/queues/chats").json()["queues"]
    assert all(cid != r["conversation_id"] for q in l1 for r in q["conversations"])
    [row] = [r for r in _queue(lone_backend, auth_headers, "L3") if r["conversation_id"] == cid]
    assert (row["customer"], row["contact"], row["reason"]) == (None, None, "Caso complejo")  # anonymous visitor
