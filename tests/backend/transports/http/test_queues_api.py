"""`/api/v1/queues` and `/api/v1/customers` answer as the OpenAPI document says (who sees what is
in tests/backend/transports/http/test_tickets_api.py)."""

from __future__ import annotations

import httpx
from promptlink.transports.http.api import ErrorOut
from promptlink.transports.http.schemas.queues import CustomerList, CustomerOut, QueuesOut

from testkit.api_roles import call


def test_queues(lone_backend, auth_headers) -> None:
    created = call(
        lone_backend,
        auth_headers,
        "supervisor",
        "POST",
        "/tickets",
        json={"customer": "CABLEANDINA", "type": "configuration", "title": "En la cola de L1"},
    )
    assert created.status_code == 201, created.text
    answer = QueuesOut.model_validate(call(lone_backend, auth_headers, "supervisor", "GET", "/queues").json())
    assert [q.tier for q in answer.queues] == ["L1", "L2", "L3"]
    (l1,) = [q for q in answer.queues if q.tier == "L1"]
    assert created.json()["number"] in {t.number for t in l1.tickets} and l1.total >= len(l1.tickets)
    refused = call(lone_backend, auth_headers, "ana", "GET", "/queues")
    assert refused.status_code == 403 and ErrorOut.model_validate(refused.json()).message


def test_customers(lone_backend, auth_headers) -> None:
    every = CustomerList.model_validate(call(lone_backend, auth_headers, "l1", "GET", "/customers").json())
    assert [c.code for c in every.items] == ["CABLEANDINA", "TELECARIBE"]
    one = call(lone_backend, auth_headers, "ana", "GET", "/customers/CABLEANDINA")
    assert one.status_code == 200, one.text
    cableandina = CustomerOut.model_validate(one.json())
    assert cableandina.devices and cableandina.contacts and len(cableandina.business_hours) == 2
    assert one.json() == next(c for c in every.model_dump()["items"] if c["code"] == "CABLEANDINA")
    missing = httpx.get(f"{lone_backend.base_url}/api/v1/customers/NADIE", headers=auth_headers["l1"], timeout=10)
    assert missing.status_code == 404 and ErrorOut.model_validate(missing.json()).message
