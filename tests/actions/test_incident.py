"""Incident intake actions: what the form asks, the facts, one ticket per submission, handoff for P1."""

from __future__ import annotations

import asyncio

import pytest
from conftest import make_tracker, responses, run
from rasa_sdk.executor import CollectingDispatcher

from actions.incident import ActionStartIncident, ActionSubmitIncident, ValidateIncidentForm
from actions.incident_submit import ActionAskIncidentConfirmed
from actions.intake import incident_facts, submission_key

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
    assert slots["since"]  # «desde hace una hora» as a time in the customer's zone
    assert slots["production_down"] is True  # «está caída»


def test_a_short_first_message_is_not_taken_as_the_description(fake) -> None:
    _, events = run(ActionStartIncident(), make_tracker(text="tengo una falla", intent="report_software_bug"))
    assert "description" not in [e["name"] for e in events if e.get("value") is not None]


def required(slots: dict, metadata: dict | None = None) -> list:
    tracker = make_tracker(slots=slots, metadata=metadata)
    return asyncio.run(ValidateIncidentForm().required_slots([], CollectingDispatcher(), tracker, {}))


def test_required_slots_depend_on_the_kind_and_the_answers(fake) -> None:
    assert required({"incident_type": "enhancement"}) == ["description", "incident_confirmed"]
    assert required({}) == ["incident_type", "incident_confirmed"]  # the kind is asked first when unknown
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
    from actions.incident_submit import field_named

    fields = ["description", "device", "since", "production_down", "solution_available"]
    assert field_named("device", fields) == "device"
    assert field_named("Equipo", fields) == "device"
    assert field_named("la solución provisional", fields) == "solution_available"
    assert field_named("la versión", fields) is None  # not a question of this kind of request
    assert field_named("el equipo, es cmts-bog-02", fields) == "device"


def test_correction_buttons_offer_only_answered_fields_of_this_kind(fake) -> None:
    from actions.incident import ActionAskCorrectField

    slots = {"incident_type": "enhancement", "description": "exportar a CSV", "device": "stale value"}
    dispatcher, _ = run(ActionAskCorrectField(), make_tracker(slots=slots))
    [message] = dispatcher.messages
    assert message["response"] == "utter_ask_incident_form_correct_field"
    assert [b["payload"] for b in message["buttons"]] == ['/inform{"correct_field":"description"}']


# --- one customer turn inside the form -------------------------------------------------

# The form asked, the customer answered, the form validates the answer (as Rasa records it).
ANSWERING = [
    {"event": "action", "name": "incident_form"},
    {"event": "action", "name": "action_listen"},
    {"event": "user", "text": "…"},
    {"event": "action", "name": "incident_form"},
]


def turn(text: str, slots: dict, *, intent: str = "inform", entities: list | None = None) -> tuple[list, dict]:
    """Run the form's validation on one customer message; (responses, slot changes)."""
    tracker = make_tracker(
        text=text, intent=intent, slots=slots, entities=entities, active_loop="incident_form", events=list(ANSWERING)
    )
    dispatcher, events = run(ValidateIncidentForm(), tracker, DOMAIN)
    return responses(dispatcher), {k: v for k, v in slots_of(events).items() if k != "requested_slot"}


DOMAIN = {"forms": {"incident_form": {"required_slots": ["description"]}}, "slots": {}}
OUTAGE = {"incident_type": "network_outage", "description": "se cayó la red del norte desde temprano"}


def test_a_fact_given_in_passing_fills_its_slot_and_is_not_asked(fake) -> None:
    said, changes = turn("en el cmts 2, desde las 9 y no tenemos alternativa", OUTAGE | {"requested_slot": "device"})
    assert changes["device"] == "cmts-bog-02"
    assert changes["since"].endswith("09:00-05:00")
    assert changes["solution_available"] is False
    assert said == []


def test_a_fact_given_instead_of_the_answer_is_acknowledged_before_the_question_comes_again(fake) -> None:
    slots = OUTAGE | {"device": "cmts-bog-01", "requested_slot": "since"}
    said, changes = turn("sí, la producción está caída, no hay clientes navegando", slots)
    assert changes["production_down"] is True and "since" not in changes
    assert said == ["utter_fact_noted"]  # then the form asks «¿Desde cuándo ocurre?» again
    # At «¿Qué equipo…?», an ambiguous device: the candidates are the reply, not an acknowledgement too.
    said, changes = turn("el cmts, y la producción está caída", OUTAGE | {"requested_slot": "device"})
    assert changes["production_down"] is True and said == ["utter_device_ambiguous"]
    # Answered together with the question: nothing to acknowledge.
    said, changes = turn("desde las 9 y la producción está caída", slots)
    assert changes["production_down"] is True and changes["since"].endswith("09:00-05:00")
    assert said == []


@pytest.mark.parametrize("intent", ["nlu_fallback", "inform"])
def test_a_price_question_in_the_middle_is_answered_and_the_question_comes_again(fake, intent: str) -> None:
    slots = OUTAGE | {"device": "cmts-bog-01", "requested_slot": "description"}
    said, changes = turn("¿y esto cuánto nos va a costar? ¿se cobra aparte?", slots, intent=intent)
    assert said == ["utter_price_info"] and changes["intake_unclear"] == 0.0
    assert "description" not in changes  # not taken as the description
    # A statement with a price word is an answer, not a question: «…les cobra doble a los clientes».
    said, changes = turn("el portal de facturación está cobrando doble", slots, intent=intent)
    assert changes["description"] == "el portal de facturación está cobrando doble" and said == []


def test_a_correction_at_a_yes_no_question_is_not_its_answer(fake) -> None:
    slots = OUTAGE | {"device": "cmts-bog-01", "since": "2026-12-03T09:00-05:00", "requested_slot": "production_down"}
    said, changes = turn("no, el equipo es cmts-bog-02", slots)
    assert changes["device"] == "cmts-bog-02"
    assert "production_down" not in changes
    assert said == ["utter_correction_noted"]


def test_a_bare_no_answers_the_yes_no_question(fake) -> None:
    _, changes = turn("no", OUTAGE | {"requested_slot": "production_down"}, intent="deny")
    assert changes["production_down"] is False
    _, changes = turn("sí, todo caído", OUTAGE | {"requested_slot": "production_down"})
    assert changes["production_down"] is True


def test_free_text_that_is_not_an_answer_is_asked_again_then_a_person_offered(fake) -> None:
    slots = OUTAGE | {"device": "cmts-bog-01", "requested_slot": "since"}
    said, changes = turn("la zona sur", slots, intent="nlu_fallback")
    assert "since" not in changes and said == ["utter_intake_unclear"] and changes["intake_unclear"] == 1.0
    said, changes = turn("asdf qwe", slots | {"intake_unclear": 1.0}, intent="nlu_fallback")
    assert "since" not in changes and said == ["utter_intake_offer_human"]


def test_a_digression_is_left_to_the_rules(fake) -> None:
    slots = OUTAGE | {"requested_slot": "since"}
    said, changes = turn("¿cada cuánto me informan?", slots, intent="ask_update_frequency")
    assert changes == {} and said == []


def test_a_serial_given_again_is_not_a_stop(fake) -> None:
    slots = {"incident_type": "hardware_failure", "description": "x" * 10, "requested_slot": "serial_number"}
    _, changes = turn("ya se lo di, SN-88231", slots, intent="stop")
    assert changes["serial_number"] == "SN-88231"


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("si, volver a entrar", True),  # classified as stop (0.57): the «sí» answers the workaround question
        ("sí, reiniciando", True),
        ("sí, mejor cancelemos", None),  # leaving the form: the rules ask whether to go on
        ("no, déjelo así", None),
        ("cancelar", None),
    ],
)
def test_a_yes_to_a_yes_no_question_is_its_answer_whatever_the_classifier_says(fake, text, answer) -> None:
    slots = OUTAGE | {"production_down": False, "most_operations_proceed": True, "requested_slot": "solution_available"}
    _, changes = turn(text, slots, intent="stop")
    assert changes.get("solution_available") is answer
    assert answer is not None or changes == {}


def test_unknown_answers_to_optional_details(fake) -> None:
    slots = {"incident_type": "software_bug", "description": "x" * 10, "requested_slot": "version"}
    _, changes = turn("no sé", slots, intent="deny")
    assert changes["version"] == "no indicado"


def test_a_correction_at_the_confirmation_changes_the_field_and_shows_the_card_again(fake) -> None:
    slots = OUTAGE | {"device": "cmts-bog-01", "production_down": False, "requested_slot": "incident_confirmed"}
    said, changes = turn("me equivoqué, sí está caída la producción", slots)
    assert changes["production_down"] is True and "incident_confirmed" not in changes
    assert said == ["utter_correction_noted"]


def test_a_device_named_as_the_way_around_does_not_replace_the_faulty_one(fake) -> None:
    slots = OUTAGE | {"device": "cmts-bog-02", "solution_available": False, "requested_slot": "incident_confirmed"}
    _, changes = turn("no, corrijo: sí tenemos una alternativa, estamos desviando el tráfico por el cmts-bog-01", slots)
    assert changes["solution_available"] is True and "device" not in changes
    _, changes = turn("no, el equipo es cmts-bog-01", slots)  # a real correction still changes it
    assert changes["device"] == "cmts-bog-01"


def test_a_customer_code_is_taken_from_the_opening_and_from_a_lowercase_answer(fake) -> None:
    anonymous = {"conversation_id": "c-anon"}
    tracker = make_tracker(
        text="Hola, soy Luis de CABLEANDINA. El cmts-bog-02 tiene el ventilador dañado",
        intent="report_hardware_failure",
        metadata=anonymous,
    )
    _, events = run(ActionStartIncident(), tracker)
    assert slots_of(events)["customer_code"] == "CABLEANDINA"
    tracker = make_tracker(
        text="cableandina",
        intent="bot_challenge",  # how the classifier read it once
        slots={"incident_type": "enhancement", "requested_slot": "customer_code"},
        metadata=anonymous,
        active_loop="incident_form",
        events=list(ANSWERING),
    )
    events = asyncio.run(ValidateIncidentForm().get_extraction_events(CollectingDispatcher(), tracker, {}))
    assert slots_of(events) == {"customer_code": "CABLEANDINA"}


def test_the_field_chooser_takes_a_typed_field_and_value(fake) -> None:
    slots = OUTAGE | {"device": "cmts-bog-01", "incident_confirmed": False, "requested_slot": "correct_field"}
    _, changes = turn("el equipo, es cmts-bog-02", slots)
    assert changes["device"] == "cmts-bog-02" and changes["incident_confirmed"] is None
    said, changes = turn("la versión", slots)  # not a field of a network fault
    assert changes["correct_field"] is None and "device" not in changes
    assert said == ["utter_correct_field_invalid"]


def test_the_kind_is_asked_when_the_opening_did_not_say_it(fake) -> None:
    _, changes = turn("/report_software_bug", {"requested_slot": "incident_type"}, intent="report_software_bug")
    assert changes["incident_type"] == "software_bug"


def test_an_open_ticket_for_the_same_device_is_offered(fake) -> None:
    run(ActionSubmitIncident(), make_tracker(slots=P1_SLOTS, events=FORM_EVENT))
    _, changes = turn("cmts-bog-01", OUTAGE | {"requested_slot": "device"})
    assert changes["device"] == "cmts-bog-01"
    assert '"number": "PL-2026-000001"' in changes["duplicate_ticket"]
    tracker = make_tracker(slots=OUTAGE | {"device": "cmts-bog-01"} | {"duplicate_ticket": changes["duplicate_ticket"]})
    assert "duplicate_decision" in asyncio.run(
        ValidateIncidentForm().required_slots([], CollectingDispatcher(), tracker, {})
    )
    accepted = OUTAGE | {"device": "cmts-bog-01", "duplicate_ticket": changes["duplicate_ticket"],
                         "duplicate_decision": True}  # fmt: skip
    dispatcher, _ = run(ActionSubmitIncident(), make_tracker(slots=accepted, events=FORM_EVENT))
    assert responses(dispatcher) == ["utter_ticket_comment_added"]
    assert fake.comments[0]["number"] == "PL-2026-000001" and len(fake.tickets) == 1


def test_the_ticket_stores_the_registered_device_and_details(fake) -> None:
    slots = {
        "incident_type": "software_bug",
        "description": "el sistema bota un error 500 cuando saco el informe del mes",
        "device": "CMTS BOG 02",
        "version": "4.2",
        "error_message": "error 500",
        "since": "2026-12-03T09:00-05:00",
        "production_down": False,
        "most_operations_proceed": True,
        "solution_available": False,
        "incident_confirmed": True,
    }
    run(ActionSubmitIncident(), make_tracker(slots=slots, events=FORM_EVENT))
    [ticket] = fake.tickets.values()
    body = ticket["body"]
    assert (body["device"], body["version"], body["error_message"]) == ("cmts-bog-02", "4.2", "error 500")
    assert body["since"].startswith("2026-12-03T09:00")
    assert "device_text" not in body


def test_the_confirmation_card_lists_every_field_and_the_priority(fake) -> None:
    slots = OUTAGE | {"device": "router-med-03", "since": "2026-12-03T09:00-05:00", "production_down": True,
                      "solution_available": False, "incident_label": "falla de red"}  # fmt: skip
    dispatcher, _ = run(ActionAskIncidentConfirmed(), make_tracker(slots=slots))
    [card] = dispatcher.messages
    summary = card["summary"]
    assert "• Equipo: router-med-03 (no registrado)" in summary
    assert "• Producción caída: sí" in summary
    assert "Prioridad 1, atendida por Soporte de Nivel 3" in summary
    assert "• Desde cuándo:" in summary and "09:00" in summary


def test_a_message_already_handled_is_not_read_again(fake) -> None:
    """After a digression was answered the form runs again: the digression is not an answer."""
    events = ANSWERING[:3] + [{"event": "action", "name": "utter_update_frequency"}, ANSWERING[3]]
    tracker = make_tracker(text="sí", intent="affirm", slots=OUTAGE | {"requested_slot": "production_down"},
                           active_loop="incident_form", events=events)  # fmt: skip
    _, got = run(ValidateIncidentForm(), tracker, DOMAIN)
    assert "production_down" not in slots_of(got)


def test_a_yes_to_continue_is_not_the_answer_to_the_pending_question(fake) -> None:
    events = [{"event": "action", "name": "utter_ask_continue"}] + ANSWERING[1:]
    tracker = make_tracker(text="sí", intent="affirm", slots=OUTAGE | {"requested_slot": "production_down"},
                           active_loop="incident_form", events=events)  # fmt: skip
    _, got = run(ValidateIncidentForm(), tracker, DOMAIN)
    assert "production_down" not in slots_of(got)


def test_the_opening_is_read_when_the_form_starts(fake) -> None:
    """Rasa marks the form active before validating the opening; the open ticket is found at once."""
    run(ActionSubmitIncident(), make_tracker(slots=P1_SLOTS, events=FORM_EVENT))
    events = [
        {"event": "user", "text": "El cmts-bog-01 sigue caído"},
        {"event": "action", "name": "action_start_incident"},
        {"event": "active_loop", "name": "incident_form"},
        {"event": "action", "name": "incident_form"},
    ]
    slots = OUTAGE | {"device": "cmts-bog-01"}
    tracker = make_tracker(text="El cmts-bog-01 sigue caído", intent="report_network_outage", slots=slots,
                           active_loop="incident_form", events=events)  # fmt: skip
    _, got = run(ValidateIncidentForm(), tracker, DOMAIN)
    assert "PL-2026-000001" in slots_of(got)["duplicate_ticket"]


def test_a_correction_of_the_kind_changes_the_questions(fake) -> None:
    slots = {"incident_type": "network_outage", "requested_slot": "description"}
    text = "en realidad no es la red: es el software de gestión, que no abre y muestra 'Fatal: license server down'"
    said, changes = turn(text, slots)
    assert changes["incident_type"] == "software_bug"
    assert changes["error_message"] == "Fatal: license server down"
    assert changes["device"] == "software de gestión"
    assert said == ["utter_correction_noted"]


def test_an_announcement_is_not_the_description(fake) -> None:
    _, events = run(ActionStartIncident(), make_tracker(text="Tengo una idea para mejorar el sistema",
                                                        intent="request_enhancement"))  # fmt: skip
    assert slots_of(events).get("description") is None


def test_i_do_not_know_is_not_a_no_and_not_a_digression(fake) -> None:
    said, changes = turn("no sé", OUTAGE | {"requested_slot": "production_down"}, intent="out_of_scope")
    assert "production_down" not in changes and said == ["utter_intake_unclear"]
    slots = {"incident_type": "software_bug", "description": "x" * 10, "requested_slot": "version"}
    _, changes = turn("ni idea", slots, intent="out_of_scope")
    assert changes["version"] == "no indicado"


def test_none_answers_the_workaround_question(fake) -> None:
    _, changes = turn("ninguna", OUTAGE | {"requested_slot": "solution_available"}, intent="deny")
    assert changes["solution_available"] is False


def test_an_opening_that_asks_for_a_course_books_it_instead_of_an_intake(fake) -> None:
    tracker = make_tracker(text="necesito capacitar a once personas del NOC, en Santo Domingo", intent="inform")
    _, events = run(ActionStartIncident(), tracker)
    assert [(e["event"], e["name"]) for e in events] == [("followup", "training_form")]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("tenemos una falla en el software de aprovisionamiento, ningún módem nuevo levanta", "software_bug"),
        # A part of a device failed (classified report_network_outage, 0.65): hardware.
        ("Se fastidió el abanico de la olt-sdq-01 y se está calentando mucho", "hardware_failure"),
        ("el ventilador del cmts-bog-02 dejó de girar", "hardware_failure"),
        # … unless the network is said to be out too.
        ("la fuente de la olt se quemó y todos los clientes están sin servicio", "network_outage"),
        ("se dañó la tarjeta del cmts y se cayeron los enlaces", "network_outage"),
        ("se cayó la tarjeta del cmts-bog-01", "network_outage"),
    ],
)
def test_a_fault_named_outright_decides_the_kind_whatever_the_intent(fake, text: str, kind: str) -> None:
    _, events = run(ActionStartIncident(), make_tracker(text=text, intent="report_network_outage"))
    assert slots_of(events)["incident_type"] == kind


def test_a_place_in_capitals_is_not_taken_for_a_customer_code() -> None:
    from actions.identity import code_answer, customer_code_in

    assert customer_code_in("Se cayó la red en MEDELLIN desde las 8") is None
    assert customer_code_in("la empresa CABLEANDINA reporta una falla") == "CABLEANDINA"
    assert code_answer("mi código es cableandina.") == "CABLEANDINA" and code_answer("no") is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Hola, ¿cómo están? Les escribo de CABLEANDINA, se nos cayó la cuestión entera", "CABLEANDINA"),
        ("le escribo desde TELECARIBE porque la olt no responde", "TELECARIBE"),
        ("Llamo de CABLEANDINA", "CABLEANDINA"),
        ("hablo de TELECARIBE", "TELECARIBE"),
        ("les escribo de nuevo, el cmts sigue caído", None),
        ("LES ESCRIBO DE NUEVO, EL CMTS SIGUE CAIDO", None),  # all in capitals: no word stands out
        ("le escribo desde la oficina", None),
        ("hablo de la FALLA del cmts", None),
        ("le escribo desde SANTO DOMINGO", None),  # a place, not a code
    ],
)
def test_where_the_customer_writes_from_gives_the_code(text: str, code: str | None) -> None:
    from actions.identity import customer_code_in

    assert customer_code_in(text) == code


def test_the_code_answered_with_the_email_is_the_code() -> None:
    from actions.identity import code_answer

    assert code_answer("TELECARIBE, mi correo es maria.rodriguez@telecaribe.example") == "TELECARIBE"
    assert code_answer("cableandina y el correo ana.gomez@cableandina.example.") == "CABLEANDINA"
    assert code_answer("maria.rodriguez@telecaribe.example") is None  # an e-mail alone is no code
