"""Handoff to a human: tier queues, positions, estimated waits, idempotence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from promptlink.infra.db import transaction
from promptlink.models import Contact, Conversation, Customer, Message, Ticket
from promptlink.services import conversations as conv_svc
from promptlink.services import handoff as svc
from promptlink.services.errors import InvalidInput, NotFound
from promptlink.services.identity import WidgetIdentity
from sqlalchemy import func, select

from tests.backend.chat.data import hand_off

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
DEFAULT_WAIT = 300


async def _conversation(sessions, email: str | None = None) -> str:
    identity = None
    if email:
        async with sessions() as session:
            c = await session.scalar(select(Contact).where(Contact.email == email))
            identity = WidgetIdentity(c.id, c.email, c.name, c.customer_id, c.customer.code, c.customer.name)
    async with transaction(sessions) as session:
        conversation = await conv_svc.open_conversation(
            session=session, identity=identity, conversation_id=None, resume_grant=None
        )
        return conversation.id


async def _handoff(sessions, cid: str, tier: str = "L2", *, now=NOW, reason="Falla de software", ticket=None):
    return await hand_off(sessions, cid, tier, reason=reason, ticket=ticket, now=now)  # waits 300 s by default


async def _messages(sessions, cid: str) -> list[Message]:
    async with sessions() as session:
        return list(await session.scalars(select(Message).where(Message.conversation_id == cid).order_by(Message.seq)))


async def _ticket(sessions, code: str, number: str) -> None:
    async with transaction(sessions) as session:
        customer = await session.scalar(select(Customer).where(Customer.code == code))
        session.add(
            Ticket(
                number=number,
                customer_id=customer.id,
                channel="chat",
                type="information",
                title="Consulta",
                priority=4,
                tier="L1",
            )
        )


async def test_a_handoff_queues_the_chat_and_tells_the_customer(seeded) -> None:
    cid = await _conversation(seeded, "ana.gomez@cableandina.example")
    await _ticket(seeded, "CABLEANDINA", "PL-2026-000901")
    place = await _handoff(seeded, cid, "L2", ticket="PL-2026-000901")
    assert (place.mode, place.tier, place.position, place.eta_seconds) == ("queued", "L2", 1, DEFAULT_WAIT)
    assert place.notice is not None and place.notice.role == "system"
    assert place.notice.text == (
        "Le estamos comunicando con un especialista de Soporte de Nivel 2. "
        "Mientras espera, le indicamos su lugar en la cola y el tiempo estimado."
    )
    async with seeded() as session:
        conversation = await session.get(Conversation, cid)
    assert conversation.mode == "queued" and conversation.tier == "L2" and conversation.queued_at == NOW
    assert conversation.handoff_reason == "Falla de software" and conversation.ticket_number == "PL-2026-000901"
    assert [m.text for m in await _messages(seeded, cid)] == [place.notice.text]


async def test_positions_count_earlier_chats_of_the_same_tier_only(seeded) -> None:
    first, second, other = [await _conversation(seeded) for _ in range(3)]
    assert (await _handoff(seeded, first, "L1")).position == 1
    place = await _handoff(seeded, second, "L1", now=NOW + timedelta(minutes=1))
    assert (place.position, place.eta_seconds) == (2, 2 * DEFAULT_WAIT)
    assert place.notice is not None and "Posición" not in place.notice.text  # told live, never stored
    assert (await _handoff(seeded, other, "L3")).position == 1


async def test_a_repeated_handoff_answers_the_current_place_without_a_second_notice(seeded) -> None:
    first, second = await _conversation(seeded), await _conversation(seeded)
    await _handoff(seeded, first, "L1")
    await _handoff(seeded, second, "L1", now=NOW + timedelta(seconds=5))
    again = await _handoff(seeded, second, "L3", now=NOW + timedelta(minutes=3))
    assert (again.tier, again.position, again.notice) == ("L1", 2, None)
    assert len(await _messages(seeded, second)) == 1
    # The first one was claimed by an agent: the second moves up.
    async with transaction(seeded) as session:
        (await session.get(Conversation, first)).mode = "human"
    assert (await _handoff(seeded, second, "L1")).position == 1


async def test_the_estimated_wait_averages_the_tiers_claimed_chats(seeded) -> None:
    waits = [60, 180]
    for i, wait in enumerate(waits):
        cid = await _conversation(seeded)
        async with transaction(seeded) as session:
            conversation = await session.get(Conversation, cid)
            conversation.mode, conversation.tier = "human", "L3"
            conversation.queued_at = NOW - timedelta(hours=1, minutes=i)
            conversation.claimed_at = conversation.queued_at + timedelta(seconds=wait)
    place = await _handoff(seeded, await _conversation(seeded), "L3")
    assert (place.position, place.eta_seconds) == (1, 120)
    # Another tier with nothing claimed still uses the default.
    assert (await _handoff(seeded, await _conversation(seeded), "L1")).eta_seconds == DEFAULT_WAIT


@pytest.mark.parametrize(
    ("kwargs", "error", "public"),
    [
        ({"tier": "L4"}, InvalidInput, "El nivel de soporte no es válido."),
        ({"tier": None}, InvalidInput, "El nivel de soporte no es válido."),
        ({"reason": "x" * 301}, InvalidInput, "El motivo no es válido."),
        ({"reason": 42}, InvalidInput, "El motivo no es válido."),
        ({"ticket": "PL-2026-999999"}, InvalidInput, "El tiquete no existe."),
        ({"ticket": "PL-2026-000902"}, InvalidInput, "El tiquete no existe."),  # another customer's ticket
    ],
)
async def test_bad_handoffs_are_refused_and_change_nothing(seeded, kwargs, error, public) -> None:
    await _ticket(seeded, "TELECARIBE", "PL-2026-000902")
    cid = await _conversation(seeded, "ana.gomez@cableandina.example")
    with pytest.raises(error) as caught:
        await _handoff(seeded, cid, **kwargs)
    assert caught.value.public == public
    async with seeded() as session:
        assert (await session.get(Conversation, cid)).mode == "bot"
        assert await session.scalar(select(func.count()).select_from(Message)) == 0


async def test_unknown_closed_and_claimed_conversations(seeded) -> None:
    with pytest.raises(NotFound):
        await _handoff(seeded, "00000000-0000-0000-0000-000000000000")
    cid = await _conversation(seeded)
    for mode in ("human", "closed"):
        async with transaction(seeded) as session:
            (await session.get(Conversation, cid)).mode = mode
        with pytest.raises(svc.HandoffRefused) as caught:
            await _handoff(seeded, cid)
        assert caught.value.status == 409


async def test_queued_chats_lists_each_tier_first_in_line_first(seeded) -> None:
    ana = await _conversation(seeded, "ana.gomez@cableandina.example")
    visitor = await _conversation(seeded)
    l3 = await _conversation(seeded)
    await _handoff(seeded, visitor, "L1", now=NOW - timedelta(minutes=5), reason="Quiere hablar con alguien")
    await _handoff(seeded, ana, "L1", now=NOW - timedelta(minutes=2))
    await _handoff(seeded, l3, "L3", now=NOW)
    async with seeded() as session:
        queues = await svc.queued_chats(session=session, tiers=("L1", "L2"), now=NOW)
    assert set(queues) == {"L1", "L2"} and queues["L2"] == []
    rows = [(q.conversation.id, q.position, q.waiting_seconds) for q in queues["L1"]]
    assert rows == [(visitor, 1, 300), (ana, 2, 120)]
    assert queues["L1"][1].conversation.contact.email == "ana.gomez@cableandina.example"
    assert queues["L1"][0].conversation.handoff_reason == "Quiere hablar con alguien"


def test_the_stored_notice_names_the_level_not_a_place_that_goes_stale() -> None:
    # The place and the wait change while the chat waits: the widget shows them live (`handoff`).
    assert svc.queue_notice(tier="L1") == (
        "Le estamos comunicando con un especialista de Soporte de Nivel 1. "
        "Mientras espera, le indicamos su lugar en la cola y el tiempo estimado."
    )
