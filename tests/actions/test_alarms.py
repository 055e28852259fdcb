"""«¿Qué pasa con mi red?» answers with the identified customer's open alarms only."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml
from conftest import make_tracker, project_domain, responses, run
from rasa_sdk.executor import CollectingDispatcher

from actions.alarms import answer_network_alarms, customer_zone, last_seen_in_words
from actions.status import ActionResumeRequest

ALARM = {
    "title": "Enlace caído en cmts-bog-01 (interfaz 3)",
    "device": "cmts-bog-01",
    "priority": 2,
    "ticket": "PL-2026-000001",
    "count": 3,
    "flapping": False,
    "last_seen": "2026-11-25T23:29:57+00:00",
    "last_seen_local": "25/11/2026 18:29",  # Bogotá, UTC-5
}
ANA = "ana.gomez@cableandina.example"
# Thursday 26 November 2026, 09:00 in Bogotá.
NOW = datetime(2026, 11, 26, 14, 0, tzinfo=timezone.utc)


def _ask(metadata=None):
    return make_tracker(
        text="¿qué pasa con mi red?",
        intent="ask_network_alarms",
        slots={"pending_request": "ask_network_alarms"},
        **({"metadata": metadata} if metadata is not None else {}),
    )


def _answer(now: datetime = NOW) -> CollectingDispatcher:
    dispatcher = CollectingDispatcher()
    asyncio.run(answer_network_alarms(dispatcher, project_domain(), ANA, now=now))
    return dispatcher


def _lines(dispatcher: CollectingDispatcher) -> list:
    """The alarm lines of the one message (intro and list)."""
    [message] = dispatcher.messages
    return str(message["lines"]).split("\n")


def test_open_alarms_are_listed_for_the_customer(fake) -> None:
    fake.alarms["CABLEANDINA"] = [ALARM, {**ALARM, "title": "Reinicio de cmts-bog-02", "flapping": True}]
    dispatcher, events = run(ActionResumeRequest(), _ask())
    # One message, one «• » line per alarm (one bubble with a list in the widget).
    assert responses(dispatcher) == ["utter_open_alarms_intro"]
    assert dispatcher.messages[0]["alarms"] == "2 alarmas abiertas"
    line, flapping = _lines(dispatcher)
    assert "equipo cmts-bog-01" in line and "tiquete PL-2026-000001" in line and "3 avisos" in line
    # In words, at the customer's wall-clock time (never the ISO instant).
    assert line.endswith("a las 18:29.") and "2026-11-25" not in line
    assert flapping.startswith("• Reinicio de cmts-bog-02:") and "es intermitente" in flapping
    assert {"event": "slot", "name": "pending_request", "value": None, "timestamp": None} in events


def test_one_alarm_one_notice_in_the_singular(fake) -> None:
    fake.alarms["CABLEANDINA"] = [{**ALARM, "count": 1}]
    dispatcher = _answer()
    assert dispatcher.messages[0]["alarms"] == "1 alarma abierta"
    assert "; 1 aviso, el último" in _lines(dispatcher)[0]


def test_last_seen_is_relative_to_now_in_the_customer_zone(fake) -> None:
    fake.alarms["CABLEANDINA"] = [ALARM]
    assert _lines(_answer())[0].endswith("el último ayer a las 18:29.")
    same_day = datetime(2026, 11, 26, 4, 0, tzinfo=timezone.utc)  # 23:00 on the 25th in Bogotá
    assert _lines(_answer(same_day))[0].endswith("el último hoy a las 18:29.")
    week_later = NOW + timedelta(days=7)
    assert _lines(_answer(week_later))[0].endswith("el último el miércoles 25 de noviembre a las 18:29.")


def test_the_zone_comes_from_the_alarm_itself() -> None:
    assert customer_zone(ALARM).utcoffset(None) == timedelta(hours=-5)
    assert customer_zone({**ALARM, "timezone": "America/Santo_Domingo"}).utcoffset(NOW) == timedelta(hours=-4)
    assert customer_zone({"last_seen": ALARM["last_seen"]}) is timezone.utc
    assert customer_zone({**ALARM, "last_seen_local": "ayer"}) is timezone.utc
    assert last_seen_in_words({"last_seen_local": "25/11/2026 18:29"}, now=NOW) == "25/11/2026 18:29"


def test_a_long_list_says_it_is_cut(fake) -> None:
    fake.alarms["CABLEANDINA"] = [{**ALARM, "title": f"Alarma {i}"} for i in range(7)]
    dispatcher = _answer()
    assert responses(dispatcher) == ["utter_open_alarms_intro_cut"]
    assert (dispatcher.messages[0]["alarms"], dispatcher.messages[0]["shown"]) == ("7 alarmas abiertas", 5)
    assert [line.split(":")[0] for line in _lines(dispatcher)] == [f"• Alarma {i}" for i in range(5)]


def test_a_full_page_from_the_backend_may_hide_more(fake) -> None:
    fake.alarms["CABLEANDINA"] = [{**ALARM, "title": f"Alarma {i}"} for i in range(10)]
    dispatcher = _answer()
    assert dispatcher.messages[0]["alarms"] == "10 o más alarmas abiertas"


def test_an_alarm_without_a_ticket_says_so(fake) -> None:
    fake.alarms["CABLEANDINA"] = [{**ALARM, "ticket": None, "flapping": True}]
    dispatcher = _answer()
    assert responses(dispatcher) == ["utter_open_alarms_intro"]
    [line] = _lines(dispatcher)
    assert "todavía sin tiquete" in line and line.endswith("nuestro equipo de soporte la está revisando.")


def test_another_customers_alarms_are_not_shown(fake) -> None:
    fake.alarms["CABLEANDINA"] = [ALARM]
    maria = {"conversation_id": "conv-2", "customer": "TELECARIBE", "contact": "maria.rodriguez@telecaribe.example"}
    dispatcher, _ = run(ActionResumeRequest(), _ask(maria))
    assert responses(dispatcher) == ["utter_no_open_alarms"]


def test_backend_down_says_so(fake) -> None:
    fake.down = True
    dispatcher, _ = run(ActionResumeRequest(), _ask())
    assert responses(dispatcher) == ["utter_backend_unavailable"]


def test_the_alarm_line_reads_as_spanish(fake) -> None:
    fake.alarms["CABLEANDINA"] = [ALARM]
    domain = yaml.safe_load((Path(__file__).resolve().parents[2] / "domain.yml").read_text(encoding="utf-8"))
    texts = [str(domain["responses"][m["response"]][0]["text"]).format(**m) for m in _answer().messages]
    assert texts == [
        "Nuestro monitoreo tiene 1 alarma abierta en sus equipos:\n"
        "• Enlace caído en cmts-bog-01 (interfaz 3): equipo cmts-bog-01, Prioridad 2, tiquete PL-2026-000001; "
        "3 avisos, el último ayer a las 18:29.",
    ]
