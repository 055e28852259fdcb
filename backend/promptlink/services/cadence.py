"""The update cadence (docs/support-plan.md#update-cadence): when the customer must next hear from the specialist.

P1 every two hours; P2 and P3 at the end of the customer's business day (in its time
zone; a ticket opened after the end of the day is due at the end of the next business
day; Saturdays and Sundays are not business days); P4 weekly.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

P1_INTERVAL = timedelta(hours=2)
P4_INTERVAL = timedelta(days=7)
WEEKEND = (5, 6)


def end_of_business_day(now: datetime, *, timezone: str, business_end: time) -> datetime:
    """The next end of a business day (Mon–Fri at `business_end`, local time) after `now`."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    day = local.date()
    while True:
        candidate = datetime.combine(day, business_end, tzinfo=zone)
        if day.weekday() not in WEEKEND and candidate > local:
            return candidate.astimezone(UTC)
        day += timedelta(days=1)


def next_update_due(now: datetime, *, priority: int, timezone: str, business_end: time) -> datetime:
    """When the next update to the customer is due for a ticket of this priority."""
    if priority == 1:
        return now + P1_INTERVAL
    if priority in (2, 3):
        return end_of_business_day(now, timezone=timezone, business_end=business_end)
    if priority == 4:
        return now + P4_INTERVAL
    raise ValueError(f"priority must be 1-4, not {priority}")
