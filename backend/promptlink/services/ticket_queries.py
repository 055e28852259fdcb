"""Read lookups around tickets: rows a request names, a ticket with what its JSON shows, a caller's list.

Nothing here writes. The intake (`services.intake`) and the tickets API (`transports/http/tickets.py`)
look rows up through these functions instead of querying themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from promptlink.models import Agent, Contact, Customer, Ticket, TicketEvent
from promptlink.services.auth import Principal
from promptlink.services.errors import InvalidInput
from promptlink.services.staff_names import staff_names
from promptlink.services.ticket_events import history
from promptlink.services.ticket_links import TicketLinks, ticket_links
from promptlink.services.ticket_lists import TicketFilter, list_tickets
from promptlink.vocabulary import STATUSES, TIERS


async def customer_by_code(session: AsyncSession, code: str, *, contracts: bool = False) -> Customer | None:
    """The customer of `code`; with `contracts`, its contracts loaded by the same query (a ticket's
    classification reads them: one SELECT instead of two)."""
    query = _CUSTOMER_WITH_CONTRACTS if contracts else _CUSTOMER
    found: Customer | None = (await session.scalars(query, {"code": code})).unique().first()
    return found


async def contact_by_email(session: AsyncSession, email: str) -> Contact | None:
    """The contact whose address is `email` (addresses are stored lower-case)."""
    found: Contact | None = await session.scalar(_CONTACT, {"email": email.strip().lower()})
    return found


# Built once: the statements of every ticket create (their cache keys are computed once too).
_CUSTOMER = select(Customer).where(Customer.code == bindparam("code"))
_CUSTOMER_WITH_CONTRACTS = _CUSTOMER.options(joinedload(Customer.contracts))
_CONTACT = select(Contact).where(Contact.email == bindparam("email"))


async def ticket_by_number(session: AsyncSession, number: str) -> Ticket | None:
    found: Ticket | None = await session.scalar(select(Ticket).where(Ticket.number == number))
    return found


async def assignee_named(session: AsyncSession, email: str) -> Agent:
    """The agent a ticket is to be assigned to, by e-mail (any case); 422 when there is none."""
    agent = await session.scalar(select(Agent).where(Agent.email == email.lower()))
    if agent is None:
        raise InvalidInput("unknown assignee", public="El agente no existe.")
    return agent


async def links_of(session: AsyncSession, ticket: Ticket) -> TicketLinks:
    """What `ticket` points to (related ticket, RMA, bug), for its JSON."""
    return (await ticket_links(session=session, tickets=[ticket]))[ticket.id]


@dataclass(frozen=True)
class TicketDetail:
    """A ticket as one reader sees it: its links, its history (the public part for a customer)
    and, for staff, its assignee."""

    ticket: Ticket
    staff: bool
    links: TicketLinks
    history: list[TicketEvent]
    assignee: Agent | None = None
    author_names: dict[str, str] = field(default_factory=dict)  # staff e-mail -> name (staff readers)


async def ticket_detail(
    *,
    session: AsyncSession,
    ticket: Ticket,
    staff: bool,
    links: TicketLinks | None = None,
    written: list[TicketEvent] | None = None,
    author_names: dict[str, str] | None = None,
) -> TicketDetail:
    """`ticket` with what its JSON shows. For a ticket just created: its `links`, its whole history
    as `written` and, when every staff author among it is known, their `author_names`: then
    nothing is read back."""
    if links is None:
        links = await links_of(session, ticket)
    if written is None:
        events = await history(session=session, ticket=ticket, public_only=not staff)
    else:
        events = [e for e in written if staff or e.public]
    assignee = await session.get(Agent, ticket.assignee_id) if staff and ticket.assignee_id else None
    names: dict[str, str] = {}
    if staff:
        names = (
            author_names
            if author_names is not None
            else await staff_names(session=session, emails=(e.author for e in events))
        )
    return TicketDetail(ticket, staff, links, events, assignee, names)


@dataclass(frozen=True)
class TicketSearch:
    """What a caller asks of the ticket list (`GET /api/v1/tickets`)."""

    statuses: tuple[str, ...] = ()
    tier: str | None = None
    priority: int | None = None
    customer: str | None = None  # a customer code (staff only)
    text: str = ""
    overdue: bool = False
    mine: bool = False
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class TicketPage:
    items: list[Ticket] = field(default_factory=list)
    total: int = 0
    links: dict[int, TicketLinks] = field(default_factory=dict)


async def visible_tickets(
    *, session: AsyncSession, caller: Principal, search: TicketSearch, now: datetime
) -> TicketPage:
    """The tickets `caller` may read that match `search`, with their links.

    Agents see their own tiers and the lower ones (`mine`: their assigned tickets in any tier);
    supervisors and admins all; customers only their own company's (`services.access`).
    """
    if any(s not in STATUSES for s in search.statuses):
        raise InvalidInput("unknown status filter", public="Filtro de estado no válido.")
    tiers: tuple[str, ...] = (search.tier,) if search.tier else ()
    if caller.role == "agent" and not search.mine:
        tiers = tuple(t for t in (tiers or TIERS) if caller.can_see_tier(t))
        if not tiers:
            return TicketPage()
    customer_id = caller.customer_id if caller.role == "customer" else None
    if caller.role != "customer" and search.customer:
        customer = await customer_by_code(session, search.customer)
        customer_id = customer.id if customer else -1  # an unknown code matches no ticket
    filters = TicketFilter(
        customer_id=customer_id,
        tiers=tiers,
        statuses=search.statuses,
        priority=search.priority or None,
        assignee_id=caller.agent_id if search.mine else None,
        overdue_at=now if search.overdue else None,
        query=search.text[:100],
    )
    items, total = await list_tickets(session=session, filters=filters, limit=search.limit, offset=search.offset)
    return TicketPage(items, total, await ticket_links(session=session, tickets=items))
