"""The live chat orchestrator with automatic assignment (`PROMPTLINK_CHAT_ASSIGNMENT=auto`):
queued chats go to the least busy online agent of the tier, first in line first, within
capacity; the agent and the customer are told."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from promptlink.chat.gateway import ChatGateway
from promptlink.chat.live_chat import LiveChat
from promptlink.infra.clock import ManualClock
from promptlink.infra.db import transaction
from promptlink.models import Agent, Conversation
from sqlalchemy import select, update

from tests.backend.chat.data import NOW, hand_off, staff


class RecordingEmitter:
    """Stands in for the socket.io server: records (event, data, room, namespace)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any, str | None, str | None]] = []

    async def emit(
        self, event: str, data: Any = None, *, room: str | None = None, namespace: str | None = None, **_: Any
    ) -> None:
        self.sent.append((event, data, room, namespace))

    def to(self, room: str, event: str) -> list[Any]:
        return [d for e, d, r, _ in self.sent if r == room and e == event]


async def _queue(sessions, gateway: ChatGateway, minute: int = 0) -> str:
    conversation = await gateway.open(identity=None, conversation_id=None, resume_grant=None)
    await hand_off(sessions, conversation.id, reason="", now=NOW + timedelta(minutes=minute))
    return conversation.id


async def test_auto_assignment_spreads_chats_over_online_agents_within_capacity(seeded) -> None:
    emitter = RecordingEmitter()
    gateway = ChatGateway(sessions=seeded, assistant=None, emitter=emitter)  # type: ignore[arg-type]
    live = LiveChat(sessions=seeded, gateway=gateway, emitter=emitter, clock=ManualClock(NOW), assignment="auto")
    laura = await staff(seeded, "l1@promptlink.example")
    carlos = await staff(seeded, "supervisor@promptlink.example")
    async with transaction(seeded) as session:
        await session.execute(update(Agent).where(Agent.id.in_([laura.agent_id, carlos.agent_id])).values(capacity=2))
    first = await _queue(seeded, gateway)
    await live.after_queued(first)  # nobody online: it waits, and the customer is told so
    async with seeded() as session:
        assert (await session.get(Conversation, first)).mode == "queued"
    assert any(
        m["text"].startswith("En este momento no hay especialistas") for m in emitter.to(f"conv:{first}", "message")
    )

    await live.set_presence(laura, "online")  # going online takes the waiting chat
    await live.set_presence(carlos, "online")
    others = [await _queue(seeded, gateway, minute) for minute in range(1, 5)]  # in this order
    for cid in others:
        await live.after_queued(cid)
    async with seeded() as session:
        rows = {c.id: c for c in await session.scalars(select(Conversation))}
    owners = [rows[cid].agent_id for cid in [first, *others]]
    # Laura got the first (she was alone online), then the least busy takes each next one;
    # both are full at two chats, so the last one waits.
    assert owners[:4].count(laura.agent_id) == 2 and owners[:4].count(carlos.agent_id) == 2
    assert rows[others[-1]].mode == "queued" and owners[-1] is None
    assert [d["conversation_id"] for d in emitter.to(f"agent:{laura.agent_id}", "assigned")][0] == first
    assert emitter.to(f"conv:{first}", "agent_joined") == [{"name": "Laura Nivel Uno", "tier": "L1"}]
    # A seat frees up: the waiting chat is assigned at once.
    await live.close(laura, first, "Resuelto")
    async with seeded() as session:
        last = await session.get(Conversation, others[-1])
    assert (last.mode, last.agent_id) == ("human", laura.agent_id)


async def test_queue_places_are_sent_in_folded_passes_and_only_when_they_change(seeded) -> None:
    emitter = RecordingEmitter()
    gateway = ChatGateway(sessions=seeded, assistant=None, emitter=emitter)  # type: ignore[arg-type]
    live = LiveChat(sessions=seeded, gateway=gateway, emitter=emitter, clock=ManualClock(NOW))
    chats = [await _queue(seeded, gateway, minute) for minute in range(4)]

    def places(cid: str) -> list[int]:
        return [d["position"] for d in emitter.to(f"conv:{cid}", "handoff")]

    # Twenty changes at once: folded into at most two passes over the queue, not twenty.
    await asyncio.gather(*(live.queue_changed("L1") for _ in range(20)))
    assert len(emitter.to("tier:L1", "queues")) <= 2
    assert [places(cid) for cid in chats] == [[1], [2], [3], [4]]  # each told once

    # The first leaves the queue: only those whose place changed are told again.
    async with transaction(seeded) as session:
        await session.execute(update(Conversation).where(Conversation.id == chats[0]).values(mode="bot", tier=None))
    await live.queue_changed("L1")
    assert [places(cid) for cid in chats] == [[1], [2, 1], [3, 2], [4, 3]]

    # A customer who reconnects (a new socket) is told their place again; nobody else is.
    await live.tell_place(chats[2], "L1")
    assert [places(cid) for cid in chats] == [[1], [2, 1], [3, 2, 2], [4, 3]]
