"""The one client the actions use to reach the backend's REST API (never SQL).

Every call that concerns a customer is made *on behalf of* the identified contact
(`X-On-Behalf-Of`), so the backend applies that customer's permissions: a customer
never sees another customer's tickets, whatever the conversation says.

Every call also carries the conversation token the backend put in the message's metadata
(`X-Conversation-Token`): the backend acts for a contact, or hands off and verifies a
conversation, only with a valid token of that conversation. The action server entrypoint
(bot/action_server.py) sets it per action call (`set_conversation_token`), so the actions
never handle it. A call for a customer without a contact is not sent at all: the service
token alone is not a customer.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from typing import Any, Dict, List, Optional, Protocol

import aiohttp

# The most open alarms one question fetches; when this many come back there may be more.
OPEN_ALARMS_LIMIT = 10
# Where the backend puts the conversation token (message metadata), and how it is sent back.
METADATA_TOKEN_KEY = "conversation_token"
TOKEN_HEADER = "X-Conversation-Token"

_conversation_token: ContextVar[Optional[str]] = ContextVar("promptlink_conversation_token", default=None)


def set_conversation_token(token: Optional[str]) -> None:
    """The conversation token of the action call being run (the action server sets it per call)."""
    _conversation_token.set(token)


def conversation_token() -> Optional[str]:
    return _conversation_token.get()


class BackendError(Exception):
    """The backend refused the request; `status` and `detail` say why."""

    def __init__(self, status: int, detail: str, body: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.detail = detail
        self.body = body or {}


class BackendUnavailable(BackendError):
    """The backend could not be reached at all."""

    def __init__(self, detail: str) -> None:
        super().__init__(0, detail)


class Backend(Protocol):
    """What the actions need from the backend (implemented by BackendClient and test fakes)."""

    async def create_ticket(self, *, contact: str, body: Dict[str, Any], idempotency_key: str) -> Dict[str, Any]: ...

    async def get_ticket(self, *, contact: str, number: str) -> Optional[Dict[str, Any]]: ...

    async def open_tickets(self, *, contact: str) -> List[Dict[str, Any]]: ...

    async def open_tickets_page(self, *, contact: str, limit: int) -> Dict[str, Any]: ...

    async def deployment_plan(self, *, contact: str, customer: str) -> Dict[str, Any]: ...

    async def request_training(self, *, contact: str, body: Dict[str, Any]) -> Dict[str, Any]: ...

    async def handoff(
        self, *, conversation_id: str, tier: str, reason: str, ticket: Optional[str]
    ) -> Dict[str, Any]: ...

    async def start_verification(self, *, conversation_id: str, customer: str, email: str) -> Dict[str, Any]: ...

    async def confirm_verification(self, *, conversation_id: str, code: str) -> Dict[str, Any]: ...

    async def open_alarms(self, *, contact: str) -> List[Dict[str, Any]]: ...

    async def customer_devices(self, *, contact: str, customer: str) -> Dict[str, Any]: ...

    async def preview_ticket(self, *, contact: str, body: Dict[str, Any]) -> Dict[str, Any]: ...

    async def add_comment(self, *, contact: str, number: str, text: str) -> Dict[str, Any]: ...


class BackendClient:
    """aiohttp client with the service token; one session per action server process."""

    def __init__(self, base_url: Optional[str] = None, token: Optional[str] = None, timeout: float = 15.0) -> None:
        self.base_url = (base_url or os.environ.get("PROMPTLINK_BACKEND_URL", "http://127.0.0.1:8000")).rstrip("/")
        self._token = token or os.environ.get("PROMPTLINK_SERVICE_TOKEN", "")
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=3)
        self._session: Optional[aiohttp.ClientSession] = None

    async def _request(
        self,
        method: str,
        path: str,
        *,
        contact: Optional[str] = None,
        as_service: bool = False,
        json: Any = None,
        headers: Optional[Dict[str, str]] = None,
        allow_404: bool = False,
    ) -> Any:
        if not as_service and not (contact and contact.strip()):
            # Without a contact the call would be the service token's own: never for a customer's data.
            raise BackendError(403, "no contact to act on behalf of")
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        all_headers = {"Authorization": f"Bearer {self._token}", **(headers or {})}
        if contact:
            all_headers["X-On-Behalf-Of"] = contact
        token = conversation_token()
        if token:
            all_headers[TOKEN_HEADER] = token
        try:
            async with self._session.request(method, self.base_url + path, json=json, headers=all_headers) as resp:
                if allow_404 and resp.status == 404:
                    return None
                body = await resp.json(content_type=None) if resp.content_length != 0 else None
                if resp.status >= 400:
                    detail = body.get("detail", "") if isinstance(body, dict) else str(body)
                    raise BackendError(resp.status, detail, body if isinstance(body, dict) else None)
                return body
        except (aiohttp.ClientConnectionError, aiohttp.ServerTimeoutError, TimeoutError) as exc:
            raise BackendUnavailable(f"{type(exc).__name__}: {exc}") from exc

    async def create_ticket(self, *, contact: str, body: Dict[str, Any], idempotency_key: str) -> Dict[str, Any]:
        result: Dict[str, Any] = await self._request(
            "POST", "/api/v1/tickets", contact=contact, json=body, headers={"Idempotency-Key": idempotency_key}
        )
        return result

    async def get_ticket(self, *, contact: str, number: str) -> Optional[Dict[str, Any]]:
        result: Optional[Dict[str, Any]] = await self._request(
            "GET", f"/api/v1/tickets/{number}", contact=contact, allow_404=True
        )
        return result

    async def open_tickets(self, *, contact: str) -> List[Dict[str, Any]]:
        body = await self._request("GET", "/api/v1/tickets?status=new,open,pending_customer&limit=20", contact=contact)
        return list(body["items"])

    async def open_tickets_page(self, *, contact: str, limit: int) -> Dict[str, Any]:
        """`{items, total}`: the first `limit` open tickets of the company (most urgent update first) and how many
        are open in all, so that a shortened list can say so."""
        result: Dict[str, Any] = await self._request(
            "GET", f"/api/v1/tickets?status=new,open,pending_customer&limit={int(limit)}", contact=contact
        )
        return result

    async def deployment_plan(self, *, contact: str, customer: str) -> Dict[str, Any]:
        result: Dict[str, Any] = await self._request(
            "GET", f"/api/v1/customers/{customer}/deployment-plan", contact=contact
        )
        return result

    async def request_training(self, *, contact: str, body: Dict[str, Any]) -> Dict[str, Any]:
        result: Dict[str, Any] = await self._request("POST", "/api/v1/training-requests", contact=contact, json=body)
        return result

    async def handoff(self, *, conversation_id: str, tier: str, reason: str, ticket: Optional[str]) -> Dict[str, Any]:
        result: Dict[str, Any] = await self._request(
            "POST",
            f"/api/v1/conversations/{conversation_id}/handoff",
            as_service=True,
            json={"tier": tier, "reason": reason, "ticket": ticket},
        )
        return result

    async def start_verification(self, *, conversation_id: str, customer: str, email: str) -> Dict[str, Any]:
        result: Dict[str, Any] = await self._request(
            "POST",
            "/api/v1/verification/start",
            as_service=True,
            json={"conversation_id": conversation_id, "customer": customer, "email": email},
        )
        return result

    async def confirm_verification(self, *, conversation_id: str, code: str) -> Dict[str, Any]:
        result: Dict[str, Any] = await self._request(
            "POST",
            "/api/v1/verification/confirm",
            as_service=True,
            json={"conversation_id": conversation_id, "code": code},
        )
        return result

    async def open_alarms(self, *, contact: str) -> List[Dict[str, Any]]:
        """The open alarms of the contact's company (SNMP monitoring)."""
        body = await self._request("GET", f"/api/v1/alarms?limit={OPEN_ALARMS_LIMIT}", contact=contact)
        return list(body["alarms"])

    async def customer_devices(self, *, contact: str, customer: str) -> Dict[str, Any]:
        """The company's registered devices and its time zone: `{timezone, devices: [{name, serial, model}]}`."""
        result: Dict[str, Any] = await self._request("GET", f"/api/v1/customers/{customer}/devices", contact=contact)
        return result

    async def preview_ticket(self, *, contact: str, body: Dict[str, Any]) -> Dict[str, Any]:
        """Priority, level and open tickets for the same device, for a ticket not created yet."""
        result: Dict[str, Any] = await self._request("POST", "/api/v1/tickets/preview", contact=contact, json=body)
        return result

    async def add_comment(self, *, contact: str, number: str, text: str) -> Dict[str, Any]:
        """Add the customer's new information to an open ticket of their company."""
        result: Dict[str, Any] = await self._request(
            "POST", f"/api/v1/tickets/{number}/comments", contact=contact, json={"text": text}
        )
        return result


_client: Optional[Backend] = None


def backend() -> Backend:
    """The process-wide backend client (tests install a fake with `use_backend`)."""
    global _client
    if _client is None:
        _client = BackendClient()
    return _client


def use_backend(client: Optional[Backend]) -> None:
    global _client
    _client = client
