"""The JSON of `/api/v1/queues` and `/api/v1/customers` (shapes in `schemas/queues.py`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from promptlink.services.customers import CustomerFile
from promptlink.services.entitlement import entitlement_for
from promptlink.services.ticket_queues import TierQueue
from promptlink.transports.http.views.tickets import ticket_json


def queues(found: list[TierQueue], *, now: datetime) -> dict[str, Any]:
    return {
        "now": now.isoformat(),
        "queues": [
            {
                "tier": q.tier,
                "total": q.total,
                "overdue": q.overdue,
                "tickets": [ticket_json(t, staff=True, links=q.links[t.id]) for t in q.tickets],
            }
            for q in found
        ],
    }


def customer(found: CustomerFile, *, today: date) -> dict[str, Any]:
    """A customer with its contracts, what they cover `today`, its contacts and devices."""
    c = found.customer
    ent = entitlement_for(c, on=today)
    return {
        "code": c.code,
        "name": c.name,
        "timezone": c.timezone,
        "business_hours": [c.business_start.strftime("%H:%M"), c.business_end.strftime("%H:%M")],
        "contracts": [
            {"kind": k.kind, "starts_on": k.starts_on.isoformat(), "ends_on": k.ends_on.isoformat()}
            for k in c.contracts
        ],
        "entitlement": {"software": ent.software, "hardware": ent.hardware},
        "contacts": [
            {"email": p.email, "name": p.name, "notification_party": p.notification_party} for p in c.contacts
        ],
        "devices": [
            {"name": d.name, "serial": d.serial, "model": d.model, "address": d.mgmt_address} for d in found.devices
        ],
    }


def customer_list(found: list[CustomerFile], *, today: date) -> dict[str, Any]:
    return {"items": [customer(f, today=today) for f in found]}
