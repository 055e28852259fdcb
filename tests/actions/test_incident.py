"""Incident intake actions: what the form asks, the facts, one ticket per submission, handoff for P1."""

from __future__ import annotations

import asyncio

from conftest import make_tracker, responses, run
from rasa_sdk.executor import CollectingDispatcher

from actions.incident import (
    ActionStartIncident,
    ActionSubmitIncident,
    ValidateIncidentForm,
    incident_facts,
    submission_key,
)

FORM_EVENT = [{"event": "active_loop", "name": "incident_form", "timestamp": 1700000000.0}]


def slots_of(events: list) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_start_keeps_what_the_first_message_said(fake) -> None:
    tracker = make_tracker(
        text="la red está caída desde hace una hora en el nodo norte",
        intent="report_network_outage",
        entities=[{"entity": "since", "value": "desde hace una hora"}],
    )
    _, events = run(ActionStartIncident(), tracker)
    slots = slots_of(events)
    assert slots["incident_type"] == "network_outage"
    assert slots["description"].startswith("la red está caída")
    assert slots["since"] == "desde hace una hora"
    assert slots["production_down"] is None  # earlier answers are forgotten


def test_a_short_first_message_is_not_taken_as_the_description(fake) -> None:
    _, events = run(ActionStartIncident(), make_tracker(text="tengo una falla", intent="report_software_bug"))
    assert "description" not in [e["name"] for e in events if e.get("value") is not None]


def required(slots: dict, metadata: dict | None = None) -> list:
    tracker = make_tracker(slots=slots, metadata=metadata)
    return asyncio.run(ValidateIncidentForm().required_slots([], CollectingDispatcher(), tracker, {}))


def test_required_slots_depend_on_the_kind_and_the_answers(fake) -> None:
    assert required({"incident_type": "enhancement"}) == ["description", "incident_confirmed"]
    software = required({"incident_type": "software_bug"})
    assert {"version", "error_message"} <= set(software)
    hardware = required({"incident_type": "hardware_failure"})
    assert "serial_number" in hardware
    down = required({"incident_type": "network_outage", "production_down": True})
    assert "most_operations_proceed" not in down
    correcting = required({"incident_type": "network_outage", "incident_confirmed": False})
    assert correcting[-2:] == ["correct_field", "incident_confirmed"]
    # An anonymous visitor verifies first.
    assert required({"incident_type": "enhancement"}, metadata={"conversation_id": "c"})[:3] == [
        "customer_code",
        "contact_email",
        "otp_code",
    ]


def test_correcting_a_field_forgets_it_and_the_confirmation(fake) -> None:
    tracker = make_tracker(slots={"incident_type": "network_outage"})
    result = asyncio.run(ValidateIncidentForm().validate_correct_field("device", CollectingDispatcher(), tracker, {}))
    assert result == {"correct_field": None, "device": None, "incident_confirmed": None}
    dispatcher = CollectingDispatcher()
    bad = asyncio.run(ValidateIncidentForm().validate_correct_field("version", dispatcher, tracker, {}))
    assert bad == {"correct_field": None} and responses(dispatcher) == ["utter_correct_field_invalid"]


def test_yes_no_answers_are_extracted_only_when_asked(fake) -> None:
    form = ValidateIncidentForm()
    asked = make_tracker(text="sí, todo caído", intent="inform", slots={"requested_slot": "production_down"})
    assert asyncio.run(form.extract_production_down(CollectingDispatcher(), asked, {})) == {"production_down": True}
    other = make_tracker(text="no", intent="deny", slots={"requested_slot": "device"})
    assert asyncio.run(form.extract_production_down(CollectingDispatcher(), other, {})) == {}


def test_facts_mirror_the_seed_questions() -> None:
    base = {"incident_type": "network_outage"}
    down = make_tracker(slots=base | {"production_down": True, "solution_available": False})
    assert incident_facts(down)["production_down"] is True
    degraded = make_tracker(slots=base | {"production_down": False, "most_operations_proceed": False})
    assert incident_facts(degraded)["severely_damaged"] is True
    slow = make_tracker(slots=base | {"production_down": False, "most_operations_proceed": True})
    assert incident_facts(slow)["damaged"] is True
    assert incident_facts(make_tracker(slots={"incident_type": "configuration"})) == {"information_request": True}


P1_SLOTS = {
    "incident_type": "network_outage",
    "description": "la red está caída desde hace una hora",
    "device": "cmts-bog-01",
    "since": "hace una hora",
    "production_down": True,
    "solution_available": False,
    "incident_confirmed": True,
}


def test_a_p1_ticket_is_created_announced_and_handed_to_l3(fake) -> None:
    dispatcher, events = run(ActionSubmitIncident(), make_tracker(slots=P1_SLOTS, events=FORM_EVENT))
    [ticket] = fake.tickets.values()
    assert ticket["body"]["facts"]["production_down"] is True and ticket["body"]["channel"] == "chat"
    assert ticket["body"]["conversation_id"] == "conv-1"
    created = dispatcher.messages[0]
    assert created["response"] == "utter_ticket_created"
    assert (created["number"], created["priority"], created["tier_name"]) == (ticket["number"], 1, "Soporte de Nivel 3")
    assert created["cadence"] == "cada dos horas"
    assert fake.handoffs == [
        {"conversation_id": "conv-1", "tier": "L3", "reason": "Prioridad 1", "ticket": ticket["number"]}
    ]
    assert "utter_handoff_queued" in responses(dispatcher)
    assert slots_of(events)["last_ticket"] == ticket["number"]


def test_a_resubmission_of_the_same_form_creates_one_ticket(fake) -> None:
    tracker = make_tracker(slots=P1_SLOTS, events=FORM_EVENT)
    run(ActionSubmitIncident(), tracker)
    run(ActionSubmitIncident(), tracker)
    assert len(fake.tickets) == 1
    later = make_tracker(
        slots=P1_SLOTS,
        events=FORM_EVENT + [{"event": "active_loop", "name": "incident_form", "timestamp": 1700000500.0}],
    )
    assert submission_key(later) != submission_key(tracker)


def test_hardware_ticket_mentions_the_rma(fake) -> None:
    slots = {
        "incident_type": "hardware_failure",
        "description": "la fuente del cmts se quemó",
        "device": "cmts",
        "serial_number": "PLK-CMTS-0001",
        "production_down": False,
        "most_operations_proceed": True,
        "solution_available": False,
        "incident_confirmed": True,
    }
    dispatcher, _ = run(ActionSubmitIncident(), make_tracker(slots=slots, events=FORM_EVENT))
    assert "utter_rma_requested" in responses(dispatcher)
    assert not fake.handoffs


def test_backend_down_gives_a_clear_apology_and_keeps_the_answers(fake) -> None:
    fake.down = True
    dispatcher, events = run(ActionSubmitIncident(), make_tracker(slots=P1_SLOTS, events=FORM_EVENT))
    assert responses(dispatcher) == ["utter_backend_unavailable"]
    assert events == []


def test_without_identity_no_ticket_is_opened(fake) -> None:
    dispatcher, _ = run(ActionSubmitIncident(), make_tracker(slots=P1_SLOTS, metadata={"conversation_id": "c"}))
    assert responses(dispatcher) == ["utter_identity_required"] and not fake.tickets


def test_the_field_to_correct_may_be_typed_or_clicked() -> None:
    from actions.incident import field_named

    fields = ["description", "device", "since", "production_down", "solution_available"]
    assert field_named("device", fields) == "device"
    assert field_named("Equipo", fields) == "device"
    assert field_named("la solución provisional", fields) == "solution_available"
    assert field_named("la versión", fields) is None  # not a question of this kind of request


def test_correction_buttons_offer_only_answered_fields_of_this_kind(fake) -> None:
    from actions.incident import ActionAskCorrectField

    slots = {"incident_type": "enhancement", "description": "exportar a CSV", "device": "stale value"}
    dispatcher, _ = run(ActionAskCorrectField(), make_tracker(slots=slots))
    [message] = dispatcher.messages
    assert message["response"] == "utter_ask_incident_form_correct_field"
    assert [b["payload"] for b in message["buttons"]] == ['/inform{"correct_field":"description"}']
