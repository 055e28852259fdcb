"""Alarms raised by network equipment (SNMP traps), correlated into tickets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from promptlink.models.base import Base, utcnow
from promptlink.models.customer import Customer, Device
from promptlink.models.ticket import Ticket

ALARM_STATES = ("open", "cleared")


class Alarm(Base):
    """One correlated alarm: every trap with the same key folds into it.

    The key is device + alarm (+ ifIndex). An alarm from an unknown device has no
    device or customer: it waits in L1's «alarmas sin asignar» list.
    """

    __tablename__ = "alarms"
    __table_args__ = (Index("ix_alarms_key_state", "key", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300))
    rule: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    source_address: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="open", index=True)
    priority: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer, default=1)
    cycles: Mapped[int] = mapped_column(Integer, default=0)
    flapping: Mapped[bool] = mapped_column(Boolean, default=False)
    trap_oid: Mapped[str] = mapped_column(String(200))
    varbinds: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column()
    # What the rule's `detected` text said (the customer's notice lists it), and the notice that tells it.
    detected: Mapped[str | None] = mapped_column(String(300))
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("alarm_notices.id"), index=True)
    # What that notice says of an alarm that came back after clearing («se detectó de nuevo», or that it is
    # now treated as intermittent); None: a new alarm, listed with what was detected.
    notice_line: Mapped[str | None] = mapped_column(String(500))

    device: Mapped[Device | None] = relationship(lazy="joined")
    customer: Mapped[Customer | None] = relationship(lazy="joined")
    ticket: Mapped[Ticket | None] = relationship(lazy="joined")


NOTICE_STATES = ("pending", "sent")


class AlarmNotice(Base):
    """One customer's notice of a wave of alarms: new alarms join it while it is pending.

    It is due `due_at` (a short quiet time after the wave's latest alarm, at most a bound after
    its first); it waits while one of the customer's chats has the assistant's form question
    open, but never past `hold_until`. Sent once: chat and e-mail, one message for the wave.
    """

    __tablename__ = "alarm_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    hold_until: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
