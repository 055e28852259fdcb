"""`GET /api/v1/canned-responses` (issue #15): staff only, each agent its tiers' and the common ones."""

from __future__ import annotations

import pytest
from promptlink.transports.http.schemas.canned import CannedResponseList

from testkit.api_roles import ALL_ROLES, STAFF_ONLY, call


@pytest.mark.parametrize("role", ALL_ROLES)
def test_only_staff_read_canned_responses(lone_backend, auth_headers, role: str) -> None:
    response = call(lone_backend, auth_headers, role, "GET", "/canned-responses")
    assert response.status_code == STAFF_ONLY[role], response.text
    if response.status_code == 200:
        CannedResponseList.model_validate(response.json())
    else:
        assert response.json()["message"] in ("No tiene permiso para esta acción.", "Debe iniciar sesión.")


def _tiers(lone_backend, auth_headers, role: str) -> set[str]:
    body = call(lone_backend, auth_headers, role, "GET", "/canned-responses").json()
    assert body["placeholders"] == ["nombre", "tiquete"]
    return {tier for r in body["responses"] for tier in r["tiers"]}


def test_each_agent_gets_the_common_ones_and_its_tiers(lone_backend, auth_headers) -> None:
    assert _tiers(lone_backend, auth_headers, "l1") == {"common", "L1"}
    assert _tiers(lone_backend, auth_headers, "l2") == {"common", "L2", "L3"}  # «registros» is for L2 and L3
    assert _tiers(lone_backend, auth_headers, "supervisor") == {"common", "L1", "L2", "L3"}
    body = call(lone_backend, auth_headers, "l1", "GET", "/canned-responses").json()
    greeting = next(r for r in body["responses"] if r["key"] == "saludo")
    assert greeting == {
        "key": "saludo",
        "title": "Saludo",
        "text": "Hola, {nombre}. Gracias por escribirnos; reviso su caso ahora mismo.",
        "tiers": ["common"],
    }
