"""Every caller of the REST API, for role tables against the real `lone_backend`.

Role keys are those of the `auth_headers` fixture (tests/conftest.py) plus
`service_as_maria`: the action server on behalf of TELECARIBE's contact.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from testkit.demo import service_headers

STAFF = ["l1", "l2", "l3", "supervisor", "admin"]
CABLEANDINA = ["service_as_ana", "ana", "luis"]
TELECARIBE = ["service_as_maria", "maria"]
ALL_ROLES = [*STAFF, "service", *CABLEANDINA, *TELECARIBE, "anonymous"]


def headers(auth_headers: dict[str, dict[str, str]], role: str) -> dict[str, str]:
    if role == "service_as_maria":
        return service_headers("maria.rodriguez@telecaribe.example")
    return auth_headers[role]


def _conversation_named(path: str, json: Any) -> str | None:
    """The conversation a request is about: `/conversations/{id}/...` or a body's `conversation_id`."""
    found = re.match(r"/conversations/([^/?]+)", path)
    if found:
        return found.group(1)
    named = json.get("conversation_id") if isinstance(json, dict) else None
    return named if isinstance(named, str) else None


def call(
    lone_backend: Any, auth_headers: dict[str, dict[str, str]], role: str, method: str, path: str, **kwargs: Any
) -> httpx.Response:
    """One request to `/api/v1{path}` as `role`. The action server's (`service`) calls about a conversation
    carry that conversation's token, as Rasa's metadata gives it to the action server."""
    request_headers = headers(auth_headers, role)
    conversation = _conversation_named(path, kwargs.get("json")) if role == "service" else None
    if conversation is not None:
        request_headers = service_headers(conversation_id=conversation)
    return httpx.request(
        method,
        f"{lone_backend.base_url}/api/v1{path}",
        headers=request_headers,
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
