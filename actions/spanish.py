"""Spanish wording the customer reads: counted nouns and dates in words.

Pure functions (no locale, no clock): `setlocale` is process-wide and the action server
image carries no Spanish locale, so day and month names come from the CLDR data Babel
ships (as the backend's `services/spanish.py` keeps its own month names: another process,
another environment); callers pass `now`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Optional, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import get_day_names, get_month_names

# «lunes» … «domingo» (Monday first, as `date.weekday()`), «enero» … «diciembre».
WEEKDAYS = tuple(get_day_names("wide", locale="es")[day] for day in range(7))
MONTHS = tuple(get_month_names("wide", locale="es")[month] for month in range(1, 13))


def plural(n: int, singular: str, plural_form: str) -> str:
    """«1 tiquete» / «3 tiquetes» / «0 tiquetes»: the number followed by the right form."""
    return f"{n} {singular if n == 1 else plural_form}"


def date_in_words(d: date) -> str:
    """«lunes 18 de enero de 2027»."""
    return f"{WEEKDAYS[d.weekday()]} {d.day} de {MONTHS[d.month - 1]} de {d.year}"


def zone(tz: Union[str, tzinfo, None]) -> tzinfo:
    """The IANA zone `tz` (or `tz` itself when it already is a zone); UTC when missing or unknown.

    A wrong hour beats a crash in front of the customer.
    """
    if isinstance(tz, tzinfo):
        return tz
    try:
        return ZoneInfo(tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def datetime_in_words(dt: datetime, tz: Union[str, tzinfo], now: Optional[datetime] = None) -> str:
    """`dt` seen from time zone `tz` (IANA name such as «America/Bogota», or a tzinfo), relative to `now`.

    «hoy a las 09:00», «ayer a las 18:30», «mañana a las 08:00», «el lunes 30 de noviembre
    a las 09:00» (the year is added when it is not the year of `now`). Naive datetimes are
    taken as UTC, which is what the backend stores.
    """
    local_zone = zone(tz)
    local = _aware(dt).astimezone(local_zone)
    today = _aware(now or datetime.now(timezone.utc)).astimezone(local_zone).date()
    clock = f"a las {local:%H:%M}"
    day = local.date()
    if day == today:
        return f"hoy {clock}"
    if day == today - timedelta(days=1):
        return f"ayer {clock}"
    if day == today + timedelta(days=1):
        return f"mañana {clock}"
    words = f"el {WEEKDAYS[day.weekday()]} {day.day} de {MONTHS[day.month - 1]}"
    if day.year != today.year:
        words += f" de {day.year}"
    return f"{words} {clock}"


def parse_datetime(raw: object) -> Optional[datetime]:
    """An ISO 8601 timestamp from the backend's JSON («…Z» included), or None when it is not one."""
    if isinstance(raw, datetime):
        return raw
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = raw.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)
