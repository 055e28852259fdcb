"""Where the alarm worker stands in the SNMP trap journal (transports/snmp/journal.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from promptlink.models.base import Base, utcnow


class SnmpJournalCursor(Base):
    """Committed in the same transaction as the alarms of the records it names: exactly once."""

    __tablename__ = "snmp_journal_cursors"

    journal_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    low_seq: Mapped[int] = mapped_column(BigInteger)  # every record below it is done
    done: Mapped[str] = mapped_column(Text, default="[]")  # JSON [[first, last], ...] of done records above low_seq
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
