"""Tests for `actions.spanish`: counted nouns and dates in words."""

from datetime import date, datetime, timedelta, timezone

import pytest

from actions.spanish import date_in_words, datetime_in_words, parse_datetime, plural

BOGOTA = "America/Bogota"  # UTC-5, no daylight saving
# Tuesday 1 December 2026, 14:00 in Bogotá.
NOW = datetime(2026, 12, 1, 19, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("n", "expected"),
    [(0, "0 tiquetes"), (1, "1 tiquete"), (2, "2 tiquetes"), (21, "21 tiquetes")],
)
def test_plural(n: int, expected: str) -> None:
    assert plural(n, "tiquete", "tiquetes") == expected


def test_plural_with_irregular_forms() -> None:
    assert plural(1, "aviso abierto", "avisos abiertos") == "1 aviso abierto"
    assert plural(4, "aviso abierto", "avisos abiertos") == "4 avisos abiertos"
    assert plural(1, "intento", "intentos") == "1 intento"


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2027, 1, 18), "lunes 18 de enero de 2027"),
        (date(2026, 11, 28), "sábado 28 de noviembre de 2026"),
        (date(2026, 9, 2), "miércoles 2 de septiembre de 2026"),
    ],
)
def test_date_in_words(day: date, expected: str) -> None:
    assert date_in_words(day) == expected


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (datetime(2026, 12, 1, 14, 0, tzinfo=timezone.utc), "hoy a las 09:00"),
        (datetime(2026, 12, 1, 23, 30, tzinfo=timezone.utc), "hoy a las 18:30"),
        (datetime(2026, 11, 30, 23, 30, tzinfo=timezone.utc), "ayer a las 18:30"),
        # 03:00 UTC on the 1st is still the 30th in Bogotá.
        (datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc), "ayer a las 22:00"),
        (datetime(2026, 12, 2, 13, 0, tzinfo=timezone.utc), "mañana a las 08:00"),
        (datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc), "el lunes 23 de noviembre a las 09:00"),
        (datetime(2025, 12, 31, 14, 0, tzinfo=timezone.utc), "el miércoles 31 de diciembre de 2025 a las 09:00"),
    ],
)
def test_datetime_in_words_is_relative_to_now_in_the_customer_zone(when: datetime, expected: str) -> None:
    assert datetime_in_words(when, BOGOTA, now=NOW) == expected


def test_datetime_in_words_takes_now_positionally_too() -> None:
    assert datetime_in_words(datetime(2026, 12, 1, 14, 0, tzinfo=timezone.utc), BOGOTA, NOW) == "hoy a las 09:00"


def test_naive_datetimes_are_utc_and_unknown_zones_fall_back_to_utc() -> None:
    assert datetime_in_words(datetime(2026, 12, 1, 14, 0), BOGOTA, now=NOW) == "hoy a las 09:00"
    assert datetime_in_words(datetime(2026, 12, 1, 14, 0, tzinfo=timezone.utc), "Mars/Olympus", now=NOW) == (
        "hoy a las 14:00"
    )
    assert datetime_in_words(datetime(2026, 12, 1, 14, 0, tzinfo=timezone.utc), "", now=NOW) == "hoy a las 14:00"


def test_parse_datetime_reads_the_backend_iso_format() -> None:
    assert parse_datetime("2026-12-01T14:00:00Z") == datetime(2026, 12, 1, 14, 0, tzinfo=timezone.utc)
    assert parse_datetime("2026-12-01T14:00:00.123456+00:00") == datetime(
        2026, 12, 1, 14, 0, 0, 123456, tzinfo=timezone.utc
    )
    assert parse_datetime("01/12/2026 09:00") is None
    assert parse_datetime(None) is None
    assert parse_datetime("") is None


def test_a_fixed_offset_zone_is_accepted_too() -> None:
    bogota = timezone(timedelta(hours=-5))
    assert datetime_in_words(datetime(2026, 11, 30, 23, 30, tzinfo=timezone.utc), bogota, NOW) == "ayer a las 18:30"


def test_day_and_month_names_are_spanish() -> None:
    from actions.spanish import MONTHS, WEEKDAYS

    assert WEEKDAYS == ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
    assert MONTHS[0] == "enero" and MONTHS[8] == "septiembre" and MONTHS[11] == "diciembre" and len(MONTHS) == 12
