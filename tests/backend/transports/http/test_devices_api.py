"""`/api/v1/customers/{code}/devices` for every caller: a customer never sees another company's devices."""

from __future__ import annotations

import pytest
from promptlink.transports.http.api import ErrorOut
from promptlink.transports.http.schemas.devices import CustomerDevices

from testkit.api_roles import ALL_ROLES, CABLEANDINA, STAFF, TELECARIBE, call

CABLEANDINA_DEVICES = {
    "customer": "CABLEANDINA",
    "timezone": "America/Bogota",
    "devices": [
        {"name": "cmts-bog-01", "serial": "PLK-CMTS-0001", "model": "PL-CMTS 3200"},
        {"name": "cmts-bog-02", "serial": "PLK-CMTS-0002", "model": "PL-CMTS 3200"},
    ],
}
EXPECTED = {
    **dict.fromkeys(STAFF, 200),
    **dict.fromkeys(CABLEANDINA, 200),
    **dict.fromkeys(TELECARIBE, 404),
    "service": 403,  # the service token alone is nobody's customer: it acts on behalf of a contact
    "anonymous": 401,
}


@pytest.mark.parametrize("role", ALL_ROLES)
def test_devices_per_role(lone_backend, auth_headers, role) -> None:
    response = call(lone_backend, auth_headers, role, "GET", "/customers/CABLEANDINA/devices")
    assert response.status_code == EXPECTED[role], response.text
    if response.status_code == 200:
        CustomerDevices.model_validate(response.json())
        assert response.json() == CABLEANDINA_DEVICES
    elif response.status_code == 404:
        assert response.json() == {"detail": "customer CABLEANDINA not found", "message": "El cliente no existe."}
        ErrorOut.model_validate(response.json())


@pytest.mark.parametrize("role", [*TELECARIBE, "l1"])
def test_a_customer_reads_its_own_devices(lone_backend, auth_headers, role) -> None:
    response = call(lone_backend, auth_headers, role, "GET", "/customers/TELECARIBE/devices")
    assert response.status_code == 200
    assert response.json() == {
        "customer": "TELECARIBE",
        "timezone": "America/Santo_Domingo",
        "devices": [{"name": "olt-sdq-01", "serial": "PLK-OLT-0101", "model": "PL-OLT 1600"}],
    }


@pytest.mark.parametrize("role", ["supervisor", "ana", "service_as_ana"])
def test_an_unknown_customer_is_404_for_everyone(lone_backend, auth_headers, role) -> None:
    response = call(lone_backend, auth_headers, role, "GET", "/customers/NADIE/devices")
    assert response.status_code == 404


def test_the_route_is_described_in_the_openapi_document(lone_backend) -> None:
    import httpx

    spec = httpx.get(f"{lone_backend.base_url}/docs/openapi.json", timeout=10).json()
    assert spec["paths"]["/api/v1/customers/{code}/devices"]["get"]["summary"]
    assert spec["paths"]["/api/v1/tickets/preview"]["post"]["summary"]
    assert "device_text" in spec["paths"]["/api/v1/tickets"]["post"]["description"]
