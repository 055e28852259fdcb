"""Customers and what they own: contracts, contacts and devices."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import Boolean, Date, ForeignKey, String, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from promptlink.models.base import Base


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    business_start: Mapped[time] = mapped_column(Time)
    business_end: Mapped[time] = mapped_column(Time)

    # Loaded only where used (`await customer.awaitable_attrs.contracts` or `selectinload`):
    # a customer is loaded with every conversation, ticket and widget login, and loading all its
    # contacts each time was most of a chat connect's cost (docs/performance.md, live chat).
    contracts: Mapped[list[Contract]] = relationship(back_populates="customer", lazy="select")
    contacts: Mapped[list[Contact]] = relationship(back_populates="customer", lazy="select")


class Contract(Base):
    """A support contract: `software` (support and maintenance) or `hardware`."""

    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)

    customer: Mapped[Customer] = relationship(back_populates="contracts")

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    notification_party: Mapped[bool] = mapped_column(Boolean, default=False)

    customer: Mapped[Customer] = relationship(back_populates="contacts", lazy="joined")


class Device(Base):
    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    serial: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(100))
    mgmt_address: Mapped[str] = mapped_column(String(64), index=True)
