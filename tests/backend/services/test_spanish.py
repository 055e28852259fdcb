"""The Spanish words customers read: counted nouns and dates in words in their time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from promptlink.services.spanish import date_in_words, datetime_in_words, plural, zone_in_words


@pytest.mark.parametrize(("count", "expected"), [(0, "0 avisos"), (1, "1 aviso"), (2, "2 avisos"), (41, "41 avisos")])
def test_plural_agrees_with_the_count(count: int, expected: str) -> None:
    assert plural(count, "aviso", "avisos") == expected


def test_a_date_in_words() -> None:
    assert date_in_words(date(2026, 12, 3)) == "3 de diciembre de 2026"
    assert date_in_words(date(2027, 1, 18)) == "18 de enero de 2027"


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("America/Bogota", "3 de diciembre de 2026, 14:52"),
        ("America/Santo_Domingo", "3 de diciembre de 2026, 15:52"),
        ("UTC", "3 de diciembre de 2026, 19:52"),
        ("Europe/Madrid", "3 de diciembre de 2026, 20:52"),
        ("Nowhere/Unknown", "3 de diciembre de 2026, 19:52"),  # an unknown zone reads as UTC
        (None, "3 de diciembre de 2026, 19:52"),
    ],
)
def test_a_moment_in_words_on_the_customers_clock(zone: str | None, expected: str) -> None:
    assert datetime_in_words(datetime(2026, 12, 3, 19, 52, tzinfo=UTC), zone) == expected


def test_the_day_changes_with_the_zone() -> None:
    new_year_utc = datetime(2027, 1, 1, 2, 5, tzinfo=UTC)
    assert datetime_in_words(new_year_utc, "America/Bogota") == "31 de diciembre de 2026, 21:05"


def test_time_zones_are_named_by_their_place() -> None:
    assert zone_in_words("America/Bogota") == "Bogotá"
    assert zone_in_words("America/Santo_Domingo") == "Santo Domingo"
    assert zone_in_words("UTC") == "UTC"
