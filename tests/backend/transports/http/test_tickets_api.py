"""`/api/v1/tickets`, `/queues`, `/customers`, `/auth` against a real backend, for every role.

Role keys (fixture `auth_headers`): l1, l2, l3, supervisor, admin (agents), service,
service_as_ana (service on behalf of a contact), ana, luis (CABLEANDINA contacts),
maria (TELECARIBE), anonymous.
"""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from promptlink.transports.http.api import ErrorOut
from promptlink.transports.http.schemas.tickets import (
    EventCreated,
    PreviewOut,
    TicketChanged,
    TicketDetailOut,
    TicketList,
    UpdatePosted,
)

ALL_ROLES = ["l1", "l2", "l3", "supervisor", "admin", "service", "service_as_ana", "ana", "luis", "maria", "anonymous"]


def per_role(default: int, **statuses: int) -> dict[str, int]:
    """The status each role of ALL_ROLES gets: `default`, but `statuses` for the roles named."""
    return {role: statuses.get(role, default) for role in ALL_ROLES}


def api(lone_backend, path: str) -> str:
    return f"{lone_backend.base_url}/api/v1{path}"


def new_ticket(lone_backend, auth_headers, *, as_role: str = "supervisor", **body) -> dict:
    payload = {
        "customer": "CABLEANDINA",
        "contact": "luis.perez@cableandina.example",
        "type": "configuration",
        "title": f"Consulta {uuid.uuid4().hex[:6]}",
        "facts": {"information_request": True},
    } | body
    response = httpx.post(api(lone_backend, "/tickets"), json=payload, headers=auth_headers[as_role], timeout=15)
    assert response.status_code == 201, response.text
    TicketDetailOut.model_validate(response.json())
    return response.json()


CREATE_EXPECTED = per_role(201, anonymous=401)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_create_per_role(lone_backend, auth_headers, role) -> None:
    body = {"customer": "CABLEANDINA", "type": "configuration", "title": "Ayuda con la configuración"}
    response = httpx.post(api(lone_backend, "/tickets"), json=body, headers=auth_headers[role], timeout=15)
    assert response.status_code == CREATE_EXPECTED[role], response.text
    if response.status_code == 201:
        ticket = response.json()
        # A customer always files for its own company, whatever the body says.
        expected_customer = "TELECARIBE" if role == "maria" else "CABLEANDINA"
        assert ticket["customer"] == expected_customer
        if role in ("ana", "luis", "maria", "service_as_ana"):
            assert "facts" not in ticket and "priority_reason" not in ticket  # customer view


def test_the_same_idempotency_key_sent_100_times_concurrently_creates_one_ticket(lone_backend, auth_headers) -> None:
    key = f"retry-{uuid.uuid4()}"
    body = {
        "customer": "CABLEANDINA",
        "type": "network_outage",
        "title": "Nodo norte sin servicio",
        "facts": {"production_down": True},
    }

    async def fire() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=100)) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        api(lone_backend, "/tickets"), json=body, headers={**auth_headers["l3"], "Idempotency-Key": key}
                    )
                    for _ in range(100)
                )
            )

    responses = asyncio.run(fire())
    assert all(r.status_code in (200, 201) for r in responses), {r.status_code for r in responses}
    numbers = {r.json()["number"] for r in responses}
    assert len(numbers) == 1
    assert sum(r.status_code == 201 for r in responses) == 1
    found = httpx.get(
        api(lone_backend, "/tickets"), params={"q": "Nodo norte sin servicio"}, headers=auth_headers["supervisor"]
    ).json()
    assert found["total"] == 1 and found["items"][0]["priority"] == 1 and found["items"][0]["tier"] == "L3"


READ_EXPECTED = per_role(200, maria=404, anonymous=401)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_read_per_role_and_customers_see_only_their_own(lone_backend, auth_headers, role) -> None:
    ticket = new_ticket(lone_backend, auth_headers)
    note = httpx.post(
        api(lone_backend, f"/tickets/{ticket['number']}/notes"),
        json={"text": "interno: cliente VIP"},
        headers=auth_headers["supervisor"],
    )
    assert note.status_code == 201
    EventCreated.model_validate(note.json())
    response = httpx.get(api(lone_backend, f"/tickets/{ticket['number']}"), headers=auth_headers[role])
    assert response.status_code == READ_EXPECTED[role]
    if response.status_code == 200:
        TicketDetailOut.model_validate(response.json())
        kinds = [e["kind"] for e in response.json()["history"]]
        customer_view = role in ("ana", "luis", "service_as_ana")
        assert ("note" in kinds) is not customer_view
        assert all(e["public"] for e in response.json()["history"]) is customer_view


def test_list_is_scoped_by_role(lone_backend, auth_headers) -> None:
    l2_ticket = new_ticket(lone_backend, auth_headers, type="software_bug", facts={"damaged": True})
    caribe = new_ticket(lone_backend, auth_headers, customer="TELECARIBE", contact="maria.rodriguez@telecaribe.example")

    def numbers(role: str, **params) -> set[str]:
        response = httpx.get(api(lone_backend, "/tickets"), params={"limit": 200, **params}, headers=auth_headers[role])
        assert response.status_code == 200
        TicketList.model_validate(response.json())
        return {t["number"] for t in response.json()["items"]}

    assert l2_ticket["number"] in numbers("l2") and l2_ticket["number"] not in numbers("l1")
    assert l2_ticket["number"] in numbers("supervisor")
    assert caribe["number"] in numbers("maria") and caribe["number"] not in numbers("ana")
    assert all(n not in numbers("maria") for n in numbers("ana"))
    assert httpx.get(api(lone_backend, "/tickets"), headers=auth_headers["anonymous"]).status_code == 401


WORK_EXPECTED = per_role(403, l1=201, supervisor=201, admin=201, maria=404, anonymous=401)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_posting_an_update_needs_the_tickets_tier(lone_backend, auth_headers, role) -> None:
    ticket = new_ticket(lone_backend, auth_headers)  # L1
    response = httpx.post(
        api(lone_backend, f"/tickets/{ticket['number']}/updates"),
        json={"text": "Revisamos su configuración."},
        headers=auth_headers[role],
    )
    assert response.status_code == WORK_EXPECTED[role], response.text
    if response.status_code == 201:
        UpdatePosted.model_validate(response.json())
        assert response.json()["event"]["public"] is True
        assert response.json()["ticket"]["status"] == "open"


PATCH_EXPECTED = per_role(403, l1=200, supervisor=200, admin=200, maria=404, anonymous=401)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_priority_override_per_role(lone_backend, auth_headers, role) -> None:
    ticket = new_ticket(lone_backend, auth_headers)
    response = httpx.patch(
        api(lone_backend, f"/tickets/{ticket['number']}"),
        json={"priority": 3, "reason": "Afecta a la operación"},
        headers=auth_headers[role],
    )
    assert response.status_code == PATCH_EXPECTED[role], response.text
    if response.status_code == 200:
        TicketChanged.model_validate(response.json())
        assert response.json()["ticket"]["priority"] == 3


def test_transfer_assign_and_resolve(lone_backend, auth_headers) -> None:
    ticket = new_ticket(lone_backend, auth_headers)
    url = api(lone_backend, f"/tickets/{ticket['number']}")
    assert httpx.patch(url, json={"tier": "L2"}, headers=auth_headers["l1"]).status_code == 422  # reason required
    moved = httpx.patch(url, json={"tier": "L2", "reason": "Parece una falla de software"}, headers=auth_headers["l1"])
    assert moved.status_code == 200 and moved.json()["ticket"]["tier"] == "L2"
    assert httpx.patch(url, json={"assignee": "l2@promptlink.example"}, headers=auth_headers["l1"]).status_code == 403
    assigned = httpx.patch(url, json={"assignee": "l2@promptlink.example"}, headers=auth_headers["l2"])
    assert assigned.status_code == 200
    wrong_tier = httpx.patch(url, json={"assignee": "l1@promptlink.example"}, headers=auth_headers["l2"])
    assert wrong_tier.status_code == 422
    resolved = httpx.patch(
        url, json={"status": "resolved", "resolution": "Parámetro corregido"}, headers=auth_headers["l2"]
    )
    assert resolved.status_code == 200
    assert resolved.json()["ticket"]["status"] == "resolved"
    assert resolved.json()["ticket"]["next_update_due"] is None


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"title": ""}, 422),
        ({"type": "coffee"}, 422),
        ({"facts": {"production_down": "sí"}}, 422),
        ({"customer": "NOPE"}, 422),
        ({"device": "olt-sdq-01"}, 422),
        ({"contact": "maria.rodriguez@telecaribe.example"}, 422),
    ],
)
def test_bad_bodies_get_a_clear_english_detail(lone_backend, auth_headers, body, status) -> None:
    payload = {"customer": "CABLEANDINA", "type": "configuration", "title": "x"} | body
    response = httpx.post(api(lone_backend, "/tickets"), json=payload, headers=auth_headers["l1"])
    assert response.status_code == status
    assert response.json()["detail"]


def test_not_json_is_refused(lone_backend, auth_headers) -> None:
    response = httpx.post(api(lone_backend, "/tickets"), content=b"{not json", headers=auth_headers["l1"])
    assert response.status_code == 422 and "JSON" in response.json()["detail"]


def test_customer_comment_on_own_ticket_only(lone_backend, auth_headers) -> None:
    ticket = new_ticket(lone_backend, auth_headers)
    url = api(lone_backend, f"/tickets/{ticket['number']}/comments")
    assert httpx.post(url, json={"text": "Adjunto más datos"}, headers=auth_headers["ana"]).status_code == 201
    assert httpx.post(url, json={"text": "x"}, headers=auth_headers["maria"]).status_code == 404
    assert httpx.post(url, json={"text": "x"}, headers=auth_headers["l1"]).status_code == 403


QUEUE_EXPECTED = {
    "l1": ["L1"],
    "l2": ["L2"],
    "l3": ["L3"],
    "supervisor": ["L1", "L2", "L3"],
    "admin": ["L1", "L2", "L3"],
}


@pytest.mark.parametrize("role", ALL_ROLES)
def test_queues_per_role(lone_backend, auth_headers, role) -> None:
    response = httpx.get(api(lone_backend, "/queues"), headers=auth_headers[role])
    if role in QUEUE_EXPECTED:
        assert response.status_code == 200
        assert [q["tier"] for q in response.json()["queues"]] == QUEUE_EXPECTED[role]
    else:
        assert response.status_code == (401 if role == "anonymous" else 403)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_customers_per_role(lone_backend, auth_headers, role) -> None:
    response = httpx.get(api(lone_backend, "/customers"), headers=auth_headers[role])
    if role == "anonymous":
        assert response.status_code == 401
        return
    codes = [c["code"] for c in response.json()["items"]]
    expected = {
        "ana": ["CABLEANDINA"],
        "luis": ["CABLEANDINA"],
        "service_as_ana": ["CABLEANDINA"],
        "maria": ["TELECARIBE"],
    }.get(role, ["CABLEANDINA", "TELECARIBE"])
    assert codes == expected
    other = httpx.get(api(lone_backend, "/customers/TELECARIBE"), headers=auth_headers[role])
    assert other.status_code == (404 if role in ("ana", "luis", "service_as_ana") else 200)


def test_login_errors_and_cookie(lone_backend) -> None:
    bad = httpx.post(api(lone_backend, "/auth/login"), json={"email": "l1@promptlink.example", "password": "nope"})
    assert bad.status_code == 401
    unknown = httpx.post(api(lone_backend, "/auth/login"), json={"email": "ghost@x.example", "password": "nope"})
    assert unknown.status_code == 401 and unknown.json()["detail"] == "invalid credentials"
    assert unknown.json() == bad.json()  # an unknown account and a wrong password answer alike
    good = httpx.post(
        api(lone_backend, "/auth/login"), json={"email": "L1@promptlink.example", "password": "demo-l1-pass"}
    )
    assert good.status_code == 200
    cookies = {c.split("=", 1)[0]: c for c in good.headers.get_list("set-cookie")}
    assert set(cookies) == {"pl_session", "pl_signed_in"}
    assert "HttpOnly" in cookies["pl_session"] and "SameSite=Strict" in cookies["pl_session"]
    # The pages' hint that a session was started: readable by scripts, and not a credential.
    assert cookies["pl_signed_in"].startswith("pl_signed_in=1;") and "HttpOnly" not in cookies["pl_signed_in"]
    hint_only = httpx.get(api(lone_backend, "/auth/me"), cookies={"pl_signed_in": "1"})
    assert hint_only.status_code == 401
    me = httpx.get(api(lone_backend, "/auth/me"), cookies={"pl_session": good.json()["token"]})
    assert me.json()["role"] == "agent" and me.json()["tiers"] == ["L1"]
    assert httpx.get(api(lone_backend, "/auth/me"), headers={"Authorization": "Bearer forged"}).status_code == 401


# --- What the customer says: structured fields, preview, related tickets, comments ----------


def test_the_assistant_files_what_the_customer_said(lone_backend, auth_headers) -> None:
    alarm = new_ticket(
        lone_backend, auth_headers, channel="snmp", type="network_outage", device="cmts-bog-01", title="Enlace caído"
    )
    body = {
        "channel": "chat",
        "conversation_id": None,
        "type": "network_outage",
        "title": "Sin internet en el nodo norte",
        "facts": {"damaged": True},
        "device": "CMTS BOG 01",
        "serial": "PLK-CMTS-0001",
        "version": "4.2.1",
        "error_message": "E042: pérdida de portadora",
        "since": "2026-11-25T08:30-05:00",
        "related_ticket": alarm["number"],
    }
    response = httpx.post(api(lone_backend, "/tickets"), json=body, headers=auth_headers["service_as_ana"])
    assert response.status_code == 201, response.text
    ticket = response.json()
    assert (ticket["device"], ticket["device_text"], ticket["serial"], ticket["version"]) == (
        "cmts-bog-01",
        None,
        "PLK-CMTS-0001",
        "4.2.1",
    )
    assert ticket["error_message"] == "E042: pérdida de portadora"
    assert ticket["since"] == "2026-11-25T13:30:00+00:00"
    assert ticket["related_ticket"] == alarm["number"]
    assert "conversation_id" in ticket and "rma" not in ticket and "bug" not in ticket
    [linked] = [e for e in ticket["history"] if e["kind"] == "linked"]
    assert linked["public"] and linked["text"] == f"Relacionado con el tiquete {alarm['number']} (alarma SNMP)."
    # The alarm's ticket tells it too; the customer reads both.
    back = httpx.get(api(lone_backend, f"/tickets/{alarm['number']}"), headers=auth_headers["ana"]).json()
    assert any(e["kind"] == "linked" and ticket["number"] in e["text"] for e in back["history"])
    assert back["related_ticket"] is None


@pytest.mark.parametrize("role", ["service_as_ana", "ana"])
def test_an_unknown_device_is_kept_in_the_customers_words(lone_backend, auth_headers, role) -> None:
    body = {"type": "hardware_failure", "title": "Amplificador sin energía", "device": "Amplificador de la calle 7"}
    response = httpx.post(api(lone_backend, "/tickets"), json=body, headers=auth_headers[role])
    assert response.status_code == 201, response.text
    ticket = response.json()
    assert (ticket["device"], ticket["device_text"]) == (None, "Amplificador de la calle 7")
    assert ticket["rma"]["device"] == "Amplificador de la calle 7" and ticket["rma"]["status"] == "requested"


def test_the_ticket_shows_its_rma_and_its_bug(lone_backend, auth_headers) -> None:
    hardware = new_ticket(
        lone_backend,
        auth_headers,
        type="hardware_failure",
        device="cmts-bog-02",
        serial="SN-EN-MANO",
        facts={"damaged": True},
    )
    assert hardware["rma"]["number"].startswith("RMA-") and hardware["tier"] == "L1"
    assert {k: hardware["rma"][k] for k in ("serial", "device", "status")} == {
        "serial": "SN-EN-MANO",
        "device": "cmts-bog-02",
        "status": "requested",
    }
    software = new_ticket(
        lone_backend, auth_headers, type="software_bug", device="cmts-bog-01", version="4.2.1", facts={"damaged": True}
    )
    assert software["bug"]["key"].startswith("BUG-")
    assert {k: software["bug"][k] for k in ("product", "version", "state")} == {
        "product": "PL-CMTS 3200",
        "version": "4.2.1",
        "state": "new",
    }
    # The same links on a later read, in the list and for the customer.
    again = httpx.get(api(lone_backend, f"/tickets/{software['number']}"), headers=auth_headers["luis"]).json()
    assert again["bug"] == software["bug"] and "facts" not in again
    listed = httpx.get(
        api(lone_backend, "/tickets"), params={"q": hardware["number"]}, headers=auth_headers["l1"]
    ).json()
    assert listed["items"][0]["rma"] == hardware["rma"]


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"since": "ayer por la tarde"}, "since is not an ISO 8601"),
        ({"since": "2026-11-25T08:30"}, "UTC offset"),
        ({"since": 20261125}, "since must be an ISO 8601"),
        ({"since": "2999-01-01T00:00Z"}, "since is in the future"),
        ({"serial": 12345}, "serial must be a string"),
        ({"serial": "x" * 101}, "serial must be text of at most 100"),
        ({"version": ["4.2"]}, "version must be a string"),
        ({"error_message": "x" * 2001}, "error_message must be text of at most 2000"),
        ({"device": {"name": "cmts-bog-01"}}, "device must be a string"),
        ({"device_text": "x" * 201}, "device_text longer than 200"),
        ({"related_ticket": 7}, "related_ticket must be a string"),
        ({"related_ticket": "PL-2026-999999"}, "related ticket PL-2026-999999 not found"),
        ({"conversation_id": "no-such-conversation"}, "conversation no-such-conversation not found"),
        ({"title": ["no"]}, "title is required"),
        ({"description": 5}, "description must be text"),
    ],
)
def test_bad_intake_fields_are_a_clear_422(lone_backend, auth_headers, change, detail) -> None:
    body = {"type": "network_outage", "title": "Nodo sin servicio"} | change
    for path in ("/tickets", "/tickets/preview"):
        response = httpx.post(api(lone_backend, path), json=body, headers=auth_headers["service_as_ana"])
        assert response.status_code == 422, (path, response.text)
        assert detail in response.json()["detail"]
        assert response.json()["message"]  # Spanish, for the person
        ErrorOut.model_validate(response.json())


def test_a_related_ticket_of_another_company_does_not_exist(lone_backend, auth_headers) -> None:
    theirs = new_ticket(lone_backend, auth_headers, customer="TELECARIBE", contact="maria.rodriguez@telecaribe.example")
    body = {"type": "configuration", "title": "Consulta", "related_ticket": theirs["number"]}
    response = httpx.post(api(lone_backend, "/tickets"), json=body, headers=auth_headers["ana"])
    assert response.status_code == 422
    assert response.json()["message"] == "El tiquete relacionado no existe."


PREVIEW_EXPECTED = {role: (401 if role == "anonymous" else 200) for role in ALL_ROLES}


@pytest.mark.parametrize("role", ALL_ROLES)
def test_preview_per_role_writes_nothing(lone_backend, auth_headers, role) -> None:
    body = {
        "customer": "CABLEANDINA",
        "type": "network_outage",
        "title": f"Vista previa {uuid.uuid4().hex[:6]}",
        "facts": {"severely_damaged": True},
        "device": "cmts-bog-01",
    }
    response = httpx.post(api(lone_backend, "/tickets/preview"), json=body, headers=auth_headers[role])
    assert response.status_code == PREVIEW_EXPECTED[role], response.text
    if response.status_code != 200:
        return
    preview = response.json()
    PreviewOut.model_validate(preview)
    assert set(preview) == {
        "priority",
        "priority_reason",
        "tier",
        "tier_name",
        "routing_rule",
        "routing_reason",
        "device",
        "device_text",
        "covered",
        "coverage_note",
        "duplicates",
    }
    expected_device = "olt-sdq-01" if role == "maria" else "cmts-bog-01"
    assert (preview["priority"], preview["tier"], preview["tier_name"]) == (2, "L3", "Soporte de Nivel 3")
    assert preview["routing_rule"] == "severe_network_outage" and preview["priority_reason"].startswith("Prioridad 2")
    if role == "maria":  # files for TELECARIBE: cmts-bog-01 is not one of its devices
        assert (preview["device"], preview["device_text"]) == (None, "cmts-bog-01")
    else:
        assert (preview["device"], preview["device_text"]) == (expected_device, None)
    found = httpx.get(api(lone_backend, "/tickets"), params={"q": body["title"]}, headers=auth_headers["supervisor"])
    assert found.json()["total"] == 0


def test_preview_lists_the_open_tickets_on_the_same_device(lone_backend, auth_headers) -> None:
    place = f"Router {uuid.uuid4().hex[:6]}"
    made = [
        httpx.post(
            api(lone_backend, "/tickets"),
            json={"type": "network_outage", "title": f"Caída {i}", "device_text": place, "facts": {"damaged": True}},
            headers=auth_headers["service_as_ana"],
        ).json()
        for i in range(4)
    ]
    closed = httpx.patch(
        api(lone_backend, f"/tickets/{made[3]['number']}"),
        json={"status": "resolved", "resolution": "Reiniciado"},
        headers=auth_headers["supervisor"],
    )
    assert closed.status_code == 200
    preview = httpx.post(
        api(lone_backend, "/tickets/preview"),
        json={"type": "network_outage", "device": place.upper().replace(" ", "-")},
        headers=auth_headers["ana"],
    ).json()
    assert (preview["device"], preview["device_text"]) == (None, place.upper().replace(" ", "-"))
    assert [d["number"] for d in preview["duplicates"]] == [made[2]["number"], made[1]["number"], made[0]["number"]]
    PreviewOut.model_validate(preview)
    first = preview["duplicates"][0]
    assert set(first) == {"number", "title", "priority", "status", "status_name", "channel", "device", "created_at"}
    assert (first["status"], first["status_name"], first["channel"], first["device"]) == ("new", "nuevo", "api", place)
    # Another company sees none of them.
    other = httpx.post(
        api(lone_backend, "/tickets/preview"),
        json={"type": "network_outage", "device": place},
        headers=auth_headers["maria"],
    ).json()
    assert other["duplicates"] == []


def test_preview_includes_the_snmp_alarm_ticket_of_the_device(lone_backend, auth_headers) -> None:
    alarm = new_ticket(
        lone_backend,
        auth_headers,
        channel="snmp",
        type="network_outage",
        device="cmts-bog-02",
        title="Enlace caído en cmts-bog-02 (interfaz 3)",
        facts={"severely_damaged": True},
    )
    preview = httpx.post(
        api(lone_backend, "/tickets/preview"),
        json={"type": "network_outage", "device": "CMTS BOG 02"},
        headers=auth_headers["service_as_ana"],
    ).json()
    newest = preview["duplicates"][0]
    assert (newest["number"], newest["channel"], newest["device"], newest["priority"]) == (
        alarm["number"],
        "snmp",
        "cmts-bog-02",
        2,
    )


@pytest.mark.parametrize("role", ["service_as_ana", "ana"])
def test_the_customer_adds_information_from_the_chat(lone_backend, auth_headers, role) -> None:
    ticket = new_ticket(lone_backend, auth_headers)
    url = api(lone_backend, f"/tickets/{ticket['number']}/comments")
    added = httpx.post(url, json={"text": "El error volvió a las 9:10.", "channel": "chat"}, headers=auth_headers[role])
    assert added.status_code == 201, added.text
    EventCreated.model_validate(added.json())
    event = added.json()["event"]
    assert (event["kind"], event["public"], event["author"], event["data"]) == (
        "customer_message",
        True,
        "ana.gomez@cableandina.example",
        {"channel": "chat"},
    )
    # Staff (the console) read it in the history, as the customer does.
    for reader in ("l1", "luis"):
        history = httpx.get(api(lone_backend, f"/tickets/{ticket['number']}"), headers=auth_headers[reader]).json()
        assert any(
            e["kind"] == "customer_message" and e["text"] == "El error volvió a las 9:10." for e in history["history"]
        )
    assert httpx.post(url, json={"text": "x"}, headers=auth_headers["maria"]).status_code == 404
    assert httpx.post(url, json={"text": "x"}, headers=auth_headers["service"]).status_code == 403
    assert httpx.post(url, json={"text": ""}, headers=auth_headers[role]).status_code == 422
