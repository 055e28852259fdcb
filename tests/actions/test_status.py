"""Ticket and deployment status answer only about the identified customer's own data."""

from __future__ import annotations

import asyncio

import pytest
from conftest import make_tracker, responses, run
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionFallback
from actions.handoff import ActionRequestHandoff
from actions.info import ActionContactChannels
from actions.status import ActionResumeRequest, ValidateIdentityForm, normalise_number

MARIA = {
    "conversation_id": "conv-2",
    "customer": "TELECARIBE",
    "contact": "maria.rodriguez@telecaribe.example",
    "name": "María Rodríguez",
}


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("PL-2026-000123", "PL-2026-000123"),
        ("123", "PL-2026-000123"),
        ("pl-2025-7", "PL-2025-000007"),
        ("abc", None),
        (None, None),
    ],
)
def test_ticket_numbers_are_normalised(raw, number) -> None:
    assert normalise_number(raw) == number


def _ticket(fake, contact: str = "ana.gomez@cableandina.example") -> str:
    ticket = asyncio.run(
        fake.create_ticket(
            contact=contact,
            idempotency_key=contact,
            body={"type": "configuration", "title": "Consulta", "facts": {"information_request": True}},
        )
    )
    return ticket["number"]


def test_status_by_number_for_the_owner(fake) -> None:
    number = _ticket(fake)
    dispatcher, _ = run(
        ActionResumeRequest(), make_tracker(slots={"pending_request": "ask_ticket_status", "ticket_number": number})
    )
    [message] = dispatcher.messages
    assert message["response"] == "utter_ticket_status" and message["number"] == number


def test_another_customers_ticket_is_not_found(fake) -> None:
    number = _ticket(fake)
    dispatcher, _ = run(
        ActionResumeRequest(),
        make_tracker(slots={"pending_request": "ask_ticket_status", "ticket_number": number}, metadata=MARIA),
    )
    assert responses(dispatcher) == ["utter_ticket_not_found"]


def test_list_of_open_tickets_is_the_customers_own(fake) -> None:
    mine = _ticket(fake)
    _ticket(fake, "maria.rodriguez@telecaribe.example")
    dispatcher, _ = run(ActionResumeRequest(), make_tracker(slots={"pending_request": "ask_ticket_status"}))
    assert responses(dispatcher) == ["utter_open_tickets_intro", "utter_open_ticket_line"]
    assert dispatcher.messages[1]["number"] == mine


def test_deployment_status(fake) -> None:
    dispatcher, _ = run(ActionResumeRequest(), make_tracker(slots={"pending_request": "ask_deployment_status"}))
    [message] = dispatcher.messages
    assert (message["response"], message["stage"]) == ("utter_deployment_status", 4)


def test_identity_is_needed_only_for_anonymous_visitors(fake) -> None:
    form = ValidateIdentityForm()
    known = asyncio.run(form.required_slots([], CollectingDispatcher(), make_tracker(), {}))
    anonymous = asyncio.run(
        form.required_slots([], CollectingDispatcher(), make_tracker(metadata={"conversation_id": "x"}), {})
    )
    assert known == [] and anonymous == ["customer_code", "contact_email", "otp_code"]


def test_verification_with_the_emailed_code(fake) -> None:
    form = ValidateIdentityForm()
    tracker = make_tracker(metadata={"conversation_id": "anon-1"}, slots={"customer_code": "CABLEANDINA"})
    dispatcher = CollectingDispatcher()
    assert asyncio.run(form.validate_contact_email("Es ana.gomez@cableandina.example", dispatcher, tracker, {})) == {
        "contact_email": "ana.gomez@cableandina.example"
    }
    assert responses(dispatcher) == ["utter_verification_sent"]
    dispatcher = CollectingDispatcher()
    wrong = asyncio.run(form.validate_otp_code("111111", dispatcher, tracker, {}))
    assert wrong == {"otp_code": None}  # the same code may be typed again
    assert dispatcher.messages[0]["response"] == "utter_otp_code_wrong" and dispatcher.messages[0]["attempts_left"] == 4
    ok = asyncio.run(form.validate_otp_code("123 456", CollectingDispatcher(), tracker, {}))
    assert ok["verified"] is True and ok["verified_contact"] == "ana.gomez@cableandina.example"


def test_request_human_queues_level_1_by_default(fake) -> None:
    dispatcher, _ = run(ActionRequestHandoff(), make_tracker(intent="request_human"))
    assert fake.handoffs[0]["tier"] == "L1" and responses(dispatcher) == ["utter_handoff_queued"]


def test_handoff_failure_is_said_plainly(fake) -> None:
    fake.down = True
    dispatcher, _ = run(ActionRequestHandoff(), make_tracker(intent="request_human"))
    assert responses(dispatcher) == ["utter_handoff_failed"]


def _fallback_events(n: int) -> list:
    return [{"event": "user", "parse_data": {"intent": {"name": "nlu_fallback"}}} for _ in range(n)]


def test_fallback_rephrases_once_then_offers_a_person() -> None:
    first, events = run(ActionFallback(), make_tracker(intent="nlu_fallback", events=_fallback_events(1)))
    assert responses(first) == ["utter_default"] and events == []
    second, _ = run(ActionFallback(), make_tracker(intent="nlu_fallback", events=_fallback_events(2)))
    assert responses(second) == ["utter_offer_human"]


def test_contact_channels_use_the_configured_address(monkeypatch) -> None:
    monkeypatch.setenv("PROMPTLINK_SUPPORT_EMAIL", "ayuda@cliente-demo.example")
    dispatcher, _ = run(ActionContactChannels(), make_tracker(intent="ask_contact_channels"))
    assert dispatcher.messages[0]["support_email"] == "ayuda@cliente-demo.example"


def test_too_many_wrong_codes_start_the_verification_again(fake) -> None:
    form = ValidateIdentityForm()
    tracker = make_tracker(metadata={"conversation_id": "anon-2"}, slots={"customer_code": "CABLEANDINA"})
    asyncio.run(form.validate_contact_email("ana.gomez@cableandina.example", CollectingDispatcher(), tracker, {}))
    for _ in range(4):
        asyncio.run(form.validate_otp_code("000000", CollectingDispatcher(), tracker, {}))
    dispatcher = CollectingDispatcher()
    last = asyncio.run(form.validate_otp_code("000000", dispatcher, tracker, {}))
    assert last == {"otp_code": None, "contact_email": None, "customer_code": None}
    assert responses(dispatcher) == ["utter_verification_failed"]
