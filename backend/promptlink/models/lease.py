"""Who holds each cluster-wide singleton (infra/lease.py writes it; /api/v1/health reads it).

`generation` grows by one at each acquisition: the fencing token a holder's writes check, so a
paused former holder cannot commit after another process took over.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from promptlink.models.base import Base, utcnow


class LeaseRecord(Base):
    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))  # host:pid of the last process that acquired it
    generation: Mapped[int] = mapped_column(BigInteger)
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
