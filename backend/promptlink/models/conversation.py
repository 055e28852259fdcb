"""Chat conversations and their messages (per-conversation `seq`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .customer import Contact, Customer

MODES = ("bot", "queued", "human", "closed")
ROLES = ("customer", "bot", "agent", "system")


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    mode: Mapped[str] = mapped_column(String(16), default="bot")
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Handoff to a human: the tier's queue it waits in, since when, why, and for which ticket.
    tier: Mapped[str | None] = mapped_column(String(4), index=True)
    queued_at: Mapped[datetime | None] = mapped_column()
    claimed_at: Mapped[datetime | None] = mapped_column()
    handoff_reason: Mapped[str | None] = mapped_column(String(300))
    ticket_number: Mapped[str | None] = mapped_column(String(32))
    # Set when an anonymous visitor proved to be `contact` with a one-time code.
    verified_at: Mapped[datetime | None] = mapped_column()

    customer: Mapped[Customer | None] = relationship(lazy="joined")
    contact: Mapped[Contact | None] = relationship(lazy="joined")


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),
        UniqueConstraint("conversation_id", "client_msg_id", name="uq_messages_conversation_client_msg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[str | None] = mapped_column(String(500))
    buttons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    author_name: Mapped[str | None] = mapped_column(String(200))
    client_msg_id: Mapped[str | None] = mapped_column(String(64))
    intent: Mapped[str | None] = mapped_column(String(100))
    confidence: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def to_event(self) -> dict[str, Any]:
        """The `message` event of the chat protocol."""
        event: dict[str, Any] = {
            "conversation_id": self.conversation_id,
            "seq": self.seq,
            "role": self.role,
            "text": self.text,
            "created_at": self.created_at.isoformat(),
        }
        if self.buttons:
            event["buttons"] = self.buttons
        if self.author_name:
            event["author_name"] = self.author_name
        return event
