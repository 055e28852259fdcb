"""Chat conversations and their messages (per-conversation `seq`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from promptlink.models.agent import Agent
from promptlink.models.base import Base, utcnow
from promptlink.models.customer import Contact, Customer

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
    # Live chat with a person: who has it, who it was offered to, and how it ended.
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    offered_to_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    offered_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    resolution: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(String(1000))
    rated_at: Mapped[datetime | None] = mapped_column()
    # The assistant's form whose question is open (Rasa's active loop after its last turn), if any:
    # monitoring notices wait until it is answered (services/alarm_notices.py).
    bot_form: Mapped[str | None] = mapped_column(String(64))

    customer: Mapped[Customer | None] = relationship(lazy="joined")
    contact: Mapped[Contact | None] = relationship(lazy="joined")
    agent: Mapped[Agent | None] = relationship(lazy="joined", foreign_keys=[agent_id])


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
    # A customer's message: the assistant's form whose question was open when it came (migration 0017;
    # not yet used to leave form answers out of the review inbox: see the migration's docstring).
    form: Mapped[str | None] = mapped_column(String(64))
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


# What happened to a live chat, for the transcript view, the log and the dashboard.
CONVERSATION_EVENT_KINDS = (
    "queued",  # handed to a tier's queue (by the assistant, staff, or the customer)
    "offered",  # offered to an agent by automatic assignment
    "claimed",  # an agent took it
    "transferred",  # moved to another tier's queue, with a reason
    "handed_back",  # back to the assistant
    "closed",  # ended with a resolution
    "rated",  # the customer's satisfaction answer
    "note",  # internal note between staff (never shown to the customer)
    "no_agents",  # queued while nobody of the tier was online
    "transcript",  # the customer had the ended chat sent by e-mail (`text`: to whom)
)


class ConversationEvent(Base):
    """Append-only log of a conversation's live-chat life (internal; never sent to the customer)."""

    __tablename__ = "conversation_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    tier: Mapped[str | None] = mapped_column(String(4))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    author: Mapped[str] = mapped_column(String(254), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    value: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "tier": self.tier,
            "agent_id": self.agent_id,
            "author": self.author,
            "text": self.text,
            "value": self.value,
            "created_at": self.created_at.isoformat(),
        }
