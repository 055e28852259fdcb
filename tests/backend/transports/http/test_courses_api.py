"""`/api/v1/training-requests` against a real backend, for every role."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
from promptlink.transports.http.schemas.courses import CourseList, CourseOut

from testkit.api_roles import ALL_ROLES, CABLEANDINA, STAFF, STAFF_ONLY, TELECARIBE, call, expect

COMPANY = {**dict.fromkeys(CABLEANDINA, "CABLEANDINA"), **dict.fromkeys(TELECARIBE, "TELECARIBE")}
CONTACT = {
    "service_as_ana": "ana.gomez@cableandina.example",
    "ana": "ana.gomez@cableandina.example",
    "luis": "luis.perez@cableandina.example",
    "service_as_maria": "maria.rodriguez@telecaribe.example",
    "maria": "maria.rodriguez@telecaribe.example",
}
# Staff and the service name the customer; customers (and the service on their behalf) file their own.
CREATE = expect(dict.fromkeys(ALL_ROLES, 201), anonymous=401)
LIST = expect(STAFF_ONLY, **dict.fromkeys(CABLEANDINA + TELECARIBE, 200))


def in_days(days: int) -> str:
    # The backend runs on the system clock; a margin of a day keeps every customer timezone safe.
    return (date.today() + timedelta(days=days)).isoformat()


def training_body(**fields) -> dict:
    return {
        "requested_date": in_days(45),
        "attendees": 5,
        "site": "Sede principal, sala 2",
        "topics": "Administración de las herramientas y actualización del firmware",
        "facilities": {"room": True, "projector": True, "whiteboard": True, "workstations_internet": True},
    } | fields


def new_request(lone_backend, auth_headers, customer: str = "CABLEANDINA", **fields) -> dict:
    response = call(
        lone_backend,
        auth_headers,
        "supervisor",
        "POST",
        "/training-requests",
        json=training_body(customer=customer, **fields),
    )
    assert response.status_code == 201, response.text
    CourseOut.model_validate(response.json())
    return response.json()


@pytest.mark.parametrize("role", ALL_ROLES)
def test_create_per_role(lone_backend, auth_headers, role) -> None:
    body = training_body() if role in COMPANY else training_body(customer="CABLEANDINA")
    response = call(lone_backend, auth_headers, role, "POST", "/training-requests", json=body)
    assert response.status_code == CREATE[role], response.text
    if response.status_code == 201:
        data = response.json()
        assert data["customer"] == COMPANY.get(role, "CABLEANDINA")
        assert data["contact"] == CONTACT.get(role)
        assert (data["duration_days"], data["attendees"], data["status"]) == (2, 5, "requested")
        assert data["short_notice"] is False and data["short_notice_message"] is None
        assert (
            data["materials_notice_due"]
            == (date.fromisoformat(body["requested_date"]) - timedelta(days=14)).isoformat()
        )
        assert data["missing_facilities"] == [] and data["facilities_reminder"] is None


@pytest.mark.parametrize("role", CABLEANDINA + TELECARIBE)
def test_a_customer_cannot_file_for_another_company(lone_backend, auth_headers, role) -> None:
    other = "TELECARIBE" if COMPANY[role] == "CABLEANDINA" else "CABLEANDINA"
    response = call(lone_backend, auth_headers, role, "POST", "/training-requests", json=training_body(customer=other))
    assert (response.status_code, response.json()["detail"]) == (404, f"customer {other} not found")
    own = call(
        lone_backend, auth_headers, role, "POST", "/training-requests", json=training_body(customer=COMPANY[role])
    )
    assert own.status_code == 201


@pytest.mark.parametrize("role", STAFF + ["service"])
def test_staff_and_the_service_must_name_the_customer(lone_backend, auth_headers, role) -> None:
    response = call(lone_backend, auth_headers, role, "POST", "/training-requests", json=training_body())
    assert (response.status_code, response.json()["detail"]) == (422, "customer is required")


def test_seven_attendees_are_refused_six_accepted(lone_backend, auth_headers) -> None:
    seven = call(lone_backend, auth_headers, "ana", "POST", "/training-requests", json=training_body(attendees=7))
    assert (seven.status_code, seven.json()["detail"]) == (422, "on-site courses take at most 6 attendees")
    six = call(lone_backend, auth_headers, "ana", "POST", "/training-requests", json=training_body(attendees=6))
    assert six.status_code == 201 and six.json()["attendees"] == 6


def test_short_notice_and_missing_facilities_are_flagged_and_recorded(lone_backend, auth_headers) -> None:
    body = training_body(requested_date=in_days(7), facilities={"room": True, "projector": False})
    response = call(lone_backend, auth_headers, "service_as_ana", "POST", "/training-requests", json=body)
    assert response.status_code == 201, response.text
    data = response.json()
    assert data["short_notice"] is True and "menos de dos semanas" in data["short_notice_message"]
    assert data["missing_facilities"] == ["projector", "whiteboard", "workstations_internet"]
    assert data["facilities_reminder"].startswith("Recuerde que su empresa debe proveer para la capacitación: ")
    assert "proyector, pizarra, áreas de trabajo con acceso a Internet" in data["facilities_reminder"]
    assert data["facilities"] == {"room": True, "projector": False, "whiteboard": False, "workstations_internet": False}
    listed = call(lone_backend, auth_headers, "ana", "GET", "/training-requests").json()["items"]
    assert data in listed


@pytest.mark.parametrize(
    ("fields", "detail"),
    [
        ({"requested_date": in_days(-2)}, "requested_date must be in the future"),
        ({"requested_date": "mañana"}, "requested_date must be an ISO date"),
        ({"attendees": 0}, "attendees must be at least 1"),
        ({"attendees": "4"}, "attendees must be an integer"),
        ({"site": ""}, "site is required, as text of at most 300 characters"),
        (
            {"facilities": {"kitchen": True}},
            "facilities must be an object with room, projector, whiteboard, workstations_internet",
        ),
    ],
)
def test_invalid_requests_are_422(lone_backend, auth_headers, fields, detail) -> None:
    response = call(lone_backend, auth_headers, "luis", "POST", "/training-requests", json=training_body(**fields))
    assert (response.status_code, response.json()["detail"]) == (422, detail)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_list_per_role(lone_backend, auth_headers, role) -> None:
    andina = new_request(lone_backend, auth_headers, "CABLEANDINA")
    caribe = new_request(lone_backend, auth_headers, "TELECARIBE")
    response = call(lone_backend, auth_headers, role, "GET", "/training-requests", params={"limit": 200})
    assert response.status_code == LIST[role], response.text
    if response.status_code == 200:
        items = CourseList.model_validate(response.json()).model_dump()["items"]
        ids = {i["id"] for i in items}
        if role in STAFF:
            assert {andina["id"], caribe["id"]} <= ids
        else:
            assert {i["customer"] for i in items} == {COMPANY[role]}
            mine, theirs = (andina, caribe) if COMPANY[role] == "CABLEANDINA" else (caribe, andina)
            assert mine["id"] in ids and theirs["id"] not in ids


def test_staff_filter_the_list(lone_backend, auth_headers) -> None:
    request = new_request(lone_backend, auth_headers, "TELECARIBE")
    call(lone_backend, auth_headers, "l1", "PATCH", f"/training-requests/{request['id']}", json={"status": "confirmed"})
    confirmed = call(
        lone_backend,
        auth_headers,
        "l1",
        "GET",
        "/training-requests",
        params={"customer": "TELECARIBE", "status": "confirmed"},
    ).json()["items"]
    assert request["id"] in {i["id"] for i in confirmed}
    assert {(i["customer"], i["status"]) for i in confirmed} == {("TELECARIBE", "confirmed")}


@pytest.mark.parametrize("role", ALL_ROLES)
def test_change_status_per_role(lone_backend, auth_headers, role) -> None:
    request = new_request(lone_backend, auth_headers, COMPANY.get(role, "CABLEANDINA"))
    response = call(
        lone_backend, auth_headers, role, "PATCH", f"/training-requests/{request['id']}", json={"status": "confirmed"}
    )
    assert response.status_code == STAFF_ONLY[role], response.text
    if response.status_code == 200:
        CourseOut.model_validate(response.json())
        assert (response.json()["status"], response.json()["status_name"]) == ("confirmed", "confirmada")


def test_status_errors(lone_backend, auth_headers) -> None:
    request = new_request(lone_backend, auth_headers)
    path = f"/training-requests/{request['id']}"
    done = call(lone_backend, auth_headers, "admin", "PATCH", path, json={"status": "completed"})
    assert (done.status_code, done.json()["detail"]) == (
        422,
        "a training request cannot go from requested to completed",
    )
    unknown = call(lone_backend, auth_headers, "admin", "PATCH", path, json={"status": "archived"})
    assert unknown.status_code == 422
    missing = call(
        lone_backend, auth_headers, "admin", "PATCH", "/training-requests/999999", json={"status": "confirmed"}
    )
    assert (missing.status_code, missing.json()["detail"]) == (404, "training request 999999 not found")
    bad_filter = call(lone_backend, auth_headers, "admin", "GET", "/training-requests", params={"status": "nope"})
    assert bad_filter.status_code == 422


def test_every_route_is_in_the_openapi_document(lone_backend) -> None:
    spec = httpx.get(f"{lone_backend.base_url}/docs/openapi.json", timeout=10).json()
    for path, method in [
        ("/api/v1/training-requests", "get"),
        ("/api/v1/training-requests", "post"),
        ("/api/v1/training-requests/{request_id}", "patch"),
    ]:
        assert spec["paths"][path][method]["summary"], (path, method)
