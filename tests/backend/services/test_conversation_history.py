"""The console's «Recientes» / «Cerradas»: who sees which chats, the search, the bounds."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from promptlink.infra.db import transaction
from promptlink.models import Agent, Conversation, ConversationEvent, Customer, Message
from promptlink.services.auth import Forbidden, Principal
from promptlink.services.conversation_history import conversation_history
from promptlink.services.errors import InvalidInput
from promptlink.services.handoff import PREVIEW_CHARS, preview_text
from sqlalchemy import select

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


async def _principal(sessions, email: str) -> Principal:
    async with sessions() as session:
        agent = await session.scalar(select(Agent).where(Agent.email == email))
        return Principal(
            role=agent.role, email=agent.email, name=agent.name, agent_id=agent.id, tiers=tuple(agent.tier_list)
        )


async def _closed_chat(sessions, *, tier: str, text: str, claimed_by: str | None = None, minutes: int = 0) -> str:
    cid = str(uuid.uuid4())
    async with transaction(sessions) as session:
        customer = await session.scalar(select(Customer).where(Customer.code == "CABLEANDINA"))
        when = NOW + timedelta(minutes=minutes)
        session.add(
            Conversation(id=cid, customer_id=customer.id, mode="closed", tier=tier, queued_at=when, closed_at=when)
        )
        await session.flush()
        session.add(Message(conversation_id=cid, seq=1, role="customer", text=text, created_at=when))
        if claimed_by:
            agent = await session.scalar(select(Agent).where(Agent.email == claimed_by))
            session.add(ConversationEvent(conversation_id=cid, kind="claimed", tier=tier, agent_id=agent.id))
    return cid


async def _ids(sessions, principal: Principal, *, status: str = "closed", q: str | None = None) -> list[str]:
    async with sessions() as session:
        page = await conversation_history(session=session, principal=principal, status=status, q=q, limit=50, offset=0)
        return [item.conversation.id for item in page.items]


async def test_closed_chats_by_tier_recent_by_claim_and_search(seeded) -> None:
    word = "tag" + uuid.uuid4().hex[:8]
    l1_chat = await _closed_chat(seeded, tier="L1", text=f"{word} 100% caído", minutes=1)
    l3_chat = await _closed_chat(
        seeded, tier="L3", text=f"{word} núcleo", claimed_by="l3@promptlink.example", minutes=2
    )
    l1 = await _principal(seeded, "l1@promptlink.example")
    l3 = await _principal(seeded, "l3@promptlink.example")
    boss = await _principal(seeded, "supervisor@promptlink.example")

    assert await _ids(seeded, l1, q=word) == [l1_chat]
    assert await _ids(seeded, l3, q=word) == [l3_chat, l1_chat]
    assert await _ids(seeded, boss, q=word.upper()) == [l3_chat, l1_chat]
    assert await _ids(seeded, l3, status="recent", q=word) == [l3_chat]
    assert await _ids(seeded, l1, status="recent", q=word) == []
    assert await _ids(seeded, boss, q=f"{word} 100%") == [l1_chat]  # «%» matches itself
    assert await _ids(seeded, boss, q=f"{word} 1_0") == []


async def test_staff_only_and_bounds(seeded) -> None:
    customer = Principal(role="customer", email="ana.gomez@cableandina.example", name="Ana", customer_id=1)
    boss = await _principal(seeded, "supervisor@promptlink.example")
    async with seeded() as session:
        with pytest.raises(Forbidden):
            await conversation_history(session=session, principal=customer, status="closed", q=None, limit=5, offset=0)
        for status, q, limit, offset in (("open", None, 5, 0), ("closed", "x" * 101, 5, 0), ("closed", None, 51, 0)):
            with pytest.raises(InvalidInput):
                await conversation_history(
                    session=session, principal=boss, status=status, q=q, limit=limit, offset=offset
                )


def test_previews_are_one_line_and_cut() -> None:
    assert preview_text("  hola\n\tmundo ") == "hola mundo"
    cut = preview_text("a" * 500)
    assert len(cut) == PREVIEW_CHARS and cut.endswith("…")
