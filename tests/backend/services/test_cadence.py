"""The update cadence: P1 every 2 h, P2/P3 end of the customer's business day, P4 weekly.

docs/support-plan.md#update-cadence
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from promptlink.services.cadence import end_of_business_day, next_update_due

BOGOTA = "America/Bogota"  # UTC-5, no DST
END = time(18, 0)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


CASES = [
    # (now UTC, priority, expected due UTC)
    (utc(2026, 11, 25, 15, 0), 1, utc(2026, 11, 25, 17, 0)),  # +2 h
    (utc(2026, 11, 25, 23, 30), 1, utc(2026, 11, 26, 1, 30)),  # +2 h, across midnight
    (utc(2026, 11, 25, 15, 0), 2, utc(2026, 11, 25, 23, 0)),  # Wed 10:00 Bogotá -> 18:00 Bogotá
    (utc(2026, 11, 25, 15, 0), 3, utc(2026, 11, 25, 23, 0)),
    (utc(2026, 11, 25, 23, 30), 2, utc(2026, 11, 26, 23, 0)),  # after 18:00 -> next day's end
    (utc(2026, 11, 27, 23, 30), 3, utc(2026, 11, 30, 23, 0)),  # Fri evening -> Monday's end
    (utc(2026, 11, 28, 15, 0), 2, utc(2026, 11, 30, 23, 0)),  # Saturday -> Monday's end
    (utc(2026, 11, 25, 15, 0), 4, utc(2026, 12, 2, 15, 0)),  # +7 days
]


@pytest.mark.parametrize(("now", "priority", "due"), CASES)
def test_next_update_due(now: datetime, priority: int, due: datetime) -> None:
    assert next_update_due(now, priority=priority, timezone=BOGOTA, business_end=END) == due


def test_end_of_day_is_in_the_customers_time_zone() -> None:
    now = utc(2026, 11, 25, 15, 0)
    bogota = end_of_business_day(now, timezone=BOGOTA, business_end=END)
    santo_domingo = end_of_business_day(now, timezone="America/Santo_Domingo", business_end=END)  # UTC-4
    assert bogota - santo_domingo == timedelta(hours=1)


def test_unknown_priority_is_an_error() -> None:
    with pytest.raises(ValueError):
        next_update_due(utc(2026, 1, 1), priority=5, timezone=BOGOTA, business_end=END)
