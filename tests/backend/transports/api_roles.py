"""Every caller of the REST API, for role tables against the real `lone_backend`.

Role keys are those of the `auth_headers` fixture (tests/conftest.py) plus
`service_as_maria`: the action server on behalf of TELECARIBE's contact.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import SERVICE_TOKEN

STAFF = ["l1", "l2", "l3", "supervisor", "admin"]
CABLEANDINA = ["service_as_ana", "ana", "luis"]
TELECARIBE = ["service_as_maria", "maria"]
ALL_ROLES = [*STAFF, "service", *CABLEANDINA, *TELECARIBE, "anonymous"]


def headers(auth_headers: dict[str, dict[str, str]], role: str) -> dict[str, str]:
    if role == "service_as_maria":
        return {"Authorization": f"Bearer {SERVICE_TOKEN}", "X-On-Behalf-Of": "maria.rodriguez@telecaribe.example"}
    return auth_headers[role]


def call(
    lone_backend: Any, auth_headers: dict[str, dict[str, str]], role: str, method: str, path: str, **kwargs: Any
) -> httpx.Response:
    """One request to `/api/v1{path}` as `role`."""
    return httpx.request(
        method,
        f"{lone_backend.base_url}/api/v1{path}",
        headers=headers(auth_headers, role),
        timeout=15,
        **kwargs,
    )


def expect(table: dict[str, int], **overrides: int) -> dict[str, int]:
    """A status per role, from a base table with a few exceptions."""
    return {**table, **overrides}


# The usual outcomes: support staff only, or staff plus the customer itself.
STAFF_ONLY = {
    **dict.fromkeys(STAFF, 200),
    **dict.fromkeys(["service", *CABLEANDINA, *TELECARIBE], 403),
    "anonymous": 401,
}
