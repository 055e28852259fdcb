"""RMAs: hardware replacements under a hardware contract, shipped by the fastest method.

A hardware-failure ticket of a customer with a hardware contract opens its RMA (see
`tickets.create_ticket`); here staff move it along. Every change is logged in the
ticket's history, and the customer is told when the replacement ships.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Customer, Device, Rma, Ticket, TicketEvent
from promptlink.services.errors import InvalidInput, NotFound
from promptlink.services.notifications import inform_customer

STATUSES = ("requested", "approved", "shipped", "delivered", "closed")
TRANSITIONS: dict[str, frozenset[str]] = {
    "requested": frozenset({"approved", "closed"}),
    "approved": frozenset({"shipped", "closed"}),
    "shipped": frozenset({"delivered"}),
    "delivered": frozenset({"closed"}),
    "closed": frozenset(),
}
STATUS_NAMES = {
    "requested": "solicitada",
    "approved": "aprobada",
    "shipped": "enviada",
    "delivered": "entregada",
    "closed": "cerrada",
}
MAX_TRACKING = 100


class RmaRow(NamedTuple):
    """An RMA with the ticket, customer and device it is shown with."""

    rma: Rma
    ticket_number: str | None
    customer_code: str
    device_name: str | None


def _rows_query() -> Select[tuple[Rma, str | None, str, str]]:
    # The device is optional (an outer join): its name is None when the RMA has none.
    return (
        select(Rma, Ticket.number, Customer.code, Device.name)
        .join(Ticket, Ticket.id == Rma.ticket_id)
        .join(Customer, Customer.id == Rma.customer_id)
        .outerjoin(Device, Device.id == Rma.device_id)
    )


async def customer_id_for(*, session: AsyncSession, code: str) -> int:
    """The id of the customer `code` (a list filter); -1 matches nothing when it does not exist."""
    found = await session.scalar(select(Customer.id).where(Customer.code == code))
    return found if found is not None else -1


async def list_rmas(
    *,
    session: AsyncSession,
    customer_id: int | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[RmaRow]:
    """RMAs, newest first, optionally of one customer or in one status."""
    q = _rows_query()
    if customer_id is not None:
        q = q.where(Rma.customer_id == customer_id)
    if status is not None:
        if status not in STATUSES:
            raise InvalidInput(f"unknown RMA status {status!r}", public="Filtro de estado no válido.")
        q = q.where(Rma.status == status)
    rows = await session.execute(q.order_by(Rma.id.desc()).limit(max(1, min(limit, 200))).offset(max(0, offset)))
    return [RmaRow(*row) for row in rows.tuples()]


async def get_rma(*, session: AsyncSession, number: str) -> RmaRow:
    row = (await session.execute(_rows_query().where(Rma.number == number))).tuples().first()
    if row is None:
        raise NotFound(f"RMA {number} not found", public="La sustitución de hardware no existe.")
    return RmaRow(*row)


def _tracking(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TRACKING:
        raise InvalidInput(
            f"tracking must be text of 1-{MAX_TRACKING} characters", public="El número de seguimiento no es válido."
        )
    return value.strip()


async def update_rma(
    *, session: AsyncSession, rma: Rma, status: Any, tracking: Any, author: str, now: datetime
) -> TicketEvent:
    """Move an RMA on (approved, shipped, delivered, closed); logged in the ticket's history.

    Shipping needs a tracking number and informs the customer's notification parties.
    """
    if not isinstance(status, str) or status not in STATUSES:
        raise InvalidInput(f"unknown RMA status {status!r}", public="El estado de la sustitución no es válido.")
    if status not in TRANSITIONS[rma.status]:
        raise InvalidInput(
            f"an RMA cannot go from {rma.status} to {status}",
            public=f"La sustitución no puede pasar de «{STATUS_NAMES[rma.status]}» a «{STATUS_NAMES[status]}».",
        )
    rma.tracking = _tracking(tracking) or rma.tracking
    if status == "shipped" and not rma.tracking:
        raise InvalidInput("shipping needs a tracking number", public="Indique el número de seguimiento del envío.")
    ticket = await session.get(Ticket, rma.ticket_id)
    if ticket is None:  # the foreign key makes this impossible; keep the type checker honest
        raise NotFound(f"ticket of RMA {rma.number} not found", public="El tiquete no existe.")
    previous, rma.status, rma.updated_at = rma.status, status, now
    data = {"rma": rma.number, "from": previous, "to": status, "tracking": rma.tracking}
    if status == "shipped":
        item = f" ({rma.serial})" if rma.serial else ""
        event = await inform_customer(
            session=session,
            ticket=ticket,
            author=author,
            now=now,
            kind="rma",
            text=(
                f"El equipo de reemplazo{item} de la sustitución {rma.number} ya fue enviado. "
                f"Método de envío: {rma.shipping_method}. Número de seguimiento: {rma.tracking}."
            ),
        )
        event.data = {**event.data, **data}
        return event
    ticket.updated_at = now
    event = TicketEvent(
        ticket_id=ticket.id,
        at=now,
        kind="rma",
        public=True,
        author=author,
        text=f"Sustitución de hardware {rma.number}: {STATUS_NAMES[status]}.",
        data=data,
    )
    session.add(event)
    return event
