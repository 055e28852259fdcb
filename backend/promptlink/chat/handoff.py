"""Handing a chat to a person: the one place that queues a conversation and tells everyone.

Two callers: the action server (or staff) through `POST /api/v1/conversations/{id}/handoff`,
while the assistant's turn that asked for it is still being stored; and the chat gateway,
when the customer takes the offered person while the assistant is down (inside that turn).
Either way: `services.handoff.request_handoff` in a transaction, then the customer's
`handoff` event and Spanish notice (after the turn's replies), then the live chat's
follow-up (nobody online, P1 alert, automatic assignment, queue refresh).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from promptlink.infra import metrics
from promptlink.infra.clock import Clock
from promptlink.infra.db import transaction
from promptlink.models import Message
from promptlink.services.handoff import QueuePlace, request_handoff

log = logging.getLogger(__name__)


class Announcer(Protocol):
    """What the handoff needs of the chat gateway."""

    async def notify(self, *, conversation_id: str, event: str, data: dict[str, Any]) -> None: ...

    async def deliver(self, message: Message) -> None: ...

    def post_after_turn(
        self, *, conversation_id: str, role: str, text: str, then: Callable[[], Awaitable[None]] | None = None
    ) -> None: ...


class Handoff:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        gateway: Announcer,
        after_queued: Callable[[str], Awaitable[None]],
        default_wait_seconds: int = 300,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.gateway = gateway
        self.after_queued = after_queued  # the live chat's follow-up once a chat is in a queue
        self.default_wait_seconds = default_wait_seconds

    async def request(
        self,
        *,
        conversation_id: str,
        tier: Any,
        reason: Any,
        ticket: Any = None,
        author: str = "",
        in_turn: bool = False,
    ) -> QueuePlace:
        """Queue the conversation for a person of `tier`; a repeated request answers its current place.

        `in_turn`: called from inside the assistant's turn (the gateway holds the conversation's
        turn lock): the notice is stored with the queueing and delivered now. Otherwise it is
        posted once the turn in progress, if any, is stored, so it reads after the bot's answer.
        """
        received = time.perf_counter()
        async with transaction(self.sessions) as session:
            place = await request_handoff(
                session=session,
                conversation_id=conversation_id,
                tier=tier,
                reason=reason,
                ticket_number=ticket,
                now=self.clock.now(),
                default_wait_seconds=self.default_wait_seconds,
                store_notice=in_turn,
                author=author,
            )
        if place.notice_text is None:
            return place  # already queued: nothing new to announce
        await self.gateway.notify(
            conversation_id=place.conversation_id,
            event="handoff",
            data={"tier": place.tier, "position": place.position, "eta_seconds": place.eta_seconds},
        )

        async def queued_and_announced() -> None:
            await self.after_queued(place.conversation_id)
            # Requested to queued, the customer told (after the turn's replies) and the queue re-sent.
            metrics.TURN_SECONDS.labels("handoff").observe(time.perf_counter() - received)

        if place.notice is not None:
            await self.gateway.deliver(place.notice)
            await queued_and_announced()
        else:
            self.gateway.post_after_turn(
                conversation_id=place.conversation_id,
                role="system",
                text=place.notice_text,
                then=queued_and_announced,
            )
        log.info(
            "chat handed off",
            extra={
                "conversation_id": place.conversation_id,
                "tier": place.tier,
                "position": place.position,
                "by": author,
            },
        )
        return place
