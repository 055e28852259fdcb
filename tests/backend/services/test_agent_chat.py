"""Live chat with a person: claim, capacity, replies, notes, transfer, hand back, close, rating, presence."""

from __future__ import annotations

from datetime import timedelta

import pytest
from promptlink.infra.db import transaction
from promptlink.models import Agent, Conversation, ConversationEvent, Customer, Message, Ticket
from promptlink.services import agent_chat as svc
from promptlink.services import handoff as handoff_svc
from promptlink.services.auth import Principal
from promptlink.services.errors import InvalidInput
from sqlalchemy import select, update

from tests.backend.chat.data import ANA, NOW, anas_conversation, hand_off, staff


async def _queued(sessions, tier: str = "L1", *, ticket: str | None = None, now=NOW) -> str:
    cid = await anas_conversation(sessions, first="hola")
    await hand_off(sessions, cid, tier, ticket=ticket, now=now)
    return cid


async def _run(sessions, op, **kwargs):
    async with transaction(sessions) as session:
        return await op(session=session, **kwargs)


async def _conversation(sessions, cid: str) -> Conversation:
    async with sessions() as session:
        return await session.get(Conversation, cid)


async def _events(sessions, cid: str) -> list[ConversationEvent]:
    async with sessions() as session:
        rows = await session.scalars(
            select(ConversationEvent).where(ConversationEvent.conversation_id == cid).order_by(ConversationEvent.id)
        )
        return list(rows)


async def test_an_agent_of_the_tier_claims_and_the_customer_learns_the_name(seeded) -> None:
    cid = await _queued(seeded, "L1")
    laura = await staff(seeded, "l1@promptlink.example")
    later = NOW + timedelta(minutes=4)
    change = await _run(seeded, svc.claim, conversation_id=cid, principal=laura, now=later)
    assert change.customer_events == [("agent_joined", {"name": "Laura Nivel Uno", "tier": "L1"})]
    assert [n.text for n in change.notices] == ["Le atiende Laura Nivel Uno, especialista de Soporte de Nivel 1."]
    conversation = await _conversation(seeded, cid)
    assert (conversation.mode, conversation.agent_id, conversation.claimed_at) == ("human", laura.agent_id, later)
    assert [e.kind for e in await _events(seeded, cid)] == ["queued", "claimed"]
    # The tier's estimated wait now learns from that claim (4 minutes), not the 300 s default.
    async with seeded() as session:
        assert await handoff_svc.average_wait_seconds(session=session, tier="L1", default=300) == 240
    # A repeated claim by the same agent (a retry) changes nothing.
    again = await _run(seeded, svc.claim, conversation_id=cid, principal=laura, now=later)
    assert again.notices == [] and again.customer_events == []


async def test_only_the_tier_claims_and_only_once(seeded) -> None:
    cid = await _queued(seeded, "L2")
    laura = await staff(seeded, "l1@promptlink.example")
    diego = await staff(seeded, "l2@promptlink.example")
    supervisor = await staff(seeded, "supervisor@promptlink.example")
    admin = await staff(seeded, "admin@promptlink.example")
    with pytest.raises(svc.NotYours):
        await _run(seeded, svc.claim, conversation_id=cid, principal=laura, now=NOW)
    with pytest.raises(svc.NotYours):
        await _run(seeded, svc.claim, conversation_id=cid, principal=admin, now=NOW)
    await _run(seeded, svc.claim, conversation_id=cid, principal=diego, now=NOW)
    with pytest.raises(svc.LiveChatRefused) as refused:
        await _run(seeded, svc.claim, conversation_id=cid, principal=supervisor, now=NOW)
    assert refused.value.public == "La conversación ya no está en la cola."
    assert (await _conversation(seeded, cid)).agent_id == diego.agent_id


async def test_capacity_limits_concurrent_chats(seeded) -> None:
    laura = await staff(seeded, "l1@promptlink.example")
    async with transaction(seeded) as session:
        await session.execute(update(Agent).where(Agent.id == laura.agent_id).values(capacity=1))
    first, second = await _queued(seeded, "L1"), await _queued(seeded, "L1")
    await _run(seeded, svc.claim, conversation_id=first, principal=laura, now=NOW)
    with pytest.raises(svc.LiveChatRefused) as refused:
        await _run(seeded, svc.claim, conversation_id=second, principal=laura, now=NOW)
    assert "máximo de 1" in refused.value.public
    assert (await _conversation(seeded, second)).mode == "queued"


async def test_transfer_moves_the_chat_to_the_other_tier_with_an_internal_reason(seeded) -> None:
    cid = await _queued(seeded, "L1")
    laura = await staff(seeded, "l1@promptlink.example")
    sofia = await staff(seeded, "l3@promptlink.example")
    await _run(seeded, svc.claim, conversation_id=cid, principal=laura, now=NOW)

    async def transfer(tier: str, reason: object) -> svc.Change:
        return await _run(
            seeded,
            svc.transfer,
            conversation_id=cid,
            principal=laura,
            tier=tier,
            reason=reason,
            now=NOW,
            default_wait_seconds=300,
        )

    for tier, reason in (("L3", None), ("L3", ""), ("L3", "   "), ("L3", "x" * 301), ("L9", "x")):
        with pytest.raises(InvalidInput):
            await transfer(tier, reason)
    change = await transfer("L3", "Falla compleja del CMTS")
    [notice] = change.notices
    assert notice.text.startswith("Su conversación pasa a Soporte de Nivel 3. Le estamos comunicando")
    assert "CMTS" not in notice.text  # the reason stays internal
    assert change.customer_events[0][0] == "handoff" and change.customer_events[0][1]["tier"] == "L3"
    assert change.tiers == {"L1", "L3"} and change.agent_ids == {laura.agent_id}
    conversation = await _conversation(seeded, cid)
    assert (conversation.mode, conversation.tier, conversation.agent_id) == ("queued", "L3", None)
    transferred = (await _events(seeded, cid))[-1]
    assert (transferred.kind, transferred.tier, transferred.text) == ("transferred", "L3", "Falla compleja del CMTS")
    with pytest.raises(svc.NotYours):
        await _run(seeded, svc.claim, conversation_id=cid, principal=laura, now=NOW)
    await _run(seeded, svc.claim, conversation_id=cid, principal=sofia, now=NOW)


async def test_hand_back_close_and_rating(seeded) -> None:
    cid = await _queued(seeded, "L1")
    laura = await staff(seeded, "l1@promptlink.example")
    await _run(seeded, svc.claim, conversation_id=cid, principal=laura, now=NOW)
    change = await _run(seeded, svc.hand_back, conversation_id=cid, principal=laura, now=NOW)
    assert change.customer_events == [("state", {"mode": "bot", "tier": None, "agent": None})]
    assert (await _conversation(seeded, cid)).mode == "bot"
    with pytest.raises(svc.LiveChatRefused):  # not with an agent any more
        await _run(seeded, svc.close, conversation_id=cid, principal=laura, resolution="x", now=NOW)

    cid = await _queued(seeded, "L1")
    await _run(seeded, svc.claim, conversation_id=cid, principal=laura, now=NOW)
    with pytest.raises(InvalidInput):
        await _run(seeded, svc.close, conversation_id=cid, principal=laura, resolution=" ", now=NOW)
    with pytest.raises(svc.LiveChatRefused):
        await _run(seeded, svc.rate, conversation_id=cid, score=5, comment=None, now=NOW)
    change = await _run(
        seeded, svc.close, conversation_id=cid, principal=laura, resolution="Configuración corregida", now=NOW
    )
    assert change.notices[0].text == svc.RATING_QUESTION
    assert change.customer_events == [("closed", {"rating_requested": True, "by": "agent"})]
    for bad in (0, 6, "5", 4.5, True, None):
        with pytest.raises(InvalidInput):
            await _run(seeded, svc.rate, conversation_id=cid, score=bad, comment=None, now=NOW)
    with pytest.raises(InvalidInput):
        await _run(seeded, svc.rate, conversation_id=cid, score=4, comment="x" * 1001, now=NOW)
    await _run(seeded, svc.rate, conversation_id=cid, score=4, comment=" Muy amable ", now=NOW)
    with pytest.raises(svc.LiveChatRefused):
        await _run(seeded, svc.rate, conversation_id=cid, score=1, comment=None, now=NOW)
    conversation = await _conversation(seeded, cid)
    assert (conversation.mode, conversation.resolution, conversation.rating, conversation.rating_comment) == (
        "closed",
        "Configuración corregida",
        4,
        "Muy amable",
    )
    kinds = [e.kind for e in await _events(seeded, cid)]
    assert kinds == ["queued", "claimed", "closed", "rated"]


async def test_a_customer_ends_their_chat_in_any_mode(seeded) -> None:
    cid = await _queued(seeded, "L2")
    customer = Principal(role="customer", email="", name="", conversation_id=cid)  # its socket's chat
    change = await _run(seeded, svc.close, conversation_id=cid, principal=customer, resolution=None, now=NOW)
    assert change.customer_events == [("closed", {"rating_requested": True, "by": "customer"})]
    assert change.tiers == {"L2"}  # it left the queue
    assert (await _conversation(seeded, cid)).mode == "closed"


async def test_notes_are_internal_and_scoped(seeded) -> None:
    cid = await _queued(seeded, "L2")
    laura = await staff(seeded, "l1@promptlink.example")
    diego = await staff(seeded, "l2@promptlink.example")
    with pytest.raises(svc.NotYours):
        await _run(seeded, svc.add_note, conversation_id=cid, principal=laura, text="x", now=NOW)
    note = await _run(
        seeded, svc.add_note, conversation_id=cid, principal=diego, text="Cliente con contrato vigente", now=NOW
    )
    assert (note.kind, note.author, note.text) == ("note", "l2@promptlink.example", "Cliente con contrato vigente")
    async with seeded() as session:
        texts = list(await session.scalars(select(Message.text).where(Message.conversation_id == cid)))
    assert "Cliente con contrato vigente" not in texts


async def test_nobody_online_tells_how_and_when_and_names_the_on_call(seeded) -> None:
    async with transaction(seeded) as session:
        customer = await session.scalar(select(Customer).where(Customer.code == "CABLEANDINA"))
        session.add(
            Ticket(
                number="PL-2026-000777",
                customer_id=customer.id,
                channel="chat",
                type="network_outage",
                title="Red caída",
                priority=1,
                tier="L3",
                next_update_due=NOW + timedelta(hours=2),
            )
        )
    cid = await _queued(seeded, "L3", ticket="PL-2026-000777")
    async with transaction(seeded) as session:
        conversation = await session.get(Conversation, cid)
        text = await svc.no_agents_notice(session=session, conversation=conversation, now=NOW, contact_email=ANA)
        recipients = [a.email for a in await svc.on_call_recipients(session)]
    assert text is not None
    assert text.startswith("En este momento no hay especialistas de Soporte de Nivel 3 conectados.")
    assert "PL-2026-000777" in text and ANA in text
    # 17:00 UTC in the customer's time zone, the date in words
    assert "a más tardar el 25 de noviembre de 2026, 12:00 (hora de Bogotá)" in text
    assert recipients == ["l3@promptlink.example"]

    sofia = await staff(seeded, "l3@promptlink.example")
    await _run(seeded, svc.set_presence, principal=sofia, presence="online", now=NOW)
    async with transaction(seeded) as session:
        conversation = await session.get(Conversation, cid)
        assert (
            await svc.no_agents_notice(session=session, conversation=conversation, now=NOW, contact_email=ANA) is None
        )


async def test_presence_and_least_busy_agent(seeded) -> None:
    laura = await staff(seeded, "l1@promptlink.example")
    supervisor = await staff(seeded, "supervisor@promptlink.example")
    with pytest.raises(InvalidInput):
        await _run(seeded, svc.set_presence, principal=laura, presence="busy", now=NOW)
    async with seeded() as session:
        assert await svc.least_busy_agent(session, "L1") is None  # nobody online
    await _run(seeded, svc.set_presence, principal=laura, presence="online", now=NOW)
    await _run(seeded, svc.set_presence, principal=supervisor, presence="online", now=NOW)
    cid = await _queued(seeded, "L1")
    await _run(seeded, svc.claim, conversation_id=cid, principal=laura, now=NOW)
    async with seeded() as session:
        chosen = await svc.least_busy_agent(session, "L1")
    assert chosen is not None and chosen.id == supervisor.agent_id  # Laura already has one chat
    await _run(seeded, svc.set_presence, principal=supervisor, presence="away", now=NOW)
    async with seeded() as session:
        chosen = await svc.least_busy_agent(session, "L1")
    assert chosen is not None and chosen.id == laura.agent_id
