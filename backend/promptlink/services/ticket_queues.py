"""The ticket queues support staff work from: open tickets per tier, most urgent update first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Ticket
from promptlink.services.ticket_links import TicketLinks, ticket_links
from promptlink.services.ticket_lists import TicketFilter, list_tickets
from promptlink.vocabulary import OPEN_STATUSES

QUEUE_SIZE = 200  # the open tickets listed per tier (`total` counts them all)


@dataclass
class TierQueue:
    tier: str
    total: int
    overdue: int  # listed tickets whose next update is past due
    tickets: list[Ticket]
    links: dict[int, TicketLinks]


async def tier_queues(*, session: AsyncSession, tiers: Iterable[str], now: datetime) -> list[TierQueue]:
    """The open tickets of each of `tiers` (with their links, for their JSON)."""
    queues = []
    for tier in tiers:
        items, total = await list_tickets(
            session=session, filters=TicketFilter(tiers=(tier,), statuses=OPEN_STATUSES), limit=QUEUE_SIZE
        )
        overdue = sum(1 for t in items if t.next_update_due is not None and t.next_update_due < now)
        links = await ticket_links(session=session, tickets=items)
        queues.append(TierQueue(tier, total, overdue, items, links))
    return queues
