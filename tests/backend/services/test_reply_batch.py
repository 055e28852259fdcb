"""Agents' replies, written in batches (SQLite: on the writer thread; PostgreSQL: run_sync)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from promptlink.db import transaction
from promptlink.models import Agent, Contact, Message
from promptlink.services import conversations as conv_svc
from promptlink.services import handoff as handoff_svc
from promptlink.services import livechat as svc
from promptlink.services.auth import Principal
from promptlink.services.errors import InvalidInput, NotFound
from promptlink.services.identity import WidgetIdentity
from promptlink.services.reply_batch import ReplyWriter
from sqlalchemy import select, update

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
ANA = "ana.gomez@cableandina.example"


async def _principal(sessions, email: str) -> Principal:
    async with sessions() as session:
        agent = await session.scalar(select(Agent).where(Agent.email == email))
    return Principal(
        role=agent.role, email=agent.email, name=agent.name, agent_id=agent.id, tiers=tuple(agent.tier_list)
    )


async def _claimed(sessions, principal: Principal | None) -> str:
    """A conversation of Ana's queued to L1 and, when `principal` is given, claimed by them."""
    async with sessions() as session:
        c = await session.scalar(select(Contact).where(Contact.email == ANA))
        identity = WidgetIdentity(c.id, c.email, c.name, c.customer_id, c.customer.code, c.customer.name)
    async with transaction(sessions) as session:
        conversation = await conv_svc.open_conversation(
            session=session, identity=identity, conversation_id=None, resume_grant=None
        )
        await conv_svc.append_message(session=session, conversation_id=conversation.id, role="customer", text="hola")
        await handoff_svc.request_handoff(
            session=session,
            conversation_id=conversation.id,
            tier="L1",
            reason="El cliente pidió hablar con una persona",
            ticket_number=None,
            now=NOW,
            default_wait_seconds=300,
        )
        cid = conversation.id
    if principal is not None:
        async with transaction(sessions) as session:
            await svc.claim(session=session, conversation_id=cid, principal=principal, now=NOW)
    return cid


async def _stored(sessions, cid: str) -> list[Message]:
    async with sessions() as session:
        return list(await session.scalars(select(Message).where(Message.conversation_id == cid).order_by(Message.seq)))


@pytest.fixture
async def writer(seeded):
    replies = ReplyWriter(seeded)
    yield replies
    replies.close()


async def test_replies_come_from_the_assigned_agent_once(seeded, writer) -> None:
    laura = await _principal(seeded, "l1@promptlink.example")
    supervisor = await _principal(seeded, "supervisor@promptlink.example")
    diego = await _principal(seeded, "l2@promptlink.example")
    cid = await _claimed(seeded, None)

    async def reply(who: Principal, text: object, client_msg_id: object, conversation_id: str = cid):
        return await writer.submit(
            principal=who, conversation_id=conversation_id, text=text, client_msg_id=client_msg_id, max_chars=2000
        )

    with pytest.raises(svc.LiveChatRefused):  # still queued: nobody replies yet
        await reply(laura, "hola", "a1")
    async with transaction(seeded) as session:
        await svc.claim(session=session, conversation_id=cid, principal=laura, now=NOW)
    message, created = await reply(laura, " Buenas tardes ", "a1")
    assert created and (message.role, message.text, message.author_name) == (
        "agent",
        "Buenas tardes",
        "Laura Nivel Uno",
    )
    assert message.to_event()["seq"] == message.seq
    repeat, created = await reply(laura, "Buenas tardes", "a1")
    assert not created and (repeat.seq, repeat.id) == (message.seq, message.id)
    with pytest.raises(svc.NotYours):
        await reply(diego, "x", "d1")
    supervised, created = await reply(supervisor, "Apoyo", "s1")
    assert created and supervised.author_name == "Carlos Supervisor" and supervised.seq == message.seq + 1
    for text, client_msg_id in (("x" * 2001, "a2"), ("   ", "a3"), (42, "a4"), ("ok", "x" * 65), ("ok", 7)):
        with pytest.raises(InvalidInput):
            await reply(laura, text, client_msg_id)
    with pytest.raises(NotFound):
        await reply(laura, "hola", "a5", conversation_id="no-such-conversation")
    stored = await _stored(seeded, cid)
    assert [(m.role, m.text) for m in stored if m.role != "system"] == [
        ("customer", "hola"),
        ("agent", "Buenas tardes"),
        ("agent", "Apoyo"),
    ]
    assert [m.seq for m in stored] == list(range(1, len(stored) + 1))


async def test_replies_sent_together_share_transactions_and_each_is_stored_once(seeded, writer) -> None:
    laura = await _principal(seeded, "l1@promptlink.example")
    diego = await _principal(seeded, "l2@promptlink.example")
    async with transaction(seeded) as session:
        await session.execute(update(Agent).where(Agent.id == laura.agent_id).values(capacity=10))
    chats = [await _claimed(seeded, laura) for _ in range(3)]
    before = writer.batches
    sends = [
        writer.submit(principal=laura, conversation_id=cid, text=f"r{n}", client_msg_id=f"{cid}-{n}", max_chars=2000)
        for n in range(20)
        for cid in chats
    ]
    # A resend of one of them, and one reply that is refused, in the same burst.
    sends.append(
        writer.submit(principal=laura, conversation_id=chats[0], text="r0", client_msg_id=f"{chats[0]}-0", max_chars=9)
    )
    sends.append(writer.submit(principal=diego, conversation_id=chats[1], text="no", client_msg_id="d", max_chars=9))
    results = await asyncio.gather(*sends, return_exceptions=True)
    assert isinstance(results[-1], svc.NotYours)
    resent, created = results[-2]
    assert not created
    created_count = sum(1 for r in results[:-2] if r[1])
    assert created_count == 60
    assert writer.batches - before < 10  # 62 replies in a handful of transactions, not 62
    for cid in chats:
        stored = [m for m in await _stored(seeded, cid) if m.role == "agent"]
        assert [m.text for m in stored] == [f"r{n}" for n in range(20)]  # in the order sent, each once
    first = next(m for m in await _stored(seeded, chats[0]) if m.client_msg_id == f"{chats[0]}-0")
    assert resent.id == first.id
