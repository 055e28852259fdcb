"""The cadence sweeper: remind the assignee before an update is due, escalate a miss.

All state lives on the ticket (`reminded_for`, `breached_for` hold the due time they were
done for), so a restart between the due time and the sweep loses nothing and repeats
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Agent, Ticket, TicketEvent
from promptlink.services.outbox import enqueue_email
from promptlink.services.spanish import datetime_in_words, zone_in_words
from promptlink.vocabulary import OPEN_STATUSES


@dataclass(frozen=True)
class SweepResult:
    reminded: list[str]
    breached: list[str]


async def _tier_agents(session: AsyncSession, tier: str) -> list[Agent]:
    rows = await session.scalars(select(Agent).where(Agent.active.is_(True), Agent.role == "agent"))
    return [a for a in rows if tier in a.tier_list]


async def _supervisors(session: AsyncSession) -> list[Agent]:
    return list(await session.scalars(select(Agent).where(Agent.active.is_(True), Agent.role == "supervisor")))


def _when(ticket: Ticket, due: datetime) -> str:
    """The due time in words on the customer's clock (the one the obligation is measured on)."""
    zone = ticket.customer.timezone if ticket.customer else "UTC"
    return f"{datetime_in_words(due, zone)}, hora de {zone_in_words(zone)}"


def _alert(
    session: AsyncSession, ticket: Ticket, *, now: datetime, kind: str, text: str, recipients: list[str], subject: str
) -> None:
    """Log an internal reminder or breach on the ticket and e-mail the staff it concerns."""
    due = ticket.next_update_due
    assert due is not None
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            at=now,
            kind=kind,
            public=False,
            author="system",
            text=text,
            data={"due": due.isoformat(), "to": recipients},
        )
    )
    for email in recipients:
        enqueue_email(
            session=session,
            to=email,
            subject=f"[{ticket.number}] {subject}",
            body=f"{text}\n\nTiquete {ticket.number} (P{ticket.priority}, {ticket.tier}): {ticket.title}",
            now=now,
            ticket_id=ticket.id,
            headers={"Auto-Submitted": "auto-generated"},
        )


def _due_tickets(now: datetime, *, window: tuple[datetime | None, datetime], done_for: Any, limit: int) -> Any:
    """Open tickets whose next update is due in `window` (after, until) and not yet handled for
    that due time (`done_for` is `reminded_for` or `breached_for`)."""
    after, until = window
    q = select(Ticket).where(
        Ticket.status.in_(OPEN_STATUSES),
        Ticket.next_update_due.is_not(None),
        Ticket.next_update_due <= until,
        or_(done_for.is_(None), done_for != Ticket.next_update_due),
    )
    if after is not None:
        q = q.where(Ticket.next_update_due > after)
    # Several backend processes sweep: on PostgreSQL each takes the tickets the others are not
    # handling (SQLite serialises writers already and ignores the clause).
    return q.order_by(Ticket.next_update_due).limit(limit).with_for_update(skip_locked=True, of=Ticket)


async def _remind(session: AsyncSession, ticket: Ticket, now: datetime, tier_cache: dict[str, list[Agent]]) -> None:
    """Tell the assignee (or the ticket's tier when nobody has it) that an update is due soon."""
    due = ticket.next_update_due
    assert due is not None
    ticket.reminded_for = due
    if ticket.assignee_id is not None:
        assignee = await session.get(Agent, ticket.assignee_id)
        recipients = [assignee.email] if assignee else []
    else:
        if ticket.tier not in tier_cache:
            tier_cache[ticket.tier] = await _tier_agents(session, ticket.tier)
        recipients = [a.email for a in tier_cache[ticket.tier]]
    minutes = max(0, int((due - now).total_seconds() // 60))
    text = f"Recordatorio: la próxima actualización al cliente vence en {minutes} min ({_when(ticket, due)})."
    _alert(session, ticket, now=now, kind="reminder", text=text, recipients=recipients,
           subject="Actualización al cliente pendiente")


def _escalate(session: AsyncSession, ticket: Ticket, now: datetime, supervisors: list[str]) -> None:
    """Log a missed update and escalate it to the supervisors."""
    due = ticket.next_update_due
    assert due is not None
    ticket.breached_for = due
    ticket.breach_count += 1
    late = int((now - due).total_seconds() // 60)
    text = (
        f"Incumplimiento: la actualización al cliente venció el {_when(ticket, due)} "
        f"(hace {late} min). Escalado al supervisor."
    )
    _alert(session, ticket, now=now, kind="breach", text=text, recipients=supervisors,
           subject="Escalamiento: actualización vencida")


async def sweep(
    *,
    session: AsyncSession,
    now: datetime,
    reminder_lead: timedelta,
    fallback_supervisor: str,
    limit: int = 1000,
) -> SweepResult:
    """One pass: reminders for updates due within `reminder_lead`, breaches for missed ones."""
    breaches = list(await session.scalars(_due_tickets(now, window=(None, now), done_for=Ticket.breached_for,
                                                       limit=limit)))
    reminders = list(await session.scalars(_due_tickets(now, window=(now, now + reminder_lead),
                                                        done_for=Ticket.reminded_for, limit=limit)))
    supervisors: list[str] = []
    if breaches:
        supervisors = [a.email for a in await _supervisors(session)] or [fallback_supervisor]
    tier_cache: dict[str, list[Agent]] = {}
    for ticket in reminders:
        await _remind(session, ticket, now, tier_cache)
    for ticket in breaches:
        _escalate(session, ticket, now, supervisors)
    return SweepResult([t.number or "" for t in reminders], [t.number or "" for t in breaches])
