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


# `session.info` key: the entries added through `add_event` in this session, in order, so a new
# ticket's answer is built from what was written instead of being read back (`written_for`).
WRITTEN = "promptlink_ticket_events_written"


def add_event(session: AsyncSession, event: TicketEvent) -> TicketEvent:
    """Add `event` to the session (written at the next flush) and remember it for `written_for`."""
    session.add(event)
    session.info.setdefault(WRITTEN, []).append(event)
    return event


def written_for(session: AsyncSession, ticket_id: int) -> list[TicketEvent]:
    """The entries of `ticket_id` added through `add_event` in this session, in the order added
    (the order of their ids: one flush inserts one table's rows in that order)."""
    return [e for e in session.info.get(WRITTEN, ()) if e.ticket_id == ticket_id]


def log_event(
    session: AsyncSession, ticket: Ticket, now: datetime, kind: str, author: str, **details: Any
) -> TicketEvent:
    """Add one entry to `ticket`'s history; `details` are `entry`'s (text, public: internal unless
    True, data)."""
    return add_event(session, TicketEvent(**entry(ticket, now, kind, author, **details)))


async def history(*, session: AsyncSession, ticket: Ticket, public_only: bool = False) -> list[TicketEvent]:
    query = select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
    if public_only:
        query = query.where(TicketEvent.public.is_(True))
    return list(await session.scalars(query.order_by(TicketEvent.id)))
