"""The bug-tracking module: software faults tracked apart from the incident tickets.

States: new → confirmed → in_progress → fixed (in version X) → released; any open state
may end in wont_fix. Every change is logged on the bug and in each linked ticket's
history; a released fix informs the customers of the linked tickets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.infra.db import next_id
from promptlink.models import Bug, BugEvent, BugTicketLink, Ticket, TicketEvent
from promptlink.models.bug import STATES
from promptlink.services.errors import InvalidInput, NotFound
from promptlink.services.notifications import inform_customer
from promptlink.services.search import contains_any
from promptlink.services.ticket_events import add_event

TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"confirmed", "wont_fix"}),
    "confirmed": frozenset({"in_progress", "wont_fix"}),
    "in_progress": frozenset({"fixed", "wont_fix"}),
    "fixed": frozenset({"released"}),
    "released": frozenset(),
    "wont_fix": frozenset(),
}
STATE_NAMES = {
    "new": "nuevo",
    "confirmed": "confirmado",
    "in_progress": "en progreso",
    "fixed": "corregido",
    "released": "publicado",
    "wont_fix": "no se corregirá",
}
MAX_VERSION = 50
MAX_TITLE = 300
MAX_PRODUCT = 100
MAX_TEXT = 10_000


async def open_bug(
    *,
    session: AsyncSession,
    title: str,
    description: str,
    product: str,
    author: str,
    now: datetime,
    ticket: Ticket | None = None,
    version: str | None = None,
) -> Bug:
    bug = Bug(
        title=title[:MAX_TITLE],
        description=description,
        product=product[:MAX_PRODUCT],
        version=version[:MAX_VERSION] if version else None,
        state="new",
        created_at=now,
        updated_at=now,
    )
    bug.id = await next_id(session, Bug)  # the key goes in with the INSERT
    bug.key = f"BUG-{bug.id:06d}"
    session.add(bug)
    session.add(BugEvent(bug_id=bug.id, at=now, from_state=None, to_state="new", note="Registrado", author=author))
    if ticket is not None:
        _link(session, bug, ticket, author, now)  # a bug just opened links no ticket yet
    return bug


async def link_ticket(*, session: AsyncSession, bug: Bug, ticket: Ticket, author: str, now: datetime) -> None:
    exists = await session.scalar(
        select(BugTicketLink.id).where(BugTicketLink.bug_id == bug.id, BugTicketLink.ticket_id == ticket.id)
    )
    if exists is None:
        _link(session, bug, ticket, author, now)


def _link(session: AsyncSession, bug: Bug, ticket: Ticket, author: str, now: datetime) -> None:
    session.add(BugTicketLink(bug_id=bug.id, ticket_id=ticket.id))
    add_event(
        session,
        TicketEvent(
            ticket_id=ticket.id,
            at=now,
            kind="bug_linked",
            public=False,
            author=author,
            text=f"Vinculado a la falla {bug.key} en el sistema de seguimiento de fallas.",
            data={"bug": bug.key},
        ),
    )


async def get_bug(*, session: AsyncSession, key: str) -> Bug:
    bug = await session.scalar(select(Bug).where(Bug.key == key))
    if bug is None:
        raise NotFound(f"bug {key} not found", public="La falla no existe.")
    return bug


async def linked_tickets(*, session: AsyncSession, bug: Bug) -> list[Ticket]:
    rows = await session.scalars(
        select(Ticket)
        .join(BugTicketLink, BugTicketLink.ticket_id == Ticket.id)
        .where(BugTicketLink.bug_id == bug.id)
        .order_by(Ticket.id)
    )
    return list(rows)


async def transition_bug(
    *,
    session: AsyncSession,
    bug: Bug,
    to_state: str,
    author: str,
    now: datetime,
    note: str = "",
    version: str | None = None,
) -> Bug:
    """Move a bug to `to_state`; logs it on the bug and the linked tickets."""
    if not isinstance(to_state, str) or to_state not in TRANSITIONS:
        raise InvalidInput(f"unknown bug state {to_state!r}", public="El estado de la falla no es válido.")
    if to_state not in TRANSITIONS[bug.state]:
        raise InvalidInput(
            f"a bug cannot go from {bug.state} to {to_state}",
            public=f"La falla no puede pasar de «{STATE_NAMES[bug.state]}» a «{STATE_NAMES[to_state]}».",
        )
    if to_state == "fixed":
        if not version or not isinstance(version, str) or len(version) > MAX_VERSION:
            raise InvalidInput(
                "a fixed bug needs the version of the fix", public="Indique la versión que corrige la falla."
            )
        bug.fixed_in_version = version.strip()
    previous, bug.state, bug.updated_at = bug.state, to_state, now
    session.add(BugEvent(bug_id=bug.id, at=now, from_state=previous, to_state=to_state, note=note, author=author))
    label = STATE_NAMES[to_state] + (f" en la versión {bug.fixed_in_version}" if to_state == "fixed" else "")
    for ticket in await linked_tickets(session=session, bug=bug):
        session.add(
            TicketEvent(
                ticket_id=ticket.id,
                at=now,
                kind="bug_changed",
                public=False,
                author=author,
                text=f"La falla {bug.key} pasó a «{label}». {note}".strip(),
                data={"bug": bug.key, "from": previous, "to": to_state},
            )
        )
        if to_state == "released" and ticket.is_open:
            await inform_customer(
                session=session,
                ticket=ticket,
                author=author,
                now=now,
                kind="update",
                text=(
                    f"La corrección de la falla {bug.key} («{bug.title}») ya está publicada en la versión "
                    f"{bug.fixed_in_version}. Le ayudaremos a aplicarla si lo necesita."
                ),
            )
    return bug


def _text(value: Any, *, what: str, limit: int, public: str, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidInput(f"{what} is required and must be text", public=public)
    if len(value) > limit:
        raise InvalidInput(f"{what} longer than {limit} characters", public=public)
    return value.strip()


async def _ticket_by_number(session: AsyncSession, number: Any) -> Ticket:
    if not isinstance(number, str) or not number.strip():
        raise InvalidInput("ticket must be a ticket number", public="Indique el número del tiquete.")
    ticket = await session.scalar(select(Ticket).where(Ticket.number == number.strip()))
    if ticket is None:
        raise NotFound(f"ticket {number} not found", public="El tiquete no existe.")
    return ticket


async def report_bug(
    *,
    session: AsyncSession,
    title: Any,
    description: Any,
    product: Any,
    author: str,
    now: datetime,
    ticket_number: Any = None,
    version: Any = None,
) -> Bug:
    """Open a bug from untrusted input (the API), optionally linked to a ticket by its number."""
    title = _text(
        title, what="title", limit=MAX_TITLE, public="Indique un título de hasta 300 caracteres.", required=True
    )
    description = _text(description, what="description", limit=MAX_TEXT, public="La descripción es demasiado larga.")
    product = _text(product, what="product", limit=MAX_PRODUCT, public="El producto no es válido.")
    version = _text(version, what="version", limit=MAX_VERSION, public="La versión no es válida.")
    ticket = await _ticket_by_number(session, ticket_number) if ticket_number is not None else None
    return await open_bug(
        session=session,
        title=title,
        description=description,
        product=product,
        version=version or None,
        author=author,
        now=now,
        ticket=ticket,
    )


async def link_ticket_number(*, session: AsyncSession, bug: Bug, number: Any, author: str, now: datetime) -> bool:
    """Link the ticket `number` to `bug`; False when it was already linked."""
    ticket = await _ticket_by_number(session, number)
    already = await session.scalar(
        select(BugTicketLink.id).where(BugTicketLink.bug_id == bug.id, BugTicketLink.ticket_id == ticket.id)
    )
    if already is not None:
        return False
    await link_ticket(session=session, bug=bug, ticket=ticket, author=author, now=now)
    return True


async def change_bug_state(
    *, session: AsyncSession, bug: Bug, state: Any, note: Any, version: Any, author: str, now: datetime
) -> Bug:
    """`transition_bug` from untrusted input (the API)."""
    note = _text(note, what="note", limit=MAX_TEXT, public="La nota es demasiado larga.")
    if version is not None and not isinstance(version, str):
        raise InvalidInput("version must be text", public="Indique la versión que corrige la falla.")
    version = version.strip() or None if version is not None else None
    return await transition_bug(
        session=session, bug=bug, to_state=state, author=author, now=now, note=note, version=version
    )


def _bug_filter(state: str | None, query: str) -> Select[tuple[Bug]]:
    q = select(Bug)
    if state is not None:
        if state not in STATES:
            raise InvalidInput(f"unknown bug state {state!r}", public="Filtro de estado no válido.")
        q = q.where(Bug.state == state)
    if query.strip():
        q = q.where(contains_any(query.strip()[:100], Bug.key, Bug.title, Bug.description, Bug.product))
    return q


async def list_bugs(
    *, session: AsyncSession, state: str | None = None, query: str = "", limit: int = 50, offset: int = 0
) -> tuple[list[Bug], int]:
    """A page of bugs (most recently changed first) and the total that match."""
    q = _bug_filter(state, query)
    total = await session.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = await session.scalars(
        q.order_by(Bug.updated_at.desc(), Bug.id.desc()).limit(max(1, min(limit, 200))).offset(max(0, offset))
    )
    return list(rows), total


async def bug_history(*, session: AsyncSession, bug: Bug) -> list[BugEvent]:
    rows = await session.scalars(select(BugEvent).where(BugEvent.bug_id == bug.id).order_by(BugEvent.id))
    return list(rows)


@dataclass(frozen=True)
class BugDetail:
    """A bug with its linked tickets and its history, as support staff read it."""

    bug: Bug
    tickets: list[Ticket]
    history: list[BugEvent]


async def bug_detail(*, session: AsyncSession, bug: Bug) -> BugDetail:
    return BugDetail(bug, await linked_tickets(session=session, bug=bug), await bug_history(session=session, bug=bug))
