"""A customer's registered equipment, and what a customer means when it names a device.

Customers write device names as they say them («CMTS BOG 01», «cmts bog-01»): a name
matches a registered device when both are equal without case, spaces, hyphens or
underscores.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Customer, Device
from promptlink.services.errors import NotFound

_SEPARATORS = re.compile(r"[\s\-_]+")


def squash(name: str) -> str:
    """The comparable form of a device name: no case, spaces, hyphens or underscores."""
    return _SEPARATORS.sub("", name).casefold()


def match_device(devices: Iterable[Device], name: str) -> Device | None:
    """The device among `devices` called `name` (as a customer writes it), if any."""
    wanted = squash(name)
    if not wanted:
        return None
    return next((d for d in devices if squash(d.name) == wanted), None)


async def customer_devices(*, session: AsyncSession, customer_id: int) -> list[Device]:
    """The customer's registered devices, by name."""
    return list(await session.scalars(_CUSTOMER_DEVICES, {"customer_id": customer_id}))


_CUSTOMER_DEVICES = select(Device).where(Device.customer_id == bindparam("customer_id")).order_by(Device.name)


async def devices_of(*, session: AsyncSession, code: str) -> tuple[Customer, list[Device]]:
    """The customer `code` and its devices; NotFound when there is no such customer."""
    customer = await session.scalar(select(Customer).where(Customer.code == code))
    if customer is None:
        raise NotFound(f"customer {code} not found", public="El cliente no existe.")
    return customer, await customer_devices(session=session, customer_id=customer.id)
