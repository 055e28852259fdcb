"""A specialist's update on a chat ticket reaches the customer's open chat (outbox → socket)."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from testkit.chat_client import ChatClient, widget_token


async def test_an_update_is_delivered_into_the_customers_conversation(lone_backend, auth_headers) -> None:
    base = lone_backend.base_url
    chat = await ChatClient(base).connect(identity=widget_token(base, "ana.gomez@cableandina.example"))
    try:
        cid = chat.session["conversation_id"]
        async with httpx.AsyncClient(base_url=base + "/api/v1", timeout=15) as api:
            created = await api.post(
                "/tickets",
                json={
                    "customer": "CABLEANDINA",
                    "type": "network_outage",
                    "title": f"Nodo {uuid.uuid4().hex[:6]}",
                    "facts": {"damaged": True},
                    "conversation_id": cid,
                    "channel": "chat",
                },
                headers=auth_headers["service_as_ana"],
            )
            assert created.status_code == 201
            number = created.json()["number"]
            update = await api.post(
                f"/tickets/{number}/updates",
                json={"text": "El técnico ya está en el nodo."},
                headers=auth_headers["supervisor"],
            )
            assert update.status_code == 201
            assert set(update.json()["event"]["data"]["channels"]) == {"email", "chat"}
        message = await chat.wait_for(lambda m: m["role"] == "agent", timeout=20)
        assert number in message["text"] and "El técnico ya está en el nodo." in message["text"]
        # The e-mail copy went to the notification party too, and both deliveries are marked sent.
        async with httpx.AsyncClient(timeout=10) as client:
            for _ in range(50):
                mails = await client.get(f"{base}/demo/api/mailbox", params={"to": "ana.gomez@cableandina.example"})
                if any(number in m["subject"] and m["state"] == "sent" for m in mails.json()["items"]):
                    break
                await asyncio.sleep(0.2)
            else:
                raise AssertionError("the update e-mail was not delivered")
    finally:
        await chat.close()
