"""`/api/v1/rmas` against a real backend, for every role.

RMAs come from hardware-failure tickets of CABLEANDINA (it has a hardware contract): the
ticket service opens one automatically with the fastest shipping method.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from testkit.api_roles import ALL_ROLES, CABLEANDINA, STAFF, STAFF_ONLY, TELECARIBE, call, expect

LIST = expect(STAFF_ONLY, **dict.fromkeys(CABLEANDINA + TELECARIBE, 200))
READ = expect(STAFF_ONLY, **dict.fromkeys(CABLEANDINA, 200), **dict.fromkeys(TELECARIBE, 404))


def new_rma(lone_backend, auth_headers, *, device: str = "cmts-bog-01") -> tuple[dict, dict]:
    """A hardware-failure ticket filed by an agent, and the RMA it opened."""
    body = {
        "customer": "CABLEANDINA",
        "contact": "luis.perez@cableandina.example",
        "device": device,
        "type": "hardware_failure",
        "title": f"Fuente de poder dañada {uuid.uuid4().hex[:6]}",
        "facts": {"severely_damaged": True},
    }
    response = call(lone_backend, auth_headers, "l1", "POST", "/tickets", json=body)
    assert response.status_code == 201, response.text
    ticket = response.json()
    [number] = [e["data"]["rma"] for e in ticket["history"] if e["kind"] == "rma"]
    rma = call(lone_backend, auth_headers, "supervisor", "GET", f"/rmas/{number}")
    assert rma.status_code == 200, rma.text
    return ticket, rma.json()


@pytest.mark.parametrize("role", ALL_ROLES)
def test_list_per_role(lone_backend, auth_headers, role) -> None:
    _ticket, rma = new_rma(lone_backend, auth_headers)
    response = call(lone_backend, auth_headers, role, "GET", "/rmas", params={"limit": 200})
    assert response.status_code == LIST[role], response.text
    if response.status_code == 200:
        numbers = [r["number"] for r in response.json()["items"]]
        if role in TELECARIBE:
            assert rma["number"] not in numbers and all(r["customer"] == "TELECARIBE" for r in response.json()["items"])
        else:
            assert numbers[0] == rma["number"]  # newest first


@pytest.mark.parametrize("role", ALL_ROLES)
def test_read_per_role(lone_backend, auth_headers, role) -> None:
    ticket, rma = new_rma(lone_backend, auth_headers)
    response = call(lone_backend, auth_headers, role, "GET", f"/rmas/{rma['number']}")
    assert response.status_code == READ[role], response.text
    if response.status_code == 200:
        data = response.json()
        assert (data["ticket"], data["customer"], data["device"], data["serial"]) == (
            ticket["number"],
            "CABLEANDINA",
            "cmts-bog-01",
            "PLK-CMTS-0001",
        )
        assert (data["status"], data["status_name"], data["tracking"]) == ("requested", "solicitada", "")
        assert "más rápido" in data["shipping_method"]
    elif response.status_code == 404:
        assert response.json()["detail"] == f"RMA {rma['number']} not found"


@pytest.mark.parametrize("role", ALL_ROLES)
def test_approve_per_role(lone_backend, auth_headers, role) -> None:
    ticket, rma = new_rma(lone_backend, auth_headers)
    response = call(lone_backend, auth_headers, role, "PATCH", f"/rmas/{rma['number']}", json={"status": "approved"})
    assert response.status_code == STAFF_ONLY[role], response.text
    after = call(lone_backend, auth_headers, "admin", "GET", f"/rmas/{rma['number']}").json()
    if response.status_code == 200:
        assert response.json()["rma"] == after and after["status"] == "approved"
        event = response.json()["event"]
        assert (event["kind"], event["public"], event["author"]) == ("rma", True, f"{role}@promptlink.example")
    else:
        assert after["status"] == "requested"


def test_shipping_tells_the_customer_the_tracking_number(lone_backend, auth_headers) -> None:
    ticket, rma = new_rma(lone_backend, auth_headers, device="cmts-bog-02")
    path = f"/rmas/{rma['number']}"
    early = call(lone_backend, auth_headers, "l2", "PATCH", path, json={"status": "shipped", "tracking": "X"})
    assert (early.status_code, early.json()["detail"]) == (422, "an RMA cannot go from requested to shipped")
    assert call(lone_backend, auth_headers, "l2", "PATCH", path, json={"status": "approved"}).status_code == 200
    untracked = call(lone_backend, auth_headers, "l2", "PATCH", path, json={"status": "shipped"})
    assert (untracked.status_code, untracked.json()["detail"]) == (422, "shipping needs a tracking number")
    shipped = call(
        lone_backend, auth_headers, "l2", "PATCH", path, json={"status": "shipped", "tracking": "DHL-778899"}
    )
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["rma"]["tracking"] == "DHL-778899"
    assert sorted(shipped.json()["event"]["data"]["recipients"]) == [
        "ana.gomez@cableandina.example",
        "luis.perez@cableandina.example",
    ]
    # The customer reads it in its ticket's public history.
    history = call(lone_backend, auth_headers, "ana", "GET", f"/tickets/{ticket['number']}").json()["history"]
    [note] = [e for e in history if e["kind"] == "rma" and e["data"].get("to") == "shipped"]
    assert "DHL-778899" in note["text"] and rma["number"] in note["text"]
    for status in ("delivered", "closed"):
        assert call(lone_backend, auth_headers, "admin", "PATCH", path, json={"status": status}).status_code == 200
    closed = call(lone_backend, auth_headers, "luis", "GET", path).json()
    assert (closed["status"], closed["next_statuses"], closed["tracking"]) == ("closed", [], "DHL-778899")


@pytest.mark.parametrize("role", STAFF)
def test_staff_filter_the_list(lone_backend, auth_headers, role) -> None:
    _ticket, rma = new_rma(lone_backend, auth_headers)
    mine = call(
        lone_backend, auth_headers, role, "GET", "/rmas", params={"customer": "CABLEANDINA", "status": "requested"}
    )
    assert rma["number"] in [r["number"] for r in mine.json()["items"]]
    assert call(lone_backend, auth_headers, role, "GET", "/rmas", params={"customer": "TELECARIBE"}).json() == {
        "items": []
    }
    assert call(lone_backend, auth_headers, role, "GET", "/rmas", params={"customer": "NADIE"}).json() == {"items": []}


def test_errors(lone_backend, auth_headers) -> None:
    missing = call(lone_backend, auth_headers, "l1", "GET", "/rmas/RMA-2026-999999")
    assert (missing.status_code, missing.json()["detail"]) == (404, "RMA RMA-2026-999999 not found")
    bad_filter = call(lone_backend, auth_headers, "l1", "GET", "/rmas", params={"status": "lost"})
    assert bad_filter.status_code == 422
    _ticket, rma = new_rma(lone_backend, auth_headers)
    bad = call(lone_backend, auth_headers, "l1", "PATCH", f"/rmas/{rma['number']}", json={"status": "lost"})
    assert (bad.status_code, bad.json()["detail"]) == (422, "unknown RMA status 'lost'")


def test_every_route_is_in_the_openapi_document(lone_backend) -> None:
    spec = httpx.get(f"{lone_backend.base_url}/docs/openapi.json", timeout=10).json()
    for path, method in [("/api/v1/rmas", "get"), ("/api/v1/rmas/{number}", "get"), ("/api/v1/rmas/{number}", "patch")]:
        assert spec["paths"][path][method]["summary"], (path, method)
