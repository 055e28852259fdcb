"""`/api/v1/auth` answers as its OpenAPI document says (the throttling and revocation are in
tests/security/test_auth.py)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from promptlink.transports.http.api import ErrorOut
from promptlink.transports.http.schemas.auth import LoggedOut, LoginOut, MeOut

# Failed logins are counted per client address: these come from an address of their own
# (tests/security/test_auth.py uses 127.0.0.2-254, the other tests 127.0.0.1).
ADDRESS = "127.0.1.9"


def _login(lone_backend, body: object) -> httpx.Response:
    with httpx.Client(transport=httpx.HTTPTransport(local_address=ADDRESS), timeout=30) as client:
        return client.post(f"{lone_backend.base_url}/api/v1/auth/login", json=body)


def test_login_me_and_logout(lone_backend, auth_headers) -> None:
    # An account of its own: logging out ends every token of the account.
    email, password = f"auth.api.{uuid.uuid4().hex[:8]}@promptlink.example", "clave-" + uuid.uuid4().hex[:12]
    created = httpx.post(
        f"{lone_backend.base_url}/api/v1/admin/users",
        headers=auth_headers["admin"],
        json={"email": email, "name": "Agente de prueba", "role": "agent", "tiers": ["L2"], "password": password},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    good = _login(lone_backend, {"email": email, "password": password})
    assert good.status_code == 200, good.text
    session = LoginOut.model_validate(good.json())
    assert session.agent.email == email and session.agent.tiers == ["L2"]
    headers = {"Authorization": f"Bearer {session.token}"}
    me = httpx.get(f"{lone_backend.base_url}/api/v1/auth/me", headers=headers, timeout=10)
    assert MeOut.model_validate(me.json()).role == "agent"
    anonymous = httpx.get(f"{lone_backend.base_url}/api/v1/auth/me", timeout=10)
    assert anonymous.status_code == 401 and ErrorOut.model_validate(anonymous.json()).message
    out = httpx.post(f"{lone_backend.base_url}/api/v1/auth/logout", headers=headers, timeout=10)
    assert out.status_code == 200 and LoggedOut.model_validate(out.json()).status == "logged out"
    assert httpx.get(f"{lone_backend.base_url}/api/v1/auth/me", headers=headers, timeout=10).status_code == 401


def test_a_customer_and_the_service_are_callers_too(lone_backend, auth_headers) -> None:
    for role, expected in (("ana", "customer"), ("service", "service"), ("service_as_ana", "customer")):
        me = httpx.get(f"{lone_backend.base_url}/api/v1/auth/me", headers=auth_headers[role], timeout=10)
        assert me.status_code == 200, me.text
        answer = MeOut.model_validate(me.json())
        assert answer.role == expected and (answer.customer_id is not None) == (expected == "customer")


@pytest.mark.parametrize("body", [{"email": 5, "password": "x"}, {"email": ["a"], "password": None}, {}])
def test_malformed_credentials_are_the_one_401(lone_backend, body) -> None:
    """Not a 422 naming the field: every refusal looks alike (and counts for the throttle)."""
    refused = _login(lone_backend, body)
    assert refused.status_code == 401, refused.text
    assert ErrorOut.model_validate(refused.json()).detail == "invalid credentials"


def test_a_body_that_is_not_an_object_is_a_422(lone_backend) -> None:
    refused = _login(lone_backend, ["l2@promptlink.example"])
    assert refused.status_code == 422 and ErrorOut.model_validate(refused.json()).message
