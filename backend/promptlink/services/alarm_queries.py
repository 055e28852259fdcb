"""Read-only look-ups of equipment alarms for the REST API (whose alarms a caller sees)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Alarm, Customer
from promptlink.services.alarms import all_open_alarms, open_alarms
from promptlink.services.errors import NotFound


@dataclass
class OpenAlarms:
    """Open alarms, one customer's (`customer` set) or every customer's (`customer` None)."""

    customer: Customer | None
    alarms: list[Alarm]


async def open_alarms_for(
    *, session: AsyncSession, customer_id: int | None = None, customer_code: str | None = None, limit: int
) -> OpenAlarms:
    """The open alarms of the customer `customer_id` (a customer's own), else of the customer
    `customer_code` (staff choosing one; 404 when unknown), else of every customer (staff)."""
    customer = None
    if customer_id is not None:
        customer = await session.get(Customer, customer_id)
        if customer is None:
            raise NotFound(f"customer {customer_id} not found", public="El cliente no existe.")
    elif customer_code:
        customer = await session.scalar(select(Customer).where(Customer.code == customer_code))
        if customer is None:
            raise NotFound("unknown customer", public="El cliente no existe.")
    if customer is None:
        return OpenAlarms(None, await all_open_alarms(session=session, limit=limit))
    return OpenAlarms(customer, await open_alarms(session=session, customer_id=customer.id, limit=limit))
