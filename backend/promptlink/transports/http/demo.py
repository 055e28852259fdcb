"""The demo site: `/` with the widget, demo identities and the demo mailbox (demo mode only).

In production the customer's own website signs the widget token; here the backend signs
one for a chosen demo contact so the widget can be tried.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sanic import Blueprint, Request
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse, file, json

from promptlink.models import OutboxItem
from promptlink.services.demo_data import demo_contacts
from promptlink.services.identity import issue_widget_token
from promptlink.services.outbox import recent_emails
from promptlink.transports.http.common import body as json_body

bp = Blueprint("demo", url_prefix="/demo")
PAGES = Path(__file__).resolve().parents[2] / "web" / "pages"
MAILBOX_SIZE = 200


def _require_demo(request: Request) -> None:
    if not request.app.ctx.settings.demo:
        raise NotFound("demo endpoints are only served in demo mode")


@bp.get("/identities")
async def identities(request: Request) -> HTTPResponse:
    _require_demo(request)
    async with request.app.ctx.sessions() as session:
        contacts = await demo_contacts(session=session)
    return json(
        {
            "identities": [
                {"label": f"{c.name} — {c.customer.name}", "contact": c.email, "customer": c.customer.code}
                for c in contacts
            ]
        }
    )


@bp.post("/identity")
async def identity(request: Request) -> HTTPResponse:
    _require_demo(request)
    body = json_body(request)  # checked once at the edge, as every body
    email = body.get("contact")
    async with request.app.ctx.sessions() as session:
        contacts = {c.email: c for c in await demo_contacts(session=session)}
    contact = contacts.get(email) if isinstance(email, str) else None
    if contact is None:
        return json({"detail": "unknown demo contact"}, status=404)
    token = issue_widget_token(
        secret=request.app.ctx.settings.secret("widget_secret"),
        email=contact.email,
        customer=contact.customer.code,
        name=contact.name,
    )
    return json({"token": token})


def _mail_json(item: OutboxItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "recipient": item.recipient,
        "subject": item.subject,
        "body": item.body,
        "state": item.state,
        "delivered_via": (item.headers or {}).get("X-Delivered-Via"),
        "attempts": item.attempts,
        "created_at": item.created_at.isoformat(),
        "sent_at": item.sent_at.isoformat() if item.sent_at else None,
    }


@bp.get("/api/mailbox")
async def mailbox_api(request: Request) -> HTTPResponse:
    """The e-mails the backend sent (or will send), newest first: `?to=` filters by recipient."""
    _require_demo(request)
    recipient = (request.args.get("to") or "").strip()[:254] or None
    async with request.app.ctx.sessions() as session:
        items = await recent_emails(session=session, recipient=recipient, limit=MAILBOX_SIZE)
    return json({"items": [_mail_json(item) for item in items]})


@bp.get("/mailbox")
async def mailbox_page(request: Request) -> HTTPResponse:
    _require_demo(request)
    return await file(PAGES / "mailbox.html", mime_type="text/html; charset=utf-8")
