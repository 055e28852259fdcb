"""«¿Qué pasa con mi red?» answers with the identified customer's open alarms only."""

from __future__ import annotations

from conftest import make_tracker, responses, run

from actions.status import ActionResumeRequest

ALARM = {
    "title": "Enlace caído en cmts-bog-01 (interfaz 3)",
    "device": "cmts-bog-01",
    "priority": 2,
    "ticket": "PL-2026-000001",
    "count": 3,
    "flapping": False,
    "last_seen": "2026-11-25T23:29:57+00:00",
    "last_seen_local": "25/11/2026 18:29",
}


def _ask(metadata=None):
    return make_tracker(
        text="¿qué pasa con mi red?",
        intent="ask_network_alarms",
        slots={"pending_request": "ask_network_alarms"},
        **({"metadata": metadata} if metadata is not None else {}),
    )


def test_open_alarms_are_listed_for_the_customer(fake) -> None:
    fake.alarms["CABLEANDINA"] = [ALARM, {**ALARM, "title": "Reinicio de cmts-bog-02", "flapping": True}]
    dispatcher, events = run(ActionResumeRequest(), _ask())
    assert responses(dispatcher) == [
        "utter_open_alarms_intro",
        "utter_open_alarm_line",
        "utter_open_alarm_line",
        "utter_open_alarm_flapping",
    ]
    line = dispatcher.messages[1]
    assert line["device"] == "cmts-bog-01" and line["ticket"] == "PL-2026-000001" and line["count"] == 3
    assert line["last_seen"] == "25/11/2026 18:29"
    assert {"event": "slot", "name": "pending_request", "value": None, "timestamp": None} in events


def test_another_customers_alarms_are_not_shown(fake) -> None:
    fake.alarms["CABLEANDINA"] = [ALARM]
    maria = {"conversation_id": "conv-2", "customer": "TELECARIBE", "contact": "maria.rodriguez@telecaribe.example"}
    dispatcher, _ = run(ActionResumeRequest(), _ask(maria))
    assert responses(dispatcher) == ["utter_no_open_alarms"]


def test_backend_down_says_so(fake) -> None:
    fake.down = True
    dispatcher, _ = run(ActionResumeRequest(), _ask())
    assert responses(dispatcher) == ["utter_backend_unavailable"]
