"""The bug-tracking module: its own tables, linked to tickets of the incident system."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from promptlink.models.base import Base, utcnow

STATES = ("new", "confirmed", "in_progress", "fixed", "released", "wont_fix")


class Bug(Base):
    __tablename__ = "bugs"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str | None] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    product: Mapped[str] = mapped_column(String(100), default="")
    version: Mapped[str | None] = mapped_column(String(50))  # the version the fault was reported on
    state: Mapped[str] = mapped_column(String(16), default="new", index=True)
    fixed_in_version: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class BugTicketLink(Base):
    __tablename__ = "bug_ticket_links"
    __table_args__ = (UniqueConstraint("bug_id", "ticket_id", name="uq_bug_ticket_links_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bug_id: Mapped[int] = mapped_column(ForeignKey("bugs.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)


class BugEvent(Base):
    __tablename__ = "bug_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    bug_id: Mapped[int] = mapped_column(ForeignKey("bugs.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(254), default="system")
