"""Tickets of the service incident system and their append-only history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from promptlink.models.base import Base, utcnow
from promptlink.models.customer import Contact, Customer, Device
from promptlink.vocabulary import OPEN_STATUSES


class Ticket(Base):
    __tablename__ = "tickets"
    # The cadence sweeper looks for open tickets by due time (bench/sweep.py: SQLite scanned
    # every open ticket without it).
    __table_args__ = (Index("ix_tickets_status_next_update_due", "status", "next_update_due"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    reporter_email: Mapped[str | None] = mapped_column(String(254))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    # What the customer said about the incident, kept as said (the intake's structured fields).
    device_text: Mapped[str | None] = mapped_column(String(200))  # a device that is not registered
    serial: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[str | None] = mapped_column(String(50))
    error_message: Mapped[str | None] = mapped_column(Text)
    since: Mapped[datetime | None] = mapped_column()
    related_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id"))
    channel: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    priority: Mapped[int] = mapped_column(Integer)
    priority_reason: Mapped[str] = mapped_column(String(300), default="")
    tier: Mapped[str] = mapped_column(String(4), index=True)
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    verified: Mapped[bool] = mapped_column(Boolean, default=True)
    covered: Mapped[bool] = mapped_column(Boolean, default=True)
    coverage_note: Mapped[str] = mapped_column(String(300), default="")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    next_update_due: Mapped[datetime | None] = mapped_column(index=True)
    reminded_for: Mapped[datetime | None] = mapped_column()
    breached_for: Mapped[datetime | None] = mapped_column()
    breach_count: Mapped[int] = mapped_column(Integer, default=0)
    last_update_at: Mapped[datetime | None] = mapped_column()
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()

    customer: Mapped[Customer | None] = relationship(lazy="joined")
    contact: Mapped[Contact | None] = relationship(lazy="joined")
    device: Mapped[Device | None] = relationship(lazy="joined")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class TicketEvent(Base):
    """One entry of a ticket's history. Never updated or deleted."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    author: Mapped[str] = mapped_column(String(254), default="system")
    text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "kind": self.kind,
            "public": self.public,
            "author": self.author,
            "text": self.text,
            "data": self.data,
        }


class Rma(Base):
    """A hardware replacement, shipped by the fastest method available (docs/support-plan.md#hardware-replacement)."""

    __tablename__ = "rmas"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    device_text: Mapped[str | None] = mapped_column(String(200))  # the customer's words when not registered
    serial: Mapped[str] = mapped_column(String(100), default="")
    shipping_method: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="requested")
    tracking: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
