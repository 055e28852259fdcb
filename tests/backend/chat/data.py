"""Seeded conversations the chat tests share: staff as principals, Ana's conversations, handoffs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from promptlink.infra.db import transaction
from promptlink.models import Agent, Contact
from promptlink.services import conversations as conv_svc
from promptlink.services import handoff as handoff_svc
from promptlink.services.auth import Principal
from promptlink.services.identity import WidgetIdentity
from sqlalchemy import select

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
ANA = "ana.gomez@cableandina.example"
WHY = "El cliente pidió hablar con una persona"


async def staff(sessions, email: str) -> Principal:
    """A seeded agent, supervisor or admin as the API would see them."""
    async with sessions() as session:
        agent = await session.scalar(select(Agent).where(Agent.email == email))
    return Principal(
        role=agent.role, email=agent.email, name=agent.name, agent_id=agent.id, tiers=tuple(agent.tier_list)
    )


async def anas_conversation(sessions, *, first: str | None = None) -> str:
    """A new conversation of Ana's, with the assistant (mode `bot`); `first`: her first message."""
    async with sessions() as session:
        c = await session.scalar(select(Contact).where(Contact.email == ANA))
        identity = WidgetIdentity(c.id, c.email, c.name, c.customer_id, c.customer.code, c.customer.name)
    async with transaction(sessions) as session:
        conversation = await conv_svc.open_conversation(
            session=session, identity=identity, conversation_id=None, resume_grant=None
        )
        if first is not None:
            await conv_svc.append_message(session=session, conversation_id=conversation.id, role="customer", text=first)
        return conversation.id


async def hand_off(
    sessions, cid: str, tier: Any = "L1", *, reason: Any = WHY, ticket: Any = None, now: datetime = NOW
) -> handoff_svc.QueuePlace:
    """Queue the conversation for `tier` (default wait 300 s), as the action server's handoff does."""
    async with transaction(sessions) as session:
        return await handoff_svc.request_handoff(
            session=session,
            conversation_id=cid,
            tier=tier,
            reason=reason,
            ticket_number=ticket,
            now=now,
            default_wait_seconds=300,
        )
