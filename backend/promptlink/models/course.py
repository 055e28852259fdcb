"""On-site training requests: up to six attendees, two days, materials notice two weeks ahead.

The course terms are the support plan's (docs/support-plan.md#courses).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from promptlink.models.base import Base, utcnow

MAX_ATTENDEES = 6
DURATION_DAYS = 2
MATERIALS_NOTICE_DAYS = 14


class TrainingRequest(Base):
    __tablename__ = "training_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    requested_date: Mapped[date] = mapped_column(Date)
    attendees: Mapped[int] = mapped_column(Integer)
    duration_days: Mapped[int] = mapped_column(Integer, default=DURATION_DAYS)
    site: Mapped[str] = mapped_column(String(300), default="")
    topics: Mapped[str] = mapped_column(Text, default="")
    has_room: Mapped[bool] = mapped_column(Boolean, default=False)
    has_projector: Mapped[bool] = mapped_column(Boolean, default=False)
    has_whiteboard: Mapped[bool] = mapped_column(Boolean, default=False)
    has_workstations_internet: Mapped[bool] = mapped_column(Boolean, default=False)
    short_notice: Mapped[bool] = mapped_column(Boolean, default=False)
    materials_notice_due: Mapped[date] = mapped_column(Date)
    materials_notice_sent_at: Mapped[datetime | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="requested")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
