"""The JSON of `/api/v1/rmas` (shapes in `schemas/rmas.py`)."""

from __future__ import annotations

from typing import Any

from promptlink.models import TicketEvent
from promptlink.services import rmas as svc


def rma(row: svc.RmaRow) -> dict[str, Any]:
    item = row.rma
    return {
        "number": item.number,
        "ticket": row.ticket_number,
        "customer": row.customer_code,
        "device": row.device_name,
        "serial": item.serial,
        "shipping_method": item.shipping_method,
        "status": item.status,
        "status_name": svc.STATUS_NAMES[item.status],
        "next_statuses": sorted(svc.TRANSITIONS[item.status]),
        "tracking": item.tracking,
        "created_at": item.created_at.isoformat(),
        "updated_at": item.updated_at.isoformat(),
    }


def rma_list(rows: list[svc.RmaRow]) -> dict[str, Any]:
    return {"items": [rma(row) for row in rows]}


def rma_updated(row: svc.RmaRow, event: TicketEvent) -> dict[str, Any]:
    return {"rma": rma(row), "event": event.to_dict()}
