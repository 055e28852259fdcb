"""Support staff: agents of tiers L1/L2/L3, supervisors and administrators."""

from __future__ import annotations

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

ROLES = ("agent", "supervisor", "admin")
TIERS = ("L1", "L2", "L3")


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    tiers: Mapped[str] = mapped_column(String(16), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def tier_list(self) -> list[str]:
        return [t for t in self.tiers.split(",") if t]
