"""Customers as support staff look them up: contracts, contacts and registered devices."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from promptlink.models import Customer, Device
from promptlink.services.errors import NotFound


@dataclass
class CustomerFile:
    """A customer (contracts and contacts loaded) and its devices."""

    customer: Customer
    devices: list[Device]


def _with_people() -> Select[tuple[Customer]]:
    return select(Customer).options(selectinload(Customer.contracts), selectinload(Customer.contacts))


async def list_customers(*, session: AsyncSession, customer_id: int | None = None) -> list[CustomerFile]:
    """Every customer by code (or only `customer_id`), each with its devices by name."""
    query = _with_people().order_by(Customer.code)
    if customer_id is not None:
        query = query.where(Customer.id == customer_id)
    customers = list(await session.scalars(query))
    devices = list(
        await session.scalars(
            select(Device).where(Device.customer_id.in_([c.id for c in customers])).order_by(Device.name)
        )
    )
    return [CustomerFile(c, [d for d in devices if d.customer_id == c.id]) for c in customers]


async def get_customer(*, session: AsyncSession, code: str) -> CustomerFile:
    """The customer `code` with its devices; NotFound when there is none."""
    found = await session.scalar(_with_people().where(Customer.code == code))
    if found is None:
        raise NotFound(f"customer {code} not found", public="El cliente no existe.")
    devices = list(await session.scalars(select(Device).where(Device.customer_id == found.id).order_by(Device.id)))
    return CustomerFile(found, devices)
