"""The ticket list: filtered, most urgent update first, a page at a time (queues, search)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Ticket
from promptlink.services.search import contains_any


@dataclass(frozen=True)
class TicketFilter:
    customer_id: int | None = None
    contact_id: int | None = None
    tiers: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    priority: int | None = None
    assignee_id: int | None = None
    overdue_at: datetime | None = None
    query: str = ""
    channel: str | None = None


def _filtered(f: TicketFilter) -> Select[tuple[Ticket]]:
    q = select(Ticket)
    if f.customer_id is not None:
        q = q.where(Ticket.customer_id == f.customer_id)
    if f.contact_id is not None:
        q = q.where(Ticket.contact_id == f.contact_id)
    if f.tiers:
        q = q.where(Ticket.tier.in_(f.tiers))
    if f.statuses:
        q = q.where(Ticket.status.in_(f.statuses))
    if f.priority is not None:
        q = q.where(Ticket.priority == f.priority)
    if f.assignee_id is not None:
        q = q.where(Ticket.assignee_id == f.assignee_id)
    if f.channel is not None:
        q = q.where(Ticket.channel == f.channel)
    if f.overdue_at is not None:
        q = q.where(Ticket.next_update_due.is_not(None), Ticket.next_update_due < f.overdue_at)
    if f.query:
        q = q.where(contains_any(f.query.strip()[:100], Ticket.number, Ticket.title, Ticket.description))
    return q


async def list_tickets(
    *, session: AsyncSession, filters: TicketFilter, limit: int = 50, offset: int = 0
) -> tuple[list[Ticket], int]:
    """A page of tickets (most urgent update first) and the total that match."""
    q = _filtered(filters)
    total = await session.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = await session.scalars(
        q.order_by(Ticket.next_update_due.is_(None), Ticket.next_update_due, Ticket.priority, Ticket.id)
        .limit(max(1, min(limit, 200)))
        .offset(max(0, offset))
    )
    return list(rows), total
