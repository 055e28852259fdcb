"""What happens to a ticket after it is created: updates, notes, priority, tier, status, assignee,
the customer's own additions. Each change is an entry in its history (`services.ticket_events`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Agent, Ticket, TicketEvent
from promptlink.services.errors import InvalidInput
from promptlink.services.notifications import inform_customer, schedule_next_update
from promptlink.services.ticket_events import log_event
from promptlink.services.tickets import MAX_TEXT
from promptlink.vocabulary import OPEN_STATUSES, PRIORITIES, STATUS_NAMES, STATUSES, TIERS


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what} is required", public="El texto está vacío.")
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"{what} longer than {MAX_TEXT} characters", public="El texto es demasiado largo.")
    return value.strip()


async def post_update(*, session: AsyncSession, ticket: Ticket, text: Any, author: str, now: datetime) -> TicketEvent:
    """A public update: reaches every notification party, is logged, moves next_update_due."""
    text = _text(text, "update text")
    if ticket.status == "new":
        ticket.status = "open"
    return await inform_customer(session=session, ticket=ticket, text=text, author=author, now=now)


async def add_note(*, session: AsyncSession, ticket: Ticket, text: Any, author: str, now: datetime) -> TicketEvent:
    """An internal note: logged, never shown to the customer."""
    ticket.updated_at = now
    return log_event(session, ticket, now, "note", author, text=_text(text, "note text"))


def _changed(
    session: AsyncSession,
    ticket: Ticket,
    now: datetime,
    author: str,
    what: str,
    change: tuple[Any, Any, str],
    *,
    text: str,
    public: bool,
) -> TicketEvent:
    """The entry of an agent's change of `what` (priority, tier): from, to and the reason (required)."""
    previous, new, reason = change
    data = {"from": previous, "to": new, "reason": reason}
    return log_event(session, ticket, now, f"{what}_changed", author, public=public, text=text, data=data)


async def change_priority(
    *, session: AsyncSession, ticket: Ticket, priority: int, reason: str, author: str, now: datetime
) -> TicketEvent:
    """An agent's override of the classified priority; the reason is required and logged."""
    if priority not in PRIORITIES or isinstance(priority, bool):
        raise InvalidInput("priority must be 1-4", public="La prioridad debe ser 1, 2, 3 o 4.")
    reason = _text(reason, "reason")
    previous = ticket.priority
    ticket.priority, ticket.priority_reason, ticket.updated_at = priority, reason, now
    schedule_next_update(ticket, ticket.customer, now=now)
    text = f"Prioridad cambiada de P{previous} a P{priority}: {reason}"
    return _changed(session, ticket, now, author, "priority", (previous, priority, reason), text=text, public=True)


async def change_tier(
    *, session: AsyncSession, ticket: Ticket, tier: str, reason: str, author: str, now: datetime
) -> TicketEvent:
    """A transfer to another tier (internal); the ticket leaves its assignee."""
    if tier not in TIERS:
        raise InvalidInput("tier must be L1, L2 or L3", public="El nivel debe ser L1, L2 o L3.")
    reason = _text(reason, "reason")
    previous = ticket.tier
    ticket.tier, ticket.assignee_id, ticket.updated_at = tier, None, now
    text = f"Transferido de {previous} a {tier}: {reason}"
    return _changed(session, ticket, now, author, "tier", (previous, tier, reason), text=text, public=False)


async def change_status(
    *,
    session: AsyncSession,
    ticket: Ticket,
    status: str,
    author: str,
    now: datetime,
    resolution: str = "",
) -> TicketEvent:
    if status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r}", public="El estado no es válido.")
    previous = ticket.status
    ticket.status, ticket.updated_at = status, now
    if status in ("resolved", "closed"):
        if not resolution.strip() and status == "resolved":
            raise InvalidInput("a resolution is required", public="Describa la resolución.")
        ticket.resolved_at = ticket.resolved_at or now
    elif previous not in OPEN_STATUSES:
        ticket.resolved_at = None  # reopened
    schedule_next_update(ticket, ticket.customer, now=now)
    text = f"Estado: {STATUS_NAMES[previous]} → {STATUS_NAMES[status]}."
    if resolution.strip():
        text += f" Resolución: {resolution.strip()}"
    if status == "resolved":
        return await inform_customer(
            session=session, ticket=ticket, text=text, author=author, now=now, kind="status_changed", move_cadence=False
        )
    return log_event(
        session, ticket, now, "status_changed", author, public=True, text=text, data={"from": previous, "to": status}
    )


async def assign(
    *, session: AsyncSession, ticket: Ticket, agent: Agent | None, author: str, now: datetime
) -> TicketEvent:
    if agent is not None and ticket.tier not in agent.tier_list and agent.role == "agent":
        raise InvalidInput(
            f"agent {agent.email} is not in tier {ticket.tier}",
            public=f"El agente no pertenece al nivel {ticket.tier}.",
        )
    ticket.assignee_id, ticket.updated_at = (agent.id if agent else None), now
    text = f"Asignado a {agent.name}." if agent else "Sin asignar."
    return log_event(
        session, ticket, now, "assigned", author, text=text, data={"agent": agent.email if agent else None}
    )


async def add_customer_message(
    *, session: AsyncSession, ticket: Ticket, text: Any, author: str, now: datetime, channel: str
) -> TicketEvent:
    """Information the customer adds to its ticket (chat, e-mail reply, API)."""
    if ticket.status == "pending_customer":
        ticket.status = "open"
    ticket.updated_at = now
    message = _text(text, "message")
    return log_event(
        session, ticket, now, "customer_message", author, public=True, text=message, data={"channel": channel}
    )
