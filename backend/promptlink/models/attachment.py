"""Files attached to chat messages and tickets (issue 15). The bytes live outside the database,
under `<var>/attachments/<sha256[:2]>/<sha256>` (services/attachments.py); a row describes one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from promptlink.models.base import Base, utcnow

UPLOADER_KINDS = ("customer", "agent", "email")


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    file_name: Mapped[str] = mapped_column(String(255))  # sanitised: no path, no control characters
    media_type: Mapped[str] = mapped_column(String(100))  # found from the content, never from the name
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    uploader_kind: Mapped[str] = mapped_column(String(16))  # customer | agent | email
    uploader_id: Mapped[str] = mapped_column(String(254), default="")  # contact e-mail, agent id, sender
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
