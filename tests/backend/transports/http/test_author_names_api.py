"""Histories name the staff who wrote in them (the entry keeps the e-mail): a ticket's history and a
conversation's internal log, for staff readers."""

from __future__ import annotations

import uuid

import httpx

from testkit.api_roles import call
from testkit.chat_client import ChatClient, widget_token
from testkit.demo import hand_off

ANA = "ana.gomez@cableandina.example"


def test_ticket_history_names_the_author(lone_backend, auth_headers) -> None:
    created = httpx.post(
        f"{lone_backend.base_url}/api/v1/tickets",
        json={"customer": "CABLEANDINA", "contact": ANA, "type": "configuration", "title": "VLAN"},
        headers=auth_headers["supervisor"],
        timeout=15,
    )
    number = created.json()["number"]
    note = call(lone_backend, auth_headers, "supervisor", "POST", f"/tickets/{number}/notes", json={"text": "Revisar"})
    assert note.status_code in (200, 201), note.text
    history = call(lone_backend, auth_headers, "supervisor", "GET", f"/tickets/{number}").json()["history"]
    [entry] = [e for e in history if e["kind"] == "note"]
    assert entry["author"] == "supervisor@promptlink.example"
    assert entry["author_name"] == "Carlos Supervisor"


async def test_conversation_notes_name_the_author_at_once_and_after_reload(lone_backend, auth_headers) -> None:
    client = await ChatClient(lone_backend.base_url).connect(identity=widget_token(lone_backend.base_url, ANA))
    try:
        assert "seq" in await client.send("hola", uuid.uuid4().hex)
        cid = str(client.session["conversation_id"])
    finally:
        await client.close()
    hand_off(lone_backend.base_url, cid, "L1", None)
    note = call(lone_backend, auth_headers, "l1", "POST", f"/conversations/{cid}/notes", json={"text": "Ojo"})
    assert note.status_code in (200, 201), note.text
    assert note.json()["author_name"] == "Laura Nivel Uno"
    events = call(lone_backend, auth_headers, "l1", "GET", f"/conversations/{cid}").json()["events"]
    [entry] = [e for e in events if e["kind"] == "note"]
    assert (entry["author"], entry["author_name"]) == ("l1@promptlink.example", "Laura Nivel Uno")
