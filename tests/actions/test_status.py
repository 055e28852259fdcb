"""Ticket and deployment status answer only about the identified customer's own data."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from conftest import make_tracker, responses, run
from rasa_sdk.executor import CollectingDispatcher

from actions.backend import BackendError
from actions.handoff import ActionRequestHandoff
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
    assert responses(dispatcher) == ["utter_open_tickets_intro"]
    assert dispatcher.messages[0]["tickets"] == "1 tiquete abierto"
    assert dispatcher.messages[0]["lines"].startswith(f"• {mine} — ")


def _tickets(fake, n: int) -> list:
    return [
        asyncio.run(
            fake.create_ticket(
                contact="ana.gomez@cableandina.example",
                idempotency_key=f"k{i}",
                body={"type": "configuration", "title": f"Consulta {i}", "facts": {}},
            )
        )["number"]
        for i in range(n)
    ]


def _line(number: str, status: str, tier: str = "L1") -> dict:
    return {"number": number, "title": "Consulta", "priority": 3, "tier": tier, "status": status}


def _ask_status() -> tuple:
    return run(ActionResumeRequest(), make_tracker(slots={"pending_request": "ask_ticket_status"}))


def test_a_short_list_is_complete_and_counted_in_the_plural(fake) -> None:
    _tickets(fake, 5)
    dispatcher, _ = _ask_status()
    # One message whose lines are the tickets (one bubble with a list in the widget).
    assert responses(dispatcher) == ["utter_open_tickets_intro"]
    assert dispatcher.messages[0]["tickets"] == "5 tiquetes abiertos"
    lines = dispatcher.messages[0]["lines"].split("\n")
    assert len(lines) == 5 and all(line.startswith("• PL-") for line in lines)


def test_a_long_list_says_it_is_cut(fake) -> None:
    numbers = _tickets(fake, 6)
    dispatcher, _ = _ask_status()
    assert responses(dispatcher) == ["utter_open_tickets_intro_cut"]
    intro = dispatcher.messages[0]
    assert (intro["tickets"], intro["shown"]) == ("6 tiquetes abiertos", 5)
    assert [line.split(" ")[1] for line in intro["lines"].split("\n")] == numbers[:5]


def test_the_count_is_the_backend_total_not_the_page(fake) -> None:
    # More open tickets than any page: the total the backend reports is what the customer reads.
    async def page(*, contact: str, limit: int) -> dict:
        return {"items": [_line("PL-2026-000001", "open")] * limit, "total": 27}

    fake.open_tickets_page = page
    dispatcher, _ = _ask_status()
    assert dispatcher.messages[0]["response"] == "utter_open_tickets_intro_cut"
    assert (dispatcher.messages[0]["tickets"], dispatcher.messages[0]["shown"]) == ("27 tiquetes abiertos", 5)


@pytest.mark.parametrize(
    ("status", "tier", "words"),
    [
        ("new", "L1", ("registrado", "Soporte de Nivel 1")),
        ("open", "L2", ("en curso", "Soporte de Nivel 2")),
        ("pending_customer", "L3", ("en espera de su respuesta", "Soporte de Nivel 3")),
        ("resolved", "L1", ("resuelto", "Soporte de Nivel 1")),
        ("closed", "L1", ("cerrado", "Soporte de Nivel 1")),
        # A code the assistant does not know yet is never shown in English.
        ("on_hold", "L9", ("en seguimiento", "nuestro equipo de soporte")),
    ],
)
def test_status_and_level_are_said_in_spanish(fake, status, tier, words) -> None:
    async def get_ticket(*, contact: str, number: str) -> dict:
        return _line(number, status, tier)

    fake.get_ticket = get_ticket
    dispatcher, _ = run(
        ActionResumeRequest(),
        make_tracker(slots={"pending_request": "ask_ticket_status", "ticket_number": "PL-2026-000001"}),
    )
    [message] = dispatcher.messages
    assert message["response"] == "utter_ticket_status"
    assert (message["status"], message["tier"]) == words


def test_deployment_status(fake) -> None:
    dispatcher, _ = run(ActionResumeRequest(), make_tracker(slots={"pending_request": "ask_deployment_status"}))
    [message] = dispatcher.messages
    assert (message["response"], message["stage"]) == ("utter_deployment_status", 4)


def test_a_company_without_a_deployment_plan_is_told_so(fake) -> None:
    async def no_plan(*, contact: str, customer: str) -> dict:
        raise BackendError(404, "customer CABLEANDINA has no deployment plan")

    fake.deployment_plan = no_plan
    dispatcher, _ = run(ActionResumeRequest(), make_tracker(slots={"pending_request": "ask_deployment_status"}))
    assert responses(dispatcher) == ["utter_no_deployment_plan"]


def test_a_deployment_plan_the_backend_cannot_give_is_an_outage(fake) -> None:
    async def broken(*, contact: str, customer: str) -> dict:
        raise BackendError(500, "boom")

    fake.deployment_plan = broken
    dispatcher, _ = run(ActionResumeRequest(), make_tracker(slots={"pending_request": "ask_deployment_status"}))
    assert responses(dispatcher) == ["utter_backend_unavailable"]


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


def _render(message: dict) -> str:
    """The text the customer reads: the domain response filled with the message's values."""
    domain = yaml.safe_load((Path(__file__).resolve().parents[2] / "domain.yml").read_text(encoding="utf-8"))
    return str(domain["responses"][message["response"]][0]["text"]).format(**message)


def test_the_cut_list_reads_as_spanish(fake) -> None:
    _tickets(fake, 6)
    dispatcher, _ = _ask_status()
    [message] = dispatcher.messages
    intro, first, *rest = _render(message).split("\n")
    assert intro.startswith("Su empresa tiene 6 tiquetes abiertos. Estos son los 5 más urgentes")
    assert first.startswith("• PL-") and first.endswith("(Prioridad 4, registrado, Soporte de Nivel 1)")
    assert len(rest) == 4
