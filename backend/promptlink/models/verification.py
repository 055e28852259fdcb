"""One-time codes that let an anonymous chat visitor prove to be a customer's contact."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from promptlink.models.base import Base, utcnow


class Verification(Base):
    """A code sent to a contact's e-mail for one conversation (only its hash is stored).

    Every start is recorded, also when the e-mail named no contact (`contact_id` and
    `code_hash` are then empty): the rate limit counts it, and confirming it fails like
    a wrong code, so the answers never reveal which e-mails belong to customers.
    """

    __tablename__ = "verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    code_hash: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    verified_at: Mapped[datetime | None] = mapped_column()
