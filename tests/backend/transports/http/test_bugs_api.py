"""`/api/v1/bugs` against a real backend, for every role: staff read, Level 2/3 and supervisors write."""

from __future__ import annotations

import uuid

import httpx
import pytest
from promptlink.transports.http.api import ErrorOut
from promptlink.transports.http.schemas.bugs import BugDetailOut, BugList

from testkit.api_roles import ALL_ROLES, STAFF_ONLY, call, expect

# Writing (open, change state, link) is for Level 2 and 3 agents, supervisors and admins.
WRITE = expect(STAFF_ONLY, l1=403, l2=201, l3=201, supervisor=201, admin=201)


def new_bug(lone_backend, auth_headers, **body) -> dict:
    payload = {
        "title": f"Falla {uuid.uuid4().hex[:6]}",
        "description": "Se cuelga al exportar",
        "product": "PL-CMTS 3200",
    }
    response = call(lone_backend, auth_headers, "supervisor", "POST", "/bugs", json=payload | body)
    assert response.status_code == 201, response.text
    BugDetailOut.model_validate(response.json())
    return response.json()


def new_ticket(
    lone_backend, auth_headers, *, type_: str = "configuration", contact: str = "luis.perez@cableandina.example"
) -> dict:
    body = {"customer": "CABLEANDINA", "contact": contact, "type": type_, "title": f"Consulta {uuid.uuid4().hex[:6]}"}
    response = call(lone_backend, auth_headers, "supervisor", "POST", "/tickets", json=body)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("role", ALL_ROLES)
def test_list_per_role(lone_backend, auth_headers, role) -> None:
    bug = new_bug(lone_backend, auth_headers)
    response = call(lone_backend, auth_headers, role, "GET", "/bugs", params={"q": bug["key"]})
    assert response.status_code == STAFF_ONLY[role], response.text
    if response.status_code == 200:
        BugList.model_validate(response.json())
        assert [b["key"] for b in response.json()["items"]] == [bug["key"]]
    else:
        assert "items" not in response.json() and response.json()["detail"]


@pytest.mark.parametrize("role", ALL_ROLES)
def test_create_per_role(lone_backend, auth_headers, role) -> None:
    body = {"title": "La exportación CSV sale vacía", "product": "PL-CMTS 3200"}
    response = call(lone_backend, auth_headers, role, "POST", "/bugs", json=body)
    assert response.status_code == WRITE[role], response.text
    if response.status_code == 201:
        bug = response.json()
        assert bug["key"].startswith("BUG-") and bug["state"] == "new" and bug["state_name"] == "nuevo"
        assert bug["next_states"] == ["confirmed", "wont_fix"]
        assert [(e["to_state"], e["author"]) for e in bug["history"]] == [("new", f"{role}@promptlink.example")]


@pytest.mark.parametrize("role", ALL_ROLES)
def test_read_per_role(lone_backend, auth_headers, role) -> None:
    ticket = new_ticket(lone_backend, auth_headers)
    bug = new_bug(lone_backend, auth_headers, ticket=ticket["number"])
    response = call(lone_backend, auth_headers, role, "GET", f"/bugs/{bug['key']}")
    assert response.status_code == STAFF_ONLY[role], response.text
    if response.status_code == 200:
        data = BugDetailOut.model_validate(response.json()).model_dump()
        assert data["tickets"] == [ticket["number"]]
        assert [e["to_state"] for e in data["history"]] == ["new"]
        assert data["title"] == bug["title"]


@pytest.mark.parametrize("role", ALL_ROLES)
def test_change_state_per_role(lone_backend, auth_headers, role) -> None:
    bug = new_bug(lone_backend, auth_headers)
    response = call(
        lone_backend,
        auth_headers,
        role,
        "PATCH",
        f"/bugs/{bug['key']}",
        json={"state": "confirmed", "note": "Reproducido"},
    )
    assert response.status_code == expect(WRITE, l2=200, l3=200, supervisor=200, admin=200)[role], response.text
    after = call(lone_backend, auth_headers, "admin", "GET", f"/bugs/{bug['key']}").json()
    if response.status_code == 200:
        BugDetailOut.model_validate(response.json())
        assert response.json()["state"] == "confirmed" == after["state"]
        assert after["history"][-1] | {"at": None} == {
            "at": None,
            "from_state": "new",
            "to_state": "confirmed",
            "note": "Reproducido",
            "author": f"{role}@promptlink.example",
        }
    else:
        assert after["state"] == "new"


@pytest.mark.parametrize("role", ALL_ROLES)
def test_link_ticket_per_role(lone_backend, auth_headers, role) -> None:
    bug = new_bug(lone_backend, auth_headers)
    ticket = new_ticket(lone_backend, auth_headers)
    response = call(
        lone_backend, auth_headers, role, "POST", f"/bugs/{bug['key']}/tickets", json={"ticket": ticket["number"]}
    )
    assert response.status_code == WRITE[role], response.text
    if response.status_code == 201:
        BugDetailOut.model_validate(response.json())
        assert response.json()["tickets"] == [ticket["number"]]
        again = call(
            lone_backend, auth_headers, role, "POST", f"/bugs/{bug['key']}/tickets", json={"ticket": ticket["number"]}
        )
        assert again.status_code == 200 and again.json()["tickets"] == [ticket["number"]]
        history = call(lone_backend, auth_headers, "supervisor", "GET", f"/tickets/{ticket['number']}").json()[
            "history"
        ]
        assert [e["data"] for e in history if e["kind"] == "bug_linked"] == [{"bug": bug["key"]}]


def test_a_software_fault_ticket_through_to_the_released_fix(lone_backend, auth_headers) -> None:
    ticket = new_ticket(lone_backend, auth_headers, type_="software_bug")
    [key] = [e["data"]["bug"] for e in ticket["history"] if e["kind"] == "bug_linked"]
    bug = call(lone_backend, auth_headers, "l2", "GET", f"/bugs/{key}").json()
    assert bug["tickets"] == [ticket["number"]]
    refused = call(lone_backend, auth_headers, "l2", "PATCH", f"/bugs/{key}", json={"state": "released"})
    assert refused.status_code == 422 and "cannot go from new to released" in refused.json()["detail"]
    for body in ({"state": "confirmed"}, {"state": "in_progress"}):
        assert call(lone_backend, auth_headers, "l2", "PATCH", f"/bugs/{key}", json=body).status_code == 200
    no_version = call(lone_backend, auth_headers, "l3", "PATCH", f"/bugs/{key}", json={"state": "fixed"})
    assert no_version.status_code == 422
    fixed = call(lone_backend, auth_headers, "l3", "PATCH", f"/bugs/{key}", json={"state": "fixed", "version": "2.5.0"})
    assert fixed.json()["fixed_in_version"] == "2.5.0"
    released = call(lone_backend, auth_headers, "supervisor", "PATCH", f"/bugs/{key}", json={"state": "released"})
    assert released.status_code == 200 and released.json()["next_states"] == []
    # The customer reads the released fix in its ticket's public history; the bug's internals stay internal.
    history = call(lone_backend, auth_headers, "luis", "GET", f"/tickets/{ticket['number']}").json()["history"]
    updates = [e for e in history if e["kind"] == "update"]
    assert len(updates) == 1 and "2.5.0" in updates[0]["text"] and key in updates[0]["text"]
    assert sorted(updates[0]["data"]["recipients"]) == [
        "ana.gomez@cableandina.example",
        "luis.perez@cableandina.example",
    ]
    assert not [e for e in history if e["kind"] in ("bug_changed", "bug_linked")]
    listed = call(lone_backend, auth_headers, "l1", "GET", "/bugs", params={"state": "released", "q": key}).json()
    assert [b["key"] for b in listed["items"]] == [key]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "detail"),
    [
        ("GET", "/bugs/BUG-999999", None, 404, "bug BUG-999999 not found"),
        ("PATCH", "/bugs/BUG-999999", {"state": "confirmed"}, 404, "bug BUG-999999 not found"),
        ("POST", "/bugs", {"title": ""}, 422, "title is required and must be text"),
        ("POST", "/bugs", {"title": "t", "ticket": "PL-2026-999999"}, 404, "ticket PL-2026-999999 not found"),
        ("GET", "/bugs?state=open", None, 422, "unknown bug state 'open'"),
        ("POST", "/bugs", [1, 2], 422, "body must be a JSON object"),
    ],
)
def test_errors_are_json_with_a_detail(lone_backend, auth_headers, method, path, body, status, detail) -> None:
    response = call(lone_backend, auth_headers, "l2", method, path, json=body)
    assert (response.status_code, response.json()["detail"]) == (status, detail)
    assert response.json()["message"]  # the Spanish sentence a person may read
    ErrorOut.model_validate(response.json())


def test_errors_on_an_existing_bug(lone_backend, auth_headers) -> None:
    bug = new_bug(lone_backend, auth_headers)
    for body, detail in (
        ({"state": "solved"}, "unknown bug state 'solved'"),
        ({"state": "confirmed", "note": 5}, "note is required and must be text"),
        ({}, "unknown bug state None"),
    ):
        response = call(lone_backend, auth_headers, "l3", "PATCH", f"/bugs/{bug['key']}", json=body)
        assert (response.status_code, response.json()["detail"]) == (422, detail)
    missing = call(lone_backend, auth_headers, "l3", "POST", f"/bugs/{bug['key']}/tickets", json={"ticket": "PL-0"})
    assert missing.status_code == 404


def test_every_route_is_in_the_openapi_document(lone_backend) -> None:
    spec = httpx.get(f"{lone_backend.base_url}/docs/openapi.json", timeout=10).json()
    for path, method in [
        ("/api/v1/bugs", "get"),
        ("/api/v1/bugs", "post"),
        ("/api/v1/bugs/{key}", "get"),
        ("/api/v1/bugs/{key}", "patch"),
        ("/api/v1/bugs/{key}/tickets", "post"),
    ]:
        assert spec["paths"][path][method]["summary"], (path, method)
