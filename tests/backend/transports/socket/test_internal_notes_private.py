"""Internal notes (the console's «Nota interna» tab) reach staff only: no event of the customer's
socket ever carries one (issue #15), while the agents watching the chat get it as `note`."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import socketio

from testkit.chat_client import widget_token
from testkit.demo import ANA, DEMO_PASSWORDS, agent_token, service_headers
from testkit.live_clients import AgentPeer


def _api(base: str, headers: dict[str, str], method: str, path: str, **kw: Any) -> httpx.Response:
    return httpx.request(method, f"{base}/api/v1{path}", headers=headers, timeout=15, **kw)


async def test_the_customer_never_receives_an_internal_note(lone_backend) -> None:
    base = lone_backend.base_url
    secret = f"Nota secreta {uuid.uuid4().hex}"
    heard: list[tuple[str, Any]] = []
    customer = socketio.AsyncClient(reconnection=False)

    async def every_event(event: str, *args: Any) -> None:  # catch-all: every event of /chat
        heard.append((event, args))

    customer.on("*", every_event, namespace="/chat")
    await customer.connect(
        base, namespaces=["/chat"], auth={"identity": widget_token(base, ANA)}, transports=["websocket"]
    )
    token = agent_token(base, "supervisor@promptlink.example", DEMO_PASSWORDS["supervisor@promptlink.example"])
    boss = await AgentPeer(base, token).connect()
    try:
        for _ in range(200):
            if any(e == "session" for e, _ in heard):
                break
            await asyncio.sleep(0.02)
        [(_, (session,))] = [h for h in heard if h[0] == "session"]
        cid = session["conversation_id"]
        ack = await customer.call("message", {"client_msg_id": uuid.uuid4().hex, "text": "hola"}, namespace="/chat")
        assert "seq" in ack
        queued = _api(
            base,
            service_headers(conversation_id=cid),
            "POST",
            f"/conversations/{cid}/handoff",
            json={"tier": "L2", "reason": "Pide una persona", "ticket": None},
        )
        assert queued.status_code == 200, queued.text
        headers = {"Authorization": f"Bearer {token}"}
        assert _api(base, headers, "POST", f"/conversations/{cid}/claim").status_code == 200
        await boss.watch(cid)
        note = _api(base, headers, "POST", f"/conversations/{cid}/notes", json={"text": secret})
        assert note.status_code == 201, note.text
        await boss.wait_event("note", lambda d: d["text"] == secret)  # staff get it
        # A reply after the note: once the customer has it, the note would have come before.
        await boss.say("Sigo con su caso.")
        for _ in range(500):
            if any(e == "message" and args[0]["text"] == "Sigo con su caso." for e, args in heard):
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the reply never reached the customer")
        assert secret not in json.dumps(heard, ensure_ascii=False)
        assert not [e for e, _ in heard if e == "note"]
        closed = _api(base, headers, "POST", f"/conversations/{cid}/close", json={"resolution": "Atendido"})
        assert closed.status_code == 200, closed.text  # the supervisor's seat is free for the next tests
    finally:
        await customer.disconnect()
        await boss.close()
