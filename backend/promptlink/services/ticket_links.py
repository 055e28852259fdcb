"""What a ticket points to, for its JSON: the related ticket, its RMA and its bug.

Read for many tickets at once (a queue, a list) in at most three queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Bug, BugTicketLink, Device, Rma, Ticket


@dataclass(frozen=True)
class TicketLinks:
    """What a ticket points to, for its JSON: the related ticket's number, its RMA, its bug."""

    related_number: str | None = None
    rma: Rma | None = None
    rma_device: str | None = None  # the RMA's registered device name, else the customer's words
    bug: Bug | None = None


async def ticket_links(*, session: AsyncSession, tickets: Sequence[Ticket]) -> dict[int, TicketLinks]:
    """The links of each ticket (by id) in at most three queries, for a list or one ticket."""
    if not tickets:
        return {}
    ids = [t.id for t in tickets]
    related_ids = {t.related_ticket_id for t in tickets if t.related_ticket_id is not None}
    numbers: dict[int, str | None] = {}
    if related_ids:
        rows = await session.execute(select(Ticket.id, Ticket.number).where(Ticket.id.in_(related_ids)))
        numbers = dict(rows.tuples().all())
    # Only a hardware failure opens an RMA; the newest one of a ticket is shown.
    rmas: dict[int, tuple[Rma, str | None]] = {}
    hardware = [t.id for t in tickets if t.type == "hardware_failure"]
    if hardware:
        rma_rows = await session.execute(
            select(Rma, Device.name)
            .outerjoin(Device, Device.id == Rma.device_id)
            .where(Rma.ticket_id.in_(hardware))
            .order_by(Rma.id)
        )
        rmas = {rma.ticket_id: (rma, name or rma.device_text) for rma, name in rma_rows.tuples()}
    # Any ticket may be linked to bugs (agents link them); the latest link is shown.
    bug_rows = await session.execute(
        select(BugTicketLink.ticket_id, Bug)
        .join(Bug, Bug.id == BugTicketLink.bug_id)
        .where(BugTicketLink.ticket_id.in_(ids))
        .order_by(BugTicketLink.id)
    )
    bugs = dict(bug_rows.tuples().all())
    links = {}
    for t in tickets:
        rma_row = rmas.get(t.id)
        links[t.id] = TicketLinks(
            related_number=numbers.get(t.related_ticket_id) if t.related_ticket_id is not None else None,
            rma=rma_row[0] if rma_row else None,
            rma_device=rma_row[1] if rma_row else None,
            bug=bugs.get(t.id),
        )
    return links
