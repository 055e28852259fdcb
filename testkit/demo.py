"""The demo mode's credentials (PROMPTLINK_DEMO=1 seeds them; none is valid outside demo mode) and the
tokens a running backend gives for them."""

from __future__ import annotations

ANA = "ana.gomez@cableandina.example"
LUIS = "luis.perez@cableandina.example"
MARIA = "maria.rodriguez@telecaribe.example"
DEMO_PASSWORDS = {
    "l1@promptlink.example": "demo-l1-pass",
    "l2@promptlink.example": "demo-l2-pass",
    "l3@promptlink.example": "demo-l3-pass",
    "supervisor@promptlink.example": "demo-supervisor-pass",
    "admin@promptlink.example": "demo-admin-pass",
}
SERVICE_TOKEN = "demo-service-token-not-for-production"
DEMO_SESSION_SECRET = "demo-session-secret-not-for-production"
RASA_CHANNEL_TOKEN = "demo-rasa-channel-token-not-for-production"


def agent_token(base_url: str, email: str, password: str) -> str:
    """Log a demo agent in through the API; returns its bearer token."""
    import httpx

    response = httpx.post(f"{base_url}/api/v1/auth/login", json={"email": email, "password": password}, timeout=10)
    response.raise_for_status()
    return str(response.json()["token"])


def agent_headers(base_url: str, email: str) -> dict[str, str]:
    """The request headers of a demo agent, logged in with its demo password."""
    return {"Authorization": f"Bearer {agent_token(base_url, email, DEMO_PASSWORDS[email])}"}


def widget_token(base_url: str, contact: str) -> str:
    """The chat widget's identity token for a demo contact (`/demo/identity`)."""
    import httpx

    response = httpx.post(f"{base_url}/demo/identity", json={"contact": contact}, timeout=10)
    response.raise_for_status()
    return str(response.json()["token"])


def service_headers(contact: str | None = None, *, conversation_id: str = "test-conversation") -> dict[str, str]:
    """The action server's headers in demo mode: the service token with the conversation token the backend
    gives Rasa for `conversation_id` (a conversation of `contact`), on behalf of `contact` when given."""
    from promptlink.services.conversation_token import HEADER, key_from, sign

    # Valid for a day: session fixtures keep these headers for the whole run.
    token = sign(key=key_from(DEMO_SESSION_SECRET), conversation_id=conversation_id, contact=contact, lifetime=86400)
    headers = {"Authorization": f"Bearer {SERVICE_TOKEN}", HEADER: token}
    if contact:
        headers["X-On-Behalf-Of"] = contact
    return headers


def create_ticket(base_url: str, headers: dict[str, str], **fields: object) -> dict[str, object]:
    """`POST /api/v1/tickets` (201 expected): the new ticket as the API answers it."""
    import httpx

    response = httpx.post(f"{base_url}/api/v1/tickets", json=fields, headers=headers, timeout=15)
    assert response.status_code == 201, response.text
    return dict(response.json())


def hand_off(
    base_url: str, conversation_id: str, tier: str, ticket: str | None, reason: str = "Pide una persona"
) -> None:
    """Queue the conversation for `tier` as the action server does (its service token and conversation token)."""
    import httpx

    response = httpx.post(
        f"{base_url}/api/v1/conversations/{conversation_id}/handoff",
        json={"tier": tier, "reason": reason, "ticket": ticket},
        headers=service_headers(conversation_id=conversation_id),
        timeout=15,
    )
    assert response.status_code == 200, response.text
