"""A ticket's append-only history (TicketEvent): writing an entry, reading the entries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Ticket, TicketEvent


def entry(
    ticket: Ticket,
    now: datetime,
    kind: str,
    author: str,
    *,
    text: str,
    public: bool = False,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A history entry as a row (for a multi-row INSERT, or a TicketEvent)."""
    return {
        "ticket_id": ticket.id,
        "at": now,
        "kind": kind,
        "public": public,
        "author": author,
        "text": text,
        "data": data or {},
    }


def log_event(
    session: AsyncSession, ticket: Ticket, now: datetime, kind: str, author: str, **details: Any
) -> TicketEvent:
    """Add one entry to `ticket`'s history; `details` are `entry`'s (text, public: internal unless
    True, data)."""
    event = TicketEvent(**entry(ticket, now, kind, author, **details))
    session.add(event)
    return event


async def history(*, session: AsyncSession, ticket: Ticket, public_only: bool = False) -> list[TicketEvent]:
    query = select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
    if public_only:
        query = query.where(TicketEvent.public.is_(True))
    return list(await session.scalars(query.order_by(TicketEvent.id)))
