"""The Spanish words of what customers and agents read: dates, counted nouns, places.

The names of tiers, ticket statuses and channels are in `promptlink.vocabulary`.

Pure functions without `setlocale` (process-wide, and the servers carry no Spanish locale):
month names live here. Dates are shown in words in the reader's time zone, never in ISO.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MONTHS = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)


def plural(count: int, singular: str, plural_form: str) -> str:
    """«1 aviso», «3 avisos», «0 avisos»: the number and the noun in the right form."""
    return f"{count} {singular if count == 1 else plural_form}"


def zone(name: str | None) -> ZoneInfo:
    """The IANA zone `name`, or UTC when it is missing or unknown (a wrong hour beats a crash)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def date_in_words(day: date) -> str:
    """«3 de diciembre de 2026»."""
    return f"{day.day} de {MONTHS[day.month - 1]} de {day.year}"


def datetime_in_words(when: datetime, timezone: str | None) -> str:
    """«3 de diciembre de 2026, 14:52»: `when` (aware) on the clock of `timezone`."""
    local = when.astimezone(zone(timezone))
    return f"{date_in_words(local.date())}, {local:%H:%M}"


# Time zones as people say them («hora de Bogotá», not «hora de America/Bogota»).
ZONE_PLACES = {
    "Bogota": "Bogotá",
    "Mexico_City": "Ciudad de México",
    "Panama": "Panamá",
    "Asuncion": "Asunción",
    "Havana": "La Habana",
    "Sao_Paulo": "São Paulo",
}


def zone_in_words(zone: str) -> str:
    """The place of an IANA zone, in Spanish: «America/Santo_Domingo» → «Santo Domingo»; UTC stays UTC."""
    place = zone.rsplit("/", 1)[-1]
    return ZONE_PLACES.get(place, place.replace("_", " "))
