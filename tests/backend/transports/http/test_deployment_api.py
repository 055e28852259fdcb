"""`/api/v1/customers/{code}/deployment-plan` against a real backend, for every role.

Staff read any plan and move it; a customer reads only its own (another company's plan
does not exist for it); the action server reads on a customer's behalf, never alone.
"""

from __future__ import annotations

import httpx
import pytest
from promptlink.transports.http.schemas.deployment import PlanOut

from testkit.api_roles import ALL_ROLES, CABLEANDINA, STAFF, STAFF_ONLY, TELECARIBE, call, expect

STAGE_NAMES = [
    "Análisis de las necesidades y de las limitaciones del cliente",
    "Detalles del diseño",
    "Instalación y configuración, con prueba y operación",
    "Apoyo operacional",
    "Finalización y comisionamiento para servicio comercial",
]
READ_ANDINA = expect(STAFF_ONLY, **dict.fromkeys(CABLEANDINA, 200), **dict.fromkeys(TELECARIBE, 404))
READ_CARIBE = expect(STAFF_ONLY, **dict.fromkeys(CABLEANDINA, 404), **dict.fromkeys(TELECARIBE, 200))


@pytest.mark.parametrize("role", ALL_ROLES)
def test_read_cableandina_per_role(lone_backend, auth_headers, role) -> None:
    response = call(lone_backend, auth_headers, role, "GET", "/customers/CABLEANDINA/deployment-plan")
    assert response.status_code == READ_ANDINA[role], response.text
    if response.status_code == 200:
        plan = response.json()
        PlanOut.model_validate(plan)
        assert (plan["customer"], plan["current_stage"], plan["current_stage_name"]) == (
            "CABLEANDINA",
            4,
            "Apoyo operacional",
        )
        assert [(s["number"], s["name"], s["state"]) for s in plan["stages"]] == [
            (1, STAGE_NAMES[0], "done"),
            (2, STAGE_NAMES[1], "done"),
            (3, STAGE_NAMES[2], "done"),
            (4, STAGE_NAMES[3], "current"),
            (5, STAGE_NAMES[4], "pending"),
        ]
        assert [h["stage"] for h in plan["history"]] == [1, 2, 3, 4]
    elif response.status_code == 404:
        assert response.json()["detail"] == "customer CABLEANDINA not found"


@pytest.mark.parametrize("role", ALL_ROLES)
def test_read_telecaribe_per_role(lone_backend, auth_headers, role) -> None:
    response = call(lone_backend, auth_headers, role, "GET", "/customers/TELECARIBE/deployment-plan")
    assert response.status_code == READ_CARIBE[role], response.text
    if response.status_code == 200:
        assert response.json()["customer"] == "TELECARIBE"
        assert [s["state"] for s in response.json()["stages"]].count("current") == 1


@pytest.mark.parametrize("role", ALL_ROLES)
def test_move_per_role(lone_backend, auth_headers, role) -> None:
    path = "/customers/TELECARIBE/deployment-plan"
    before = call(lone_backend, auth_headers, "admin", "GET", path).json()
    target = before["current_stage"] % 5 + 1
    response = call(
        lone_backend, auth_headers, role, "PATCH", path, json={"stage": target, "note": f"Movido por {role}"}
    )
    assert response.status_code == STAFF_ONLY[role], response.text
    after = call(lone_backend, auth_headers, "admin", "GET", path).json()
    if response.status_code == 200:
        PlanOut.model_validate(response.json())
        assert response.json() == after
        assert after["current_stage"] == target
        last = after["history"][-1]
        assert (last["stage"], last["note"], last["author"]) == (
            target,
            f"Movido por {role}",
            f"{role}@promptlink.example",
        )
        # Put it back (also logged), so every case starts from the same plan.
        back = call(lone_backend, auth_headers, role, "PATCH", path, json={"stage": before["current_stage"]})
        assert back.status_code == 200
    else:
        assert after == before


@pytest.mark.parametrize("role", STAFF + CABLEANDINA)
def test_an_unknown_customer_is_404(lone_backend, auth_headers, role) -> None:
    response = call(lone_backend, auth_headers, role, "GET", "/customers/NADIE/deployment-plan")
    assert response.status_code == 404 and response.json()["detail"] == "customer NADIE not found"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"stage": 6}, "stage must be an integer from 1 to 5"),
        ({"stage": "3"}, "stage must be an integer from 1 to 5"),
        ({}, "stage must be an integer from 1 to 5"),
        ({"stage": 4}, "the plan is already at stage 4"),
        ({"stage": 3, "note": ["x"]}, "note must be text of at most 2000 characters"),
    ],
)
def test_invalid_moves_are_422(lone_backend, auth_headers, body, detail) -> None:
    response = call(
        lone_backend, auth_headers, "supervisor", "PATCH", "/customers/CABLEANDINA/deployment-plan", json=body
    )
    assert (response.status_code, response.json()["detail"]) == (422, detail)


def test_every_route_is_in_the_openapi_document(lone_backend) -> None:
    spec = httpx.get(f"{lone_backend.base_url}/docs/openapi.json", timeout=10).json()
    for path, method in [
        ("/api/v1/customers/{code}/deployment-plan", "get"),
        ("/api/v1/customers/{code}/deployment-plan", "patch"),
    ]:
        assert spec["paths"][path][method]["summary"], (path, method)
