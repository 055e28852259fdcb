"""The incident intake: a request body read into a draft, and the preview with its duplicates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from promptlink.infra.db import transaction
from promptlink.models import Bug, Contact, Device, OutboxItem, Rma, Ticket, TicketEvent
from promptlink.services import intake, ticket_updates
from promptlink.services import tickets as svc
from promptlink.services.auth import Principal
from promptlink.services.errors import InvalidInput
from sqlalchemy import func, select

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
ANA = "ana.gomez@cableandina.example"
MARIA = "maria.rodriguez@telecaribe.example"
L1 = Principal(role="agent", email="l1@promptlink.example", name="Laura Nivel Uno", tiers=("L1",))
BASE = {"type": "network_outage", "title": "Sin servicio en el nodo norte", "facts": {"damaged": True}}


async def _customer(sessions, email: str) -> Principal:
    """The principal of a widget token, or of the service token on behalf of the contact."""
    async with sessions() as session:
        contact = await session.scalar(select(Contact).where(Contact.email == email))
    return Principal(
        role="customer", email=email, name=contact.name, customer_id=contact.customer_id, contact_id=contact.id
    )


async def _draft(sessions, caller: Principal, body: dict[str, Any], *, preview: bool = False) -> svc.TicketDraft:
    async with sessions() as session:
        return await intake.draft_from_body(session=session, caller=caller, data=body, now=NOW, preview=preview)


async def _file(sessions, caller: Principal, **body: Any) -> Ticket:
    async with transaction(sessions) as session:
        draft = await intake.draft_from_body(session=session, caller=caller, data=BASE | body, now=NOW)
        return (await svc.create_ticket(session=session, draft=draft, author=caller.email, now=NOW)).ticket


async def _preview(sessions, caller: Principal, **body: Any) -> intake.Preview:
    async with sessions() as session:
        draft = await intake.draft_from_body(session=session, caller=caller, data=BASE | body, now=NOW, preview=True)
        return await intake.preview_ticket(session=session, draft=draft, now=NOW)


async def _device_id(sessions, name: str) -> int:
    async with sessions() as session:
        return await session.scalar(select(Device.id).where(Device.name == name))


# --- since when -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-25T08:30-05:00", datetime(2026, 11, 25, 13, 30, tzinfo=UTC)),
        ("2026-11-25T08:30:00-05:00", datetime(2026, 11, 25, 13, 30, tzinfo=UTC)),
        ("2026-11-25T13:30Z", datetime(2026, 11, 25, 13, 30, tzinfo=UTC)),
        ("2026-11-25T15:05+00:00", datetime(2026, 11, 25, 15, 5, tzinfo=UTC)),  # a clock a little ahead
        (None, None),
        ("", None),
    ],
)
def test_since_is_iso_8601_with_an_offset_stored_in_utc(raw: str | None, expected: datetime | None) -> None:
    parsed = intake.parse_since(raw, now=NOW)
    assert parsed == expected
    assert parsed is None or parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        ("2026-11-25T08:30", "UTC offset"),
        ("2026-11-25", "UTC offset"),
        ("ayer por la tarde", "not an ISO 8601"),
        ("no indicado", "not an ISO 8601"),
        (20261125, "ISO 8601 datetime string"),
        (["2026-11-25T08:30Z"], "ISO 8601 datetime string"),
        ("2026-11-26T08:30-05:00", "future"),
    ],
)
def test_a_bad_since_is_refused_in_english_and_spanish(raw: Any, detail: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        intake.parse_since(raw, now=NOW)
    assert detail in refused.value.detail
    assert "desde cuándo" in refused.value.public or "futura" in refused.value.public


# --- the device as the customer names it ---------------------------------------------------


@pytest.mark.parametrize("said", ["CMTS BOG 01", "cmts-bog-01", "Cmts_Bog-01"])
async def test_a_customer_names_its_registered_device_as_it_says_it(seeded, said: str) -> None:
    draft = await _draft(seeded, await _customer(seeded, ANA), BASE | {"device": said})
    assert (draft.device_id, draft.device_text) == (await _device_id(seeded, "cmts-bog-01"), None)


@pytest.mark.parametrize(
    ("body", "device_text"),
    [
        ({"device": "Router del nodo norte"}, "Router del nodo norte"),
        ({"device": "olt-sdq-01"}, "olt-sdq-01"),  # another company's device is just words for this one
        ({"device_text": "  Amplificador 7  "}, "Amplificador 7"),
        ({"device": "Router", "device_text": "Router Cisco del nodo norte"}, "Router Cisco del nodo norte"),
    ],
)
async def test_a_device_that_is_not_registered_is_kept_as_the_customer_wrote_it(seeded, body, device_text) -> None:
    draft = await _draft(seeded, await _customer(seeded, ANA), BASE | body)
    assert (draft.device_id, draft.device_text) == (None, device_text)


async def test_device_text_naming_a_registered_device_is_that_device(seeded) -> None:
    draft = await _draft(seeded, await _customer(seeded, ANA), BASE | {"device_text": "CMTS-BOG 02"})
    assert (draft.device_id, draft.device_text) == (await _device_id(seeded, "cmts-bog-02"), None)


async def test_staff_naming_an_unknown_device_is_a_mistake(seeded) -> None:
    body = BASE | {"customer": "CABLEANDINA"}
    with pytest.raises(InvalidInput) as refused:
        await _draft(seeded, L1, body | {"device": "olt-sdq-01"})
    assert refused.value.public == "El equipo no pertenece al cliente."
    draft = await _draft(seeded, L1, body | {"device": "CMTS BOG 01", "device_text": None})
    assert draft.device_id == await _device_id(seeded, "cmts-bog-01")
    # Staff give the customer's own words in `device_text`.
    draft = await _draft(seeded, L1, body | {"device_text": "Router del cliente"})
    assert (draft.device_id, draft.device_text) == (None, "Router del cliente")


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"serial": 5}, "serial must be a string"),
        ({"version": 4.2}, "version must be a string"),
        ({"error_message": {"code": 42}}, "error_message must be a string"),
        ({"device": ["cmts-bog-01"]}, "device must be a string"),
        ({"device_text": True}, "device_text must be a string"),
        ({"device": "x" * 201}, "device longer than 200"),
        ({"related_ticket": 12}, "related_ticket must be a string"),
        ({"since": "ayer"}, "since is not an ISO 8601"),
        ({"complex": "sí"}, "complex must be"),
        ({"facts": {"damaged": "sí"}}, "fact damaged"),
    ],
)
async def test_bad_types_are_refused_clearly(seeded, change, detail) -> None:
    with pytest.raises(InvalidInput) as refused:
        await _draft(seeded, await _customer(seeded, ANA), BASE | change)
    assert detail in refused.value.detail and refused.value.public


async def test_the_related_ticket_must_be_the_customers_own(seeded) -> None:
    ana = await _customer(seeded, ANA)
    own = await _file(seeded, ana, title="Alarma de enlace")
    theirs = await _file(seeded, await _customer(seeded, MARIA), title="Consulta de María")
    draft = await _draft(seeded, ana, BASE | {"related_ticket": own.number.lower()})
    assert draft.related_ticket_id == own.id
    for number in (theirs.number, "PL-2026-999999"):
        with pytest.raises(InvalidInput) as refused:
            await _draft(seeded, ana, BASE | {"related_ticket": number})
        assert refused.value.public == "El tiquete relacionado no existe."


async def test_a_customer_files_for_its_own_company_whatever_the_body_says(seeded) -> None:
    ana = await _customer(seeded, ANA)
    draft = await _draft(seeded, ana, BASE | {"customer": "TELECARIBE", "contact": MARIA})
    assert (draft.customer_id, draft.contact_id) == (ana.customer_id, ana.contact_id)


# --- preview ----------------------------------------------------------------------------


async def _counts(sessions) -> list[int]:
    async with sessions() as session:
        return [
            await session.scalar(select(func.count()).select_from(model))
            for model in (Ticket, TicketEvent, OutboxItem, Bug, Rma)
        ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"type": "network_outage", "facts": {"severely_damaged": True}}, (2, "L3", "severe_network_outage", True)),
        ({"type": "software_bug", "facts": {"damaged": True}}, (3, "L2", "software_fault", True)),
        ({"type": "hardware_failure", "facts": {"damaged": True}}, (3, "L1", "hardware_replacement", True)),
        ({"type": "configuration", "facts": {"information_request": True}}, (4, "L1", "general", True)),
    ],
)
async def test_a_preview_decides_as_creation_would_and_writes_nothing(seeded, body, expected) -> None:
    ana = await _customer(seeded, ANA)
    before = await _counts(seeded)
    preview = await _preview(seeded, ana, device="CMTS BOG 01", **body)
    assert await _counts(seeded) == before
    assert (preview.priority, preview.tier, preview.routing_rule, preview.covered) == expected
    assert preview.priority_reason.startswith(f"Prioridad {expected[0]}:") and preview.routing_reason
    assert preview.device is not None and preview.device.name == "cmts-bog-01" and preview.device_text is None
    created = await _file(seeded, ana, device="CMTS BOG 01", **body)
    assert (created.priority, created.tier, created.covered) == (expected[0], expected[1], expected[3])


async def test_a_preview_states_what_the_contract_does_not_cover(seeded) -> None:
    preview = await _preview(
        seeded, await _customer(seeded, MARIA), type="hardware_failure", facts={"severely_damaged": True}
    )
    assert preview.covered is False and "no está cubierta" in preview.coverage_note


async def test_a_preview_may_come_before_the_title(seeded) -> None:
    ana = await _customer(seeded, ANA)
    preview = await _preview(seeded, ana, title=None)
    assert preview.tier == "L1"
    with pytest.raises(InvalidInput):
        await _preview(seeded, ana, title=5)


async def test_duplicates_are_the_customers_open_tickets_on_the_same_device_newest_first(seeded) -> None:
    ana, maria = await _customer(seeded, ANA), await _customer(seeded, MARIA)
    first = await _file(seeded, ana, channel="chat", device="cmts-bog-01", title="Primero")
    alarm = await _file(seeded, L1, customer="CABLEANDINA", channel="snmp", device="cmts-bog-01", title="Alarma")
    solved = await _file(seeded, ana, device="cmts-bog-01", title="Resuelto")
    async with transaction(seeded) as session:
        ticket = await svc.get_ticket(session=session, number=solved.number)
        await ticket_updates.change_status(
            session=session, ticket=ticket, status="resolved", resolution="ok", author="x", now=NOW
        )
    await _file(seeded, ana, device="cmts-bog-02", title="Otro equipo")
    await _file(seeded, maria, device="olt-sdq-01", title="Otra empresa")
    waiting = await _file(seeded, ana, device="cmts-bog-01", title="En espera")
    async with transaction(seeded) as session:
        ticket = await svc.get_ticket(session=session, number=waiting.number)
        await ticket_updates.change_status(
            session=session, ticket=ticket, status="pending_customer", author="x", now=NOW
        )

    preview = await _preview(seeded, ana, device="CMTS BOG 01")
    assert [t.number for t in preview.duplicates] == [waiting.number, alarm.number, first.number]
    assert [t.channel for t in preview.duplicates] == ["api", "snmp", "chat"]
    later = await _file(seeded, ana, device="cmts-bog-01", title="Cuarto")
    again = await _preview(seeded, ana, device="cmts-bog-01")
    assert [t.number for t in again.duplicates] == [later.number, waiting.number, alarm.number]  # at most three


async def test_without_a_registered_device_duplicates_match_the_device_text(seeded) -> None:
    ana = await _customer(seeded, ANA)
    one = await _file(seeded, ana, device_text="Router Nodo-Norte")
    two = await _file(seeded, ana, device="router nodo norte")
    await _file(seeded, ana, device_text="Router Nodo Sur")
    await _file(seeded, ana, device="cmts-bog-01")
    preview = await _preview(seeded, ana, device_text="ROUTER  nodo_norte")
    assert [t.number for t in preview.duplicates] == [two.number, one.number]
    assert (await _preview(seeded, ana)).duplicates == []  # nothing named: nothing to compare


async def test_duplicates_are_ordered_by_creation_time(seeded) -> None:
    ana = await _customer(seeded, ANA)
    older = await _file(seeded, ana, device="cmts-bog-02")
    async with transaction(seeded) as session:
        draft = await intake.draft_from_body(
            session=session, caller=ana, data=BASE | {"device": "cmts-bog-02"}, now=NOW + timedelta(hours=1)
        )
        newer = (await svc.create_ticket(session=session, draft=draft, author=ANA, now=NOW + timedelta(hours=1))).ticket
    preview = await _preview(seeded, ana, device="cmts-bog-02")
    assert [t.number for t in preview.duplicates] == [newer.number, older.number]
