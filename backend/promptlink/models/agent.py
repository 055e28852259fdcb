"""Support staff: agents of tiers L1/L2/L3, supervisors and administrators."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from promptlink.models.base import Base

ROLES = ("agent", "supervisor", "admin")
PRESENCE = ("online", "away", "offline")


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    tiers: Mapped[str] = mapped_column(String(16), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Live chat: whether the agent takes chats now, how many at once, and the on-call L3 for P1 alerts.
    presence: Mapped[str] = mapped_column(String(8), default="offline")
    presence_at: Mapped[datetime | None] = mapped_column()
    capacity: Mapped[int] = mapped_column(Integer, default=3)
    on_call: Mapped[bool] = mapped_column(Boolean, default=False)
    # In every login token (`ver`); logout, a password reset or deactivation raise it, and tokens
    # carrying an older value are refused (issue #13 F11).
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @property
    def tier_list(self) -> list[str]:
        return [t for t in self.tiers.split(",") if t]
