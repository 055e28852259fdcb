"""Live chat over real sockets against a real backend: `/agent` authentication, the whole
customer ↔ agent exchange, rate and size limits, and delivery that loses nothing across 100
forced reconnects."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
import socketio

from testkit.chat_client import widget_token
from testkit.demo import DEMO_PASSWORDS, agent_token, service_headers
from testkit.live_clients import AgentPeer, Customer

ANA = "ana.gomez@cableandina.example"
MARIA = "maria.rodriguez@telecaribe.example"


def _api(base: str, headers: dict[str, str], method: str, path: str, **kw: Any) -> httpx.Response:
    return httpx.request(method, f"{base}/api/v1{path}", headers=headers, timeout=15, **kw)


def _token(base: str, who: str) -> str:
    email = f"{who}@promptlink.example"
    return agent_token(base, email, DEMO_PASSWORDS[email])


async def _queued_customer(base: str, headers: dict[str, dict[str, str]], tier: str = "L1") -> Customer:
    customer = await Customer(base, widget_token(base, ANA)).connect()
    response = _api(
        base,
        service_headers(conversation_id=customer.conversation_id),
        "POST",
        f"/conversations/{customer.conversation_id}/handoff",
        json={"tier": tier, "reason": "El cliente pidió hablar con una persona", "ticket": None},
    )
    assert response.status_code == 200, response.text
    await customer.wait_event("handoff")
    return customer


async def test_only_staff_open_the_agent_namespace(lone_backend, auth_headers) -> None:
    base = lone_backend.base_url
    for auth in ({}, {"token": "nonsense"}, {"token": widget_token(base, ANA)}):
        sio = socketio.AsyncClient(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await sio.connect(base, namespaces=["/agent"], auth=auth, transports=["websocket"], wait_timeout=5)
        await sio.disconnect()
    agent = await AgentPeer(base, _token(base, "l1")).connect()
    try:
        [hello] = agent.event("hello")
        assert hello["agent"]["email"] == "l1@promptlink.example" and hello["agent"]["tiers"] == ["L1"]
        # An L1 agent cannot watch (read) an L2 chat.
        customer = await _queued_customer(base, auth_headers, "L2")
        ack = await agent.emit("watch", {"conversation_id": customer.conversation_id, "last_seq": 0})
        assert ack == {"error": "No tiene permiso para esta acción."}
        await customer.close()
    finally:
        await agent.close()


async def test_customer_and_agents_talk_transfer_hand_back_end_and_rate(lone_backend, auth_headers) -> None:
    base = lone_backend.base_url
    customer = await _queued_customer(base, auth_headers, "L1")
    cid = customer.conversation_id
    laura = await AgentPeer(base, _token(base, "l1")).connect()
    sofia = await AgentPeer(base, _token(base, "l3")).connect()
    try:
        assert await laura.emit("presence", {"presence": "online"}) == {"presence": "online"}
        assert (await laura.emit("presence", {"presence": "busy"}))["error"].startswith("El estado debe ser")
        claimed = _api(base, auth_headers["l1"], "POST", f"/conversations/{cid}/claim")
        assert claimed.status_code == 200 and claimed.json()["agent_name"] == "Laura Nivel Uno"
        assert await customer.wait_event("agent_joined") == {"name": "Laura Nivel Uno", "tier": "L1"}
        await laura.wait_event("chats")
        ack = await laura.watch(cid)
        assert ack["conversation"]["mode"] == "human" and ack["replayed"] >= 3  # transcript so far
        # Typing both ways.
        await customer.emit("typing", {"on": True})
        assert await laura.wait_event("typing") == {"conversation_id": cid, "role": "customer", "on": True}
        await laura.emit("typing", {"conversation_id": cid, "on": True})
        typing = await customer.wait_event("typing", lambda d: d.get("role") == "agent")
        assert typing == {"role": "agent", "on": True, "name": "Laura Nivel Uno"}
        # Messages both ways, each stored once, with the agent's name.
        assert (await customer.send("Mi módem no sincroniza"))["seq"] > 0
        await laura.wait_text("Mi módem no sincroniza")
        ack = await laura.say("Revisemos el nivel de señal, por favor.")
        reply = await customer.wait_text("Revisemos el nivel de señal, por favor.")
        assert (reply["role"], reply["author_name"], reply["seq"]) == ("agent", "Laura Nivel Uno", ack["seq"])
        # Another agent cannot speak in it, even about a chat they can see.
        sofia.watching = cid
        assert (await sofia.say("hola"))["error"] == "Esta conversación la atiende otro especialista."
        # Transfer to L3 with an internal reason.
        moved = _api(
            base,
            auth_headers["l1"],
            "POST",
            f"/conversations/{cid}/transfer",
            json={"tier": "L3", "reason": "Requiere análisis de Nivel 3"},
        )
        assert moved.status_code == 200 and moved.json()["tier"] == "L3"
        await customer.wait_event("handoff", lambda d: d["tier"] == "L3")
        notice = await customer.wait_text(
            next(
                m["text"]
                for m in (await _detail(base, auth_headers, cid))["messages"]
                if m["text"].startswith("Su conversación pasa a Soporte de Nivel 3")
            )
        )
        assert "Requiere análisis" not in notice["text"]
        assert (await laura.say("¿sigue ahí?"))[
            "error"
        ] == "La conversación no está siendo atendida por un especialista."
        assert _api(base, auth_headers["l3"], "POST", f"/conversations/{cid}/claim").status_code == 200
        await customer.wait_event("agent_joined", lambda d: d["tier"] == "L3")
        await sofia.watch(cid)
        await sofia.say("Soy Sofía, de Nivel 3.")
        await customer.wait_text("Soy Sofía, de Nivel 3.")
        note = _api(base, auth_headers["l3"], "POST", f"/conversations/{cid}/notes", json={"text": "Revisar firmware"})
        assert note.status_code == 201
        # Back to the assistant (Rasa is down in this backend: the customer gets the Spanish notice).
        assert _api(base, auth_headers["l3"], "POST", f"/conversations/{cid}/hand-back").status_code == 200
        await customer.wait_event("state")
        await customer.send("¿cuáles son los niveles de prioridad?")
        await customer.wait_text(
            "En este momento el asistente automático no está disponible. Su mensaje quedó guardado; por favor, "
            "inténtelo de nuevo en unos minutos."
        )
        # The customer ends and rates.
        assert await customer.emit("end") == {"mode": "closed"}
        assert (await customer.wait_event("closed"))["rating_requested"] is True
        assert await customer.emit("rate", {"score": 9}) == {"error": "Elija una calificación de 1 a 5."}
        assert await customer.emit("rate", {"score": 5, "comment": "Excelente"}) == {"rated": True}
        assert (await customer.emit("rate", {"score": 1}))["error"] == "Ya recibimos su calificación. ¡Gracias!"
        detail = await _detail(base, auth_headers, cid)
        assert (detail["conversation"]["rating"], detail["conversation"]["rating_comment"]) == (5, "Excelente")
        kinds = [e["kind"] for e in detail["events"]]
        assert kinds == [
            "queued",
            "no_agents",  # nobody of L1 was online yet
            "claimed",
            "transferred",
            "no_agents",  # nor of L3
            "claimed",
            "note",
            "handed_back",
            "closed",
            "rated",
        ]
        assert "Revisar firmware" not in [m["text"] for m in detail["messages"]]  # notes stay internal
        seqs = [m["seq"] for m in detail["messages"]]
        assert seqs == list(range(1, len(seqs) + 1))
    finally:
        for peer in (customer, laura, sofia):
            await peer.close()


async def _detail(base: str, headers: dict[str, dict[str, str]], cid: str) -> dict[str, Any]:
    response = _api(base, headers["supervisor"], "GET", f"/conversations/{cid}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_rate_and_size_limits_give_a_clear_error_and_store_nothing(lone_backend, auth_headers) -> None:
    base = lone_backend.base_url
    customer = await _queued_customer(base, auth_headers, "L2")
    try:
        # Sent all at once, so the bucket's refill (2 per second) cannot keep up even when
        # the machine is slow; sent one after another, a loaded server could keep pace.
        acks = await asyncio.gather(*(customer.send(f"mensaje {n}", retry=False) for n in range(25)))
        refused = [a for a in acks if a and "error" in a]
        stored = [a for a in acks if a and "seq" in a]
        assert refused and stored  # a burst of 10, then about 2 per second
        assert refused[0] == {
            "error": "Está enviando mensajes demasiado rápido. Espere unos segundos y vuelva a intentarlo.",
            "retry": True,
        }
        await asyncio.sleep(1.0)  # the bucket refills
        too_long = await customer.send("x" * 2001)
        assert too_long is not None and too_long["error"].startswith("El mensaje es demasiado largo")
        detail = await _detail(base, auth_headers, customer.conversation_id or "")
        texts = [m["text"] for m in detail["messages"] if m["role"] == "customer"]
        assert len(texts) == len(stored)
        # A socket's resume only ever replays its own conversation.
        other = await Customer(base, widget_token(base, MARIA)).connect()
        replay = await other.emit("resume", {"conversation_id": customer.conversation_id, "last_seq": 0})
        assert all(m["conversation_id"] == other.conversation_id for m in other.seen.values())
        assert replay["replayed"] == len(other.seen)
        await other.close()
    finally:
        await customer.close()


async def test_an_agent_who_reconnects_keeps_their_chats(lone_backend, auth_headers) -> None:
    base = lone_backend.base_url
    customer = await _queued_customer(base, auth_headers, "L2")
    cid = customer.conversation_id or ""
    diego = await AgentPeer(base, _token(base, "l2")).connect()
    try:
        assert _api(base, auth_headers["l2"], "POST", f"/conversations/{cid}/claim").status_code == 200
        await diego.watch(cid)
        await diego.drop()
        await customer.send("Escribo mientras el agente no está")
        await diego.connect()  # re-watches from its last seq
        assert cid in [c["conversation_id"] for c in diego.event("hello")[-1]["chats"]]
        await diego.wait_text("Escribo mientras el agente no está")
        await customer.send("Y otra vez, ya conectado")
        await diego.wait_text("Y otra vez, ya conectado")
        _api(base, auth_headers["l2"], "POST", f"/conversations/{cid}/close", json={"resolution": "Resuelto"})
    finally:
        await customer.close()
        await diego.close()


async def test_100_forced_reconnects_lose_nothing(lone_backend, auth_headers) -> None:
    """The customer's connection drops 100 times in the middle of an exchange with an agent
    (messages in flight, acks lost); the agent's drops every 10th round. At the end both
    hold every message exactly once, in order."""
    base = lone_backend.base_url
    customer = await _queued_customer(base, auth_headers, "L2")
    cid = customer.conversation_id or ""
    agent = await AgentPeer(base, _token(base, "supervisor")).connect()
    try:
        assert _api(base, auth_headers["supervisor"], "POST", f"/conversations/{cid}/claim").status_code == 200
        await agent.watch(cid)
        for n in range(100):
            in_flight = asyncio.ensure_future(customer.send(f"cliente {n}"))
            await agent.say(f"agente {n}")
            await asyncio.sleep(0.005 * (n % 4))
            await customer.drop()  # mid-exchange: the message above may or may not be stored
            await in_flight
            if n % 10 == 9:
                await agent.drop()
                await agent.connect()
            await customer.connect()  # resumes from its last seq and resends what was not acked
        await agent.resend_pending()
        detail = await _detail(base, auth_headers, cid)
        stored = detail["messages"]
        seqs = [m["seq"] for m in stored]
        assert seqs == list(range(1, len(seqs) + 1))
        for who in ("cliente", "agente"):
            texts = [m["text"] for m in stored if m["text"].startswith(who + " ")]
            assert texts == [f"{who} {n}" for n in range(100)], f"{who}: lost, duplicated or reordered"
        assert not customer.pending and not agent.pending
        last = seqs[-1]
        for _ in range(100):
            if set(customer.seen) | set(customer.acked.values()) >= set(seqs) and set(agent.seen) >= set(seqs):
                break
            await asyncio.sleep(0.05)
        assert set(customer.seen) | set(customer.acked.values()) == set(range(1, last + 1))
        assert set(agent.seen) | set(agent.acked.values()) == set(range(1, last + 1))
        # What each side saw carries the stored text at that seq: no stale or swapped copies.
        by_seq = {m["seq"]: m["text"] for m in stored}
        assert all(by_seq[s] == m["text"] for s, m in customer.seen.items())
        assert all(by_seq[s] == m["text"] for s, m in agent.seen.items())
    finally:
        await customer.close()
        await agent.close()


async def test_a_p1_waiting_with_nobody_online_alerts_the_on_call_level_3(lone_backend, auth_headers) -> None:
    base = lone_backend.base_url
    created = _api(
        base,
        {**auth_headers["supervisor"], "Idempotency-Key": f"p1-{uuid.uuid4().hex}"},
        "POST",
        "/tickets",
        json={
            "customer": "CABLEANDINA",
            "contact": ANA,
            "type": "network_outage",
            "title": "Red caída en Bogotá",
            "facts": {"production_down": True},
        },
    )
    assert created.status_code == 201, created.text
    ticket = created.json()
    assert ticket["priority"] == 1
    customer = await Customer(base, widget_token(base, ANA)).connect()
    try:
        response = _api(
            base,
            service_headers(conversation_id=customer.conversation_id),
            "POST",
            f"/conversations/{customer.conversation_id}/handoff",
            json={"tier": "L3", "reason": "P1", "ticket": ticket["number"]},
        )
        assert response.status_code == 200
        for _ in range(100):
            texts = [m["text"] for m in customer.seen.values()]
            if any(t.startswith("En este momento no hay especialistas de Soporte de Nivel 3") for t in texts):
                break
            await asyncio.sleep(0.1)
        [notice] = [t for t in texts if t.startswith("En este momento no hay especialistas de Soporte de Nivel 3")]
        assert ticket["number"] in notice and ANA in notice
        async with httpx.AsyncClient(timeout=10) as client:
            mails = (await client.get(f"{base}/demo/api/mailbox", params={"to": "l3@promptlink.example"})).json()
        subjects = [m["subject"] for m in mails["items"]]
        assert f"[{ticket['number']}] P1 sin especialistas conectados: Red caída en Bogotá" in subjects
    finally:
        await customer.close()
