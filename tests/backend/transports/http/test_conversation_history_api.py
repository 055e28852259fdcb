"""`GET /api/v1/conversations/history` (the console's «Recientes» / «Cerradas» with search) and the waiting
cards' previews in `GET /api/v1/queues/chats`, against a real backend."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from testkit.api_roles import ALL_ROLES, STAFF_ONLY, call, expect
from testkit.chat_client import ChatClient, widget_token
from testkit.demo import DEMO_PASSWORDS, agent_headers, hand_off, service_headers
from testkit.processes import Running, start_lone_backend

ANA = "ana.gomez@cableandina.example"


@pytest.fixture(scope="module")
def own_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, dict[str, dict[str, str]]]]:
    """A backend of this module's: its claims would change the shared backend's measured waits."""
    running = start_lone_backend(tmp_path_factory.mktemp("history-api"))
    headers = {email.split("@")[0]: agent_headers(running.base_url, email) for email in DEMO_PASSWORDS}
    yield running, headers
    running.stop()


def _history(lone_backend, auth_headers, role: str, **params: Any) -> httpx.Response:
    return call(lone_backend, auth_headers, role, "GET", "/conversations/history", params=params)


def _ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [c["conversation_id"] for c in response.json()["conversations"]]


async def _ana_says(lone_backend, *texts: str) -> str:
    client = await ChatClient(lone_backend.base_url).connect(identity=widget_token(lone_backend.base_url, ANA))
    try:
        for text in texts:
            assert "seq" in await client.send(text, uuid.uuid4().hex)
        return str(client.session["conversation_id"])
    finally:
        await client.close()


def _ticket(lone_backend, auth_headers, title: str) -> str:
    response = httpx.post(
        f"{lone_backend.base_url}/api/v1/tickets",
        json={"customer": "CABLEANDINA", "contact": ANA, "type": "software_bug", "title": title},
        headers=auth_headers["supervisor"],
        timeout=15,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


def _queue_claim_close(lone_backend, auth_headers, cid: str, *, tier: str, agent: str, ticket: str | None) -> None:
    handoff = httpx.post(
        f"{lone_backend.base_url}/api/v1/conversations/{cid}/handoff",
        json={"tier": tier, "reason": "Pide una persona", "ticket": ticket},
        headers=service_headers(conversation_id=cid),
        timeout=15,
    )
    assert handoff.status_code == 200, handoff.text
    assert call(lone_backend, auth_headers, agent, "POST", f"/conversations/{cid}/claim", json={}).status_code == 200
    closed = call(lone_backend, auth_headers, agent, "POST", f"/conversations/{cid}/close", json={"resolution": "Ok"})
    assert closed.status_code == 200, closed.text


@pytest.mark.parametrize("role", ALL_ROLES)
def test_history_per_role(lone_backend, auth_headers, role) -> None:
    response = _history(lone_backend, auth_headers, role)
    assert response.status_code == expect(STAFF_ONLY)[role], response.text
    if response.status_code == 200:
        body = response.json()
        assert set(body) == {"conversations", "total", "limit", "offset"}
        assert (body["limit"], body["offset"]) == (20, 0)
    else:
        assert response.json()["message"] in ("No tiene permiso para esta acción.", "Debe iniciar sesión.")


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x" * 101},
        {"limit": "51"},
        {"limit": "0"},
        {"offset": "-1"},
        {"limit": "muchos"},
        {"status": "open"},
    ],
)
def test_history_bounds(lone_backend, auth_headers, params) -> None:
    response = _history(lone_backend, auth_headers, "supervisor", **params)
    assert response.status_code == 422, response.text
    assert response.json()["message"].startswith("El campo «")


async def test_recent_closed_and_search_by_name_code_ticket_and_text(own_backend) -> None:
    lone_backend, auth_headers = own_backend
    word = "zafiro" + uuid.uuid4().hex[:8]
    ticket = _ticket(lone_backend, auth_headers, "Portal caído")
    mine = await _ana_says(lone_backend, f"El portal dice {word} al entrar")
    _queue_claim_close(lone_backend, auth_headers, mine, tier="L1", agent="l1", ticket=ticket)
    upper = await _ana_says(lone_backend, f"Otra cosa: {word} en el núcleo")
    _queue_claim_close(lone_backend, auth_headers, upper, tier="L3", agent="l3", ticket=None)

    # «Recientes»: the chats the agent took, with the customer's last words.
    recent = _history(lone_backend, auth_headers, "l1", status="recent", q=word)
    assert _ids(recent) == [mine]
    [item] = recent.json()["conversations"]
    assert item["last_message"] == f"El portal dice {word} al entrar"
    assert (item["mode"], item["ticket"], item["customer"]) == ("closed", ticket, "CABLEANDINA")
    assert _ids(_history(lone_backend, auth_headers, "l3", status="recent", q=word)) == [upper]

    # «Cerradas» by tier: Level 1 reads L1 only; Level 3 the lower levels too; the supervisor all.
    assert _ids(_history(lone_backend, auth_headers, "l1", q=word)) == [mine]
    assert _ids(_history(lone_backend, auth_headers, "l2", q=word)) == [mine]
    assert _ids(_history(lone_backend, auth_headers, "l3", q=word)) == [upper, mine]  # most recent first
    both = _history(lone_backend, auth_headers, "supervisor", status="closed", q=word)
    assert _ids(both) == [upper, mine] and both.json()["total"] == 2
    page = _history(lone_backend, auth_headers, "supervisor", q=word, limit="1", offset="1")
    assert _ids(page) == [mine] and page.json()["total"] == 2

    # By ticket number, customer code and name (case-insensitive); wildcards match themselves.
    assert mine in _ids(_history(lone_backend, auth_headers, "l1", q=ticket))
    assert upper not in _ids(_history(lone_backend, auth_headers, "l1", q=ticket))
    assert mine in _ids(_history(lone_backend, auth_headers, "l1", q="cableandina", limit="50"))
    assert mine in _ids(_history(lone_backend, auth_headers, "l1", q="Cable Andina", limit="50"))
    assert _ids(_history(lone_backend, auth_headers, "supervisor", q=word[:4] + "%" + word[5:])) == []


async def test_waiting_cards_carry_the_last_message_and_the_tickets_priority(lone_backend, auth_headers) -> None:
    ticket = _ticket(lone_backend, auth_headers, "Red caída")
    long_text = "<b>Hola</b> " + "a" * 300
    cid = await _ana_says(lone_backend, "primero", long_text)
    hand_off(lone_backend.base_url, cid, "L1", ticket)
    queues = call(lone_backend, auth_headers, "l1", "GET", "/queues/chats").json()["queues"]
    [row] = [r for q in queues for r in q["conversations"] if r["conversation_id"] == cid]
    assert row["last_message"].startswith("<b>Hola</b> aaa") and row["last_message"].endswith("…")
    assert len(row["last_message"]) == 140
    assert row["priority"] in (1, 2, 3, 4)
