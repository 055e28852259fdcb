"""The IDOR matrix and the REST API's edge checks against a real backend (issue #13: F1, F5, F6,
F13 huge ids and a wrong `recipe`, F15 `%` in search and what each tier may read).

Every ticket, conversation, RMA, bug, alarm, training and deployment endpoint that takes an id
or a customer is called as the owner contact (Ana, CABLEANDINA), a colleague of hers (Luis, same
company), another company's contact (María, TELECARIBE), an anonymous caller, an L1 agent, an L3
agent, a supervisor and an administrator; each answer is the one `docs/security.md` states:
a customer gets 404 for anything of another company (and for another person's chat), exactly as
for an id that does not exist; staff get 403 outside their role or tiers; anonymous callers 401.
Endpoints that change a conversation get a fresh conversation per call.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from testkit.api_roles import headers
from testkit.chat_client import ChatClient, widget_token

ANA = "ana.gomez@cableandina.example"
LUIS = "luis.perez@cableandina.example"
MARIA = "maria.rodriguez@telecaribe.example"
ROLES = ["ana", "luis", "maria", "anonymous", "l1", "l3", "supervisor", "admin"]
CUSTOMERS = ["ana", "luis", "maria"]
STAFF = ["l1", "l3", "supervisor", "admin"]
HUGE = "999999999999999999999"  # beyond every integer column (and int64)
RATING_QUESTION = "La conversación ha terminado."


_CLIENT = httpx.Client(timeout=15)  # one keep-alive connection for the module's few hundred requests


@pytest.fixture(scope="module", autouse=True)
def _close_client() -> Iterator[None]:
    yield
    _CLIENT.close()


def call(
    lone_backend, auth_headers, role: str, method: str, path: str, *, extra: dict[str, str] | None = None, **kw: Any
) -> httpx.Response:
    """One request to `/api/v1{path}` as `role` (the callers of `api_roles`), with `extra` headers."""
    return _CLIENT.request(
        method,
        f"{lone_backend.base_url}/api/v1{path}",
        headers={**headers(auth_headers, role), **(extra or {})},
        **kw,
    )


def row(**statuses: int) -> dict[str, int]:
    """An expected status per role; `customers=`/`staff=` set a group, named roles override."""
    table: dict[str, int] = {}
    for group, members in (("customers", CUSTOMERS), ("staff", STAFF)):
        if group in statuses:
            table.update(dict.fromkeys(members, statuses.pop(group)))
    table.update({"anonymous": 401}, **statuses)
    missing = set(ROLES) - set(table)
    assert not missing, f"no expected status for {missing}"
    return table


@dataclass(frozen=True)
class World:
    t_l1: str  # CABLEANDINA ticket in L1
    t_l3: str  # CABLEANDINA ticket in L3
    rma: str
    bug: str
    training: int


def _ok(response: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


@pytest.fixture(scope="module")
def world(lone_backend, auth_headers) -> World:
    def ticket(**body: Any) -> dict[str, Any]:
        payload = {"customer": "CABLEANDINA", "contact": ANA, "title": f"IDOR {uuid.uuid4().hex[:8]}"} | body
        return _ok(call(lone_backend, auth_headers, "supervisor", "POST", "/tickets", json=payload))

    t_l1 = ticket(type="configuration", facts={"information_request": True})
    t_l3 = ticket(type="network_outage", facts={"production_down": True})
    assert (t_l1["tier"], t_l3["tier"]) == ("L1", "L3")
    hardware = ticket(type="hardware_failure", device="cmts-bog-02", facts={"damaged": True})
    bug = _ok(call(lone_backend, auth_headers, "supervisor", "POST", "/bugs", json={"title": "Falla IDOR"}))
    training = _ok(
        call(
            lone_backend,
            auth_headers,
            "ana",
            "POST",
            "/training-requests",
            json={
                "requested_date": (date.today() + timedelta(days=60)).isoformat(),
                "attendees": 3,
                "site": "Sede principal",
                "facilities": {"room": True, "projector": True, "whiteboard": True, "workstations_internet": True},
            },
        )
    )
    return World(t_l1["number"], t_l3["number"], hardware["rma"]["number"], bug["key"], int(training["id"]))


# --- tickets, RMAs, bugs, alarms, training, deployment, customers: one request per role ------------

READS = [
    # (case, method, path, body, expected)
    ("ticket-l1", "GET", "/tickets/{t_l1}", None, row(customers=200, maria=404, staff=200)),
    # F15: an L1 agent does not read an L3 ticket it never handled; L3 reads the lower tiers.
    ("ticket-l3", "GET", "/tickets/{t_l3}", None, row(customers=200, maria=404, staff=200, l1=403)),
    ("ticket-huge", "GET", f"/tickets/{HUGE}", None, row(customers=404, staff=404)),
    (
        "ticket-l1-note",
        "POST",
        "/tickets/{t_l1}/notes",
        {"text": "nota interna"},
        row(customers=403, maria=404, staff=201),
    ),
    (
        "ticket-l3-note",
        "POST",
        "/tickets/{t_l3}/notes",
        {"text": "nota interna"},
        row(customers=403, maria=404, staff=201, l1=403),
    ),
    (
        "ticket-l1-update",
        "POST",
        "/tickets/{t_l1}/updates",
        {"text": "Revisamos su caso."},
        row(customers=403, maria=404, staff=201, l3=403),
    ),
    (
        "ticket-l3-update",
        "POST",
        "/tickets/{t_l3}/updates",
        {"text": "Revisamos su caso."},
        row(customers=403, maria=404, staff=201, l1=403),
    ),
    (
        "ticket-l1-comment",
        "POST",
        "/tickets/{t_l1}/comments",
        {"text": "Más información"},
        row(customers=201, maria=404, staff=403),
    ),
    (
        "ticket-l1-patch",
        "PATCH",
        "/tickets/{t_l1}",
        {"priority": 4, "reason": "Consulta sin urgencia"},
        row(customers=403, maria=404, staff=200, l3=403),
    ),
    ("rma-read", "GET", "/rmas/{rma}", None, row(customers=200, maria=404, staff=200)),
    ("rma-patch", "PATCH", "/rmas/{rma}", {"status": "no-such-status"}, row(customers=403, staff=422)),
    ("bug-read", "GET", "/bugs/{bug}", None, row(customers=403, staff=200)),
    ("bug-patch", "PATCH", "/bugs/{bug}", {"state": "no-such-state"}, row(customers=403, staff=422, l1=403)),
    (
        "bug-link",
        "POST",
        "/bugs/{bug}/tickets",
        {"ticket": "PL-0000-000000"},
        row(customers=403, staff=404, l1=403),
    ),
    ("alarm-assign", "POST", "/alarms/987654/assign", {"device": "x"}, row(customers=403, staff=404, l3=403)),
    ("alarm-assign-huge", "POST", f"/alarms/{HUGE}/assign", {"device": "x"}, row(customers=404, staff=404)),
    (
        "training-patch",
        "PATCH",
        "/training-requests/{training}",
        {"status": "no-such-status"},
        row(customers=403, staff=422),
    ),
    ("training-patch-huge", "PATCH", f"/training-requests/{HUGE}", {"status": "x"}, row(customers=404, staff=404)),
    ("plan-read", "GET", "/customers/CABLEANDINA/deployment-plan", None, row(customers=200, maria=404, staff=200)),
    ("plan-patch", "PATCH", "/customers/CABLEANDINA/deployment-plan", {"stage": "x"}, row(customers=403, staff=422)),
    ("devices", "GET", "/customers/CABLEANDINA/devices", None, row(customers=200, maria=404, staff=200)),
    ("customer", "GET", "/customers/CABLEANDINA", None, row(customers=200, maria=404, staff=200)),
    ("conversation-unknown", "GET", f"/conversations/{uuid.uuid4()}", None, row(customers=403, staff=404)),
    (
        "conversation-unknown-close",
        "POST",
        f"/conversations/{uuid.uuid4()}/close",
        {"resolution": "x"},
        row(customers=404, staff=404),
    ),
]


@pytest.mark.parametrize(
    ("case", "method", "path", "body", "expected", "role"),
    [(*case, role) for case in READS for role in ROLES],
    ids=[f"{case[0]}-{role}" for case in READS for role in ROLES],
)
def test_idor_matrix(lone_backend, auth_headers, world, case, method, path, body, expected, role) -> None:
    url = path.format(**world.__dict__)
    response = call(lone_backend, auth_headers, role, method, url, **({"json": body} if body is not None else {}))
    assert response.status_code == expected[role], response.text
    if response.status_code >= 400:
        assert response.json()["message"]  # every refusal has its Spanish sentence, never a bare 500
    if role in CUSTOMERS and response.status_code == 200 and "ticket" in case:
        data = response.json()
        assert data["customer"] == "CABLEANDINA" and all(e["public"] for e in data["history"])


@pytest.mark.parametrize("role", CUSTOMERS)
@pytest.mark.parametrize("path", ["/tickets", "/rmas", "/training-requests", "/alarms"])
def test_a_customer_filter_never_reaches_another_company(lone_backend, auth_headers, role, path) -> None:
    own = "TELECARIBE" if role == "maria" else "CABLEANDINA"
    other = "CABLEANDINA" if role == "maria" else "TELECARIBE"
    response = call(lone_backend, auth_headers, role, "GET", f"{path}?customer={other}&limit=100")
    assert response.status_code == 200, response.text
    data = response.json()
    items = data.get("items", data.get("alarms", []))
    assert all(item.get("customer", own) == own for item in items), items
    if path == "/alarms":
        assert data["customer"] == own


# --- conversations: a fresh chat per call ---------------------------------------------------------


async def chat_of(lone_backend, contact: str | None = ANA) -> str:
    """A stored conversation of `contact` (None: an anonymous visitor), through the real widget socket."""
    client = ChatClient(lone_backend.base_url)
    auth = {"identity": widget_token(lone_backend.base_url, contact)} if contact else {}
    await client.connect(**auth)
    try:
        ack = await client.send("hola", f"idor-{uuid.uuid4().hex}")
        assert "error" not in ack, ack
    finally:
        await client.close()
    return str(client.session["conversation_id"])


def handoff(lone_backend, auth_headers, cid: str, tier: str, ticket: str | None = None) -> None:
    body = {"tier": tier, "reason": "Prueba de permisos", "ticket": ticket}
    _ok(call(lone_backend, auth_headers, "supervisor", "POST", f"/conversations/{cid}/handoff", json=body), 200)


def conversation(lone_backend, auth_headers, cid: str) -> dict[str, Any]:
    return _ok(call(lone_backend, auth_headers, "supervisor", "GET", f"/conversations/{cid}"), 200)


CHAT_CASES = [
    # (case, method, suffix, body, state before, expected)
    ("detail", "GET", "", None, "queued", row(customers=403, staff=200)),
    ("note", "POST", "/notes", {"text": "nota interna"}, "queued", row(customers=403, staff=201)),
    (
        "handoff",
        "POST",
        "/handoff",
        {"tier": "L1", "reason": "x", "ticket": None},
        "bot",
        row(customers=403, staff=200),
    ),
    ("claim", "POST", "/claim", None, "queued", row(ana=403, luis=404, maria=404, staff=200, l3=403, admin=403)),
    (
        "transfer",
        "POST",
        "/transfer",
        {"tier": "L2", "reason": "Necesita Nivel 2"},
        "queued",
        row(ana=403, luis=404, maria=404, staff=200, l3=403),
    ),
    ("hand-back", "POST", "/hand-back", None, "queued", row(ana=403, luis=404, maria=404, staff=200, l3=403)),
    # F1: only the chat's own contact closes it as a customer; staff close a live chat they handle (409 here).
    ("close", "POST", "/close", {"resolution": "x"}, "queued", row(ana=200, luis=404, maria=404, staff=409)),
]


async def _pool(lone_backend, count: int, batch: int = 8) -> list[str]:
    """`count` conversations of Ana, a few sockets at a time (the per-IP connection bound)."""
    cids: list[str] = []
    while len(cids) < count:
        size = min(batch, count - len(cids))
        cids += await asyncio.gather(*(chat_of(lone_backend) for _ in range(size)))
    return cids


@pytest.fixture(scope="module")
async def chats(lone_backend, auth_headers) -> dict[tuple[str, str], str]:
    """A fresh conversation of Ana per (case, role) of CHAT_CASES, in the state the case needs."""
    keys = [(case[0], role) for case in CHAT_CASES for role in ROLES]
    cids = dict(zip(keys, await _pool(lone_backend, len(keys)), strict=True))
    queued = [cids[(case[0], role)] for case in CHAT_CASES if case[4] == "queued" for role in ROLES]
    async with httpx.AsyncClient(base_url=f"{lone_backend.base_url}/api/v1", timeout=30) as client:
        body = {"tier": "L1", "reason": "Prueba de permisos", "ticket": None}
        for start in range(0, len(queued), 8):
            answers = await asyncio.gather(
                *(
                    client.post(f"/conversations/{cid}/handoff", json=body, headers=auth_headers["supervisor"])
                    for cid in queued[start : start + 8]
                )
            )
            assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    return cids


@pytest.mark.parametrize(
    ("case", "method", "suffix", "body", "state", "expected", "role"),
    [(*case, role) for case in CHAT_CASES for role in ROLES],
    ids=[f"chat-{case[0]}-{role}" for case in CHAT_CASES for role in ROLES],
)
def test_idor_matrix_conversations(
    lone_backend, auth_headers, chats, case, method, suffix, body, state, expected, role
) -> None:
    cid = chats[(case, role)]
    kwargs = {"json": body} if body is not None else {}
    response = call(lone_backend, auth_headers, role, method, f"/conversations/{cid}{suffix}", **kwargs)
    assert response.status_code == expected[role], response.text
    if response.status_code in (403, 404) and role in CUSTOMERS:
        assert response.json()["message"] in ("No tiene permiso para esta acción.", "La conversación no existe.")
    if case == "claim" and response.status_code == 200:  # free the agent's seat for the next case
        _ok(call(lone_backend, auth_headers, role, "POST", f"/conversations/{cid}/hand-back"), 200)
    if response.status_code == 404:
        after = conversation(lone_backend, auth_headers, cid)["conversation"]
        assert after["mode"] == state  # nothing changed


async def test_f1_another_company_cannot_close_a_live_chat(lone_backend, auth_headers) -> None:
    """TELECARIBE's contact closed CABLEANDINA's live chat with an L2 agent (issue #13 F1)."""
    cid = await chat_of(lone_backend)
    handoff(lone_backend, auth_headers, cid, "L2")
    _ok(call(lone_backend, auth_headers, "l2", "POST", f"/conversations/{cid}/claim"), 200)
    for role, status in (("maria", 404), ("luis", 404), ("anonymous", 401)):
        refused = call(lone_backend, auth_headers, role, "POST", f"/conversations/{cid}/close", json={})
        assert refused.status_code == status, refused.text
        if status == 404:  # word for word what a conversation that does not exist answers
            assert refused.json() == {
                "detail": f"conversation {cid} not found",
                "message": "La conversación no existe.",
            }
    detail = conversation(lone_backend, auth_headers, cid)
    assert (detail["conversation"]["mode"], detail["conversation"]["agent_name"]) == ("human", "Diego Nivel Dos")
    assert not any(m["text"].startswith(RATING_QUESTION) for m in detail["messages"])
    # The owner still ends her own chat, over REST and over her socket.
    closed = call(lone_backend, auth_headers, "ana", "POST", f"/conversations/{cid}/close", json={})
    assert closed.status_code == 200 and closed.json()["mode"] == "closed", closed.text


@pytest.mark.parametrize("contact", [ANA, None], ids=["identified", "anonymous-visitor"])
async def test_the_widget_still_ends_its_own_chat(lone_backend, contact) -> None:
    client = ChatClient(lone_backend.base_url)
    await client.connect(**({"identity": widget_token(lone_backend.base_url, contact)} if contact else {}))
    try:
        assert "error" not in await client.send("hola", f"idor-{uuid.uuid4().hex}")
        ended = await client.sio.call("end", {}, namespace="/chat", timeout=10)
    finally:
        await client.close()
    assert ended == {"mode": "closed"}


# --- F5: Idempotency-Key per caller ----------------------------------------------------------------


def test_f5_an_idempotency_key_replayed_by_another_caller_is_another_ticket(lone_backend, auth_headers) -> None:
    key = f"shared-{uuid.uuid4()}"

    def create(role: str, title: str) -> httpx.Response:
        body = {"customer": "CABLEANDINA", "type": "configuration", "title": title}
        return call(lone_backend, auth_headers, role, "POST", "/tickets", json=body, extra={"Idempotency-Key": key})

    first = create("ana", "Secreto de Ana")
    assert first.status_code == 201, first.text
    stolen = create("maria", "Consulta de María")
    assert stolen.status_code == 201, stolen.text
    assert stolen.json()["number"] != first.json()["number"]
    assert (stolen.json()["title"], stolen.json()["customer"]) == ("Consulta de María", "TELECARIBE")
    assert "Secreto de Ana" not in stolen.text
    colleague = create("luis", "Consulta de Luis")  # same company, another person: another ticket too
    assert colleague.status_code == 201 and colleague.json()["number"] != first.json()["number"]
    agent = create("l1", "Llamada")
    assert agent.status_code == 201 and agent.json()["number"] != first.json()["number"]
    retry = create("ana", "Secreto de Ana")  # the same caller's retry: the same ticket
    assert retry.status_code == 200 and retry.json()["number"] == first.json()["number"]


# --- F6: a ticket's chat must be the caller's own ------------------------------------------------


async def test_f6_a_ticket_cannot_name_another_customers_chat(lone_backend, auth_headers) -> None:
    cid = await chat_of(lone_backend)  # Ana's chat
    body = {"type": "configuration", "title": "Ticket en chat ajeno", "conversation_id": cid}
    for role in ("maria", "luis"):
        refused = call(lone_backend, auth_headers, role, "POST", "/tickets", json=body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["message"] == "La conversación no existe."
    own = call(lone_backend, auth_headers, "ana", "POST", "/tickets", json=body)
    assert own.status_code == 201 and own.json()["conversation_id"] == cid, own.text
    detail = conversation(lone_backend, auth_headers, cid)
    assert not any("Ticket en chat ajeno" in m["text"] and "María" in m["text"] for m in detail["messages"])


# --- F15: what each tier reads --------------------------------------------------------------------


async def test_f15_an_agent_reads_lower_tiers_and_what_it_handled(lone_backend, auth_headers, world) -> None:
    body = {
        "customer": "CABLEANDINA",
        "contact": ANA,
        "type": "configuration",
        "title": "Escala a L3",
        "facts": {"information_request": True},
    }
    number = _ok(call(lone_backend, auth_headers, "supervisor", "POST", "/tickets", json=body))["number"]
    path = f"/tickets/{number}"
    _ok(call(lone_backend, auth_headers, "l1", "PATCH", path, json={"assignee": "l1@promptlink.example"}), 200)
    moved = call(lone_backend, auth_headers, "l1", "PATCH", path, json={"tier": "L3", "reason": "Requiere L3"})
    assert moved.status_code == 200 and moved.json()["ticket"]["tier"] == "L3"
    # L1 handled it (assigned, then transferred it): it still reads it; L2 never did and may not.
    assert call(lone_backend, auth_headers, "l1", "GET", path).status_code == 200
    assert call(lone_backend, auth_headers, "l2", "GET", path).status_code == 403
    assert call(lone_backend, auth_headers, "l1", "POST", f"{path}/updates", json={"text": "x"}).status_code == 403

    # An L3 ticket whose chat an L1 agent took: readable once it took the chat.
    cid = await chat_of(lone_backend)
    outage = {"type": "network_outage", "title": "Red caída", "facts": {"production_down": True}}
    ticket = _ok(call(lone_backend, auth_headers, "ana", "POST", "/tickets", json=outage | {"conversation_id": cid}))
    assert ticket["tier"] == "L3"
    assert call(lone_backend, auth_headers, "l1", "GET", f"/tickets/{ticket['number']}").status_code == 403
    handoff(lone_backend, auth_headers, cid, "L1", ticket=ticket["number"])
    _ok(call(lone_backend, auth_headers, "l1", "POST", f"/conversations/{cid}/claim"), 200)
    try:
        assert call(lone_backend, auth_headers, "l1", "GET", f"/tickets/{ticket['number']}").status_code == 200
    finally:
        _ok(call(lone_backend, auth_headers, "l1", "POST", f"/conversations/{cid}/hand-back"), 200)

    # Lists follow the same rule: L1 lists no L3 ticket, L3 lists L1's.
    def listed(role: str, tier: str) -> set[str]:
        response = call(lone_backend, auth_headers, role, "GET", f"/tickets?tier={tier}&limit=200")
        assert response.status_code == 200, response.text
        return {t["tier"] for t in response.json()["items"]}

    assert listed("l1", "L3") == set()
    assert listed("l3", "L1") == {"L1"}


@pytest.mark.parametrize("path", ["/tickets", "/bugs"])
def test_f15_percent_and_underscore_are_searched_literally(lone_backend, auth_headers, path) -> None:
    marker = uuid.uuid4().hex[:10]
    title = f"Cobertura 100% nodo_{marker}"
    if path == "/tickets":
        body = {"customer": "CABLEANDINA", "type": "configuration", "title": title}
    else:
        body = {"title": title}
    _ok(call(lone_backend, auth_headers, "supervisor", "POST", path, json=body))

    def found(q: str) -> list[dict[str, Any]]:
        response = call(lone_backend, auth_headers, "supervisor", "GET", path, params={"q": q, "limit": 200})
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    for q in ("%", "_"):
        items = found(q)
        fields = ("number", "key", "title", "description", "product")
        assert items and all(any(q in str(item.get(f) or "") for f in fields) for item in items), (q, items)
    assert [i["title"] for i in found(f"100% nodo_{marker}")] == [title]
    assert found(f"100_ nodo%{marker}") == []  # `_` and `%` are not wildcards


# --- F13: huge ids and a wrong `recipe` type: 4xx, never 500 ------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/tickets/{HUGE}"),
        ("POST", f"/alarms/{HUGE}/assign"),
        ("PATCH", f"/training-requests/{HUGE}"),
        ("GET", f"/admin/models/{HUGE}"),
        ("POST", f"/admin/models/{HUGE}/activate"),
        ("POST", f"/admin/review/{HUGE}/label"),
        ("POST", f"/admin/review/{HUGE}/dismiss"),
        ("PATCH", f"/admin/users/{HUGE}"),
        ("POST", f"/admin/users/{HUGE}/password"),
        ("PATCH", "/admin/users/2147483648"),  # one past PostgreSQL's integer
        ("GET", f"/rmas/{HUGE}"),
        ("GET", f"/conversations/{HUGE}"),
    ],
)
def test_f13_huge_ids_are_404(lone_backend, auth_headers, method, path) -> None:
    response = call(lone_backend, auth_headers, "admin", method, path, json={"device": "x", "status": "x"})
    assert response.status_code == 404, response.text
    assert response.json()["message"]


@pytest.mark.parametrize("recipe", [["full"], {"name": "full"}, 3, True, None])
def test_f13_a_wrong_recipe_type_is_422(lone_backend, auth_headers, recipe) -> None:
    response = call(lone_backend, auth_headers, "admin", "POST", "/admin/models", json={"recipe": recipe})
    assert response.status_code == 422, response.text
    assert response.json()["message"] == "La receta debe ser «full» o «quick»."
