"""The demo site: `/` with the widget, and demo identities (demo mode only).

In production the customer's own website signs the widget token; here the backend signs
one for a chosen demo contact so the widget can be tried.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse, json

from ...services.demo_data import demo_contacts
from ...services.identity import issue_widget_token

bp = Blueprint("demo", url_prefix="/demo")


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
    body = request.json if isinstance(request.json, dict) else {}
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
