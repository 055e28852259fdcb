"""The backend's one vocabulary: every code has its Spanish name, and the words customers read."""

from __future__ import annotations

from promptlink import vocabulary as v


def test_every_status_has_a_spanish_name() -> None:
    assert set(v.STATUS_NAMES) == set(v.STATUSES)
    assert v.STATUS_NAMES["open"] == "en curso" and v.STATUS_NAMES["pending_customer"] == "en espera del cliente"
    assert set(v.OPEN_STATUSES) < set(v.STATUSES)


def test_every_tier_channel_and_priority_has_its_words() -> None:
    assert v.TIER_NAMES == {t: f"Soporte de Nivel {t[-1]}" for t in v.TIERS}
    assert set(v.CHANNEL_NAMES) == set(v.CHANNELS)
    assert v.CHANNEL_NAMES["email"] == "correo electrónico" and v.CHANNEL_NAMES["snmp"] == "trampa SNMP"
    assert tuple(v.CADENCE_TEXT) == v.PRIORITIES
    assert v.CADENCE_TEXT[1] == "cada dos horas" and v.CADENCE_TEXT[4] == "cada semana"
