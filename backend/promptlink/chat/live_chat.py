"""Live chat orchestration: run a `services.agent_chat` operation in a transaction, then tell
everyone concerned on the sockets.

- The customer (`/chat`, room `conv:<id>`): stored notices as `message`, and `agent_joined`,
  `handoff` (also when their position moves), `state`, `closed`, `rated`.
- Agents (`/agent`): every message of a conversation they watch (room `aconv:<id>`), `queues`
  {tier} when a tier's queue changed (room `tier:<T>`), `chats` when their own list changed
  and `assigned` when automatic assignment gave them a chat (room `agent:<id>`).

With the socket.io Redis manager these rooms span every backend process.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from promptlink.chat.gateway import AGENT_NAMESPACE, ChatGateway, Emitter, agent_room_of
from promptlink.chat.views import conversation_summary
from promptlink.infra import metrics
from promptlink.infra.clock import Clock
from promptlink.infra.db import transaction
from promptlink.models import Agent, Conversation, Message
from promptlink.services import agent_chat as svc
from promptlink.services.auth import Principal
from promptlink.services.availability import unavailable_offer
from promptlink.services.conversations import append_message
from promptlink.services.handoff import average_wait_seconds, queued_chats
from promptlink.services.outbox import enqueue_email
from promptlink.services.transcripts import TranscriptSent, send_transcript

log = logging.getLogger(__name__)


def tier_room(tier: str) -> str:
    return f"tier:{tier}"


def agent_room(agent_id: int) -> str:
    return f"agent:{agent_id}"


def observe_wait(change: svc.Change) -> None:
    """A person took a queued chat: how long it waited in its tier's queue (promptlink_queue_wait_seconds)."""
    if not change.notices:
        return  # a repeated claim: nothing was taken
    conversation = change.conversation
    queued, claimed = conversation.queued_at, conversation.claimed_at
    if queued is None or claimed is None or conversation.tier is None:
        return
    if (queued.tzinfo is None) != (claimed.tzinfo is None):  # SQLite hands back naive UTC
        queued, claimed = queued.replace(tzinfo=None), claimed.replace(tzinfo=None)
    metrics.QUEUE_WAIT_SECONDS.labels(conversation.tier).observe(max(0.0, (claimed - queued).total_seconds()))


def _principal_of(agent: Agent) -> Principal:
    return Principal(
        role=agent.role, email=agent.email, name=agent.name, agent_id=agent.id, tiers=tuple(agent.tier_list)
    )


class LiveChat:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        gateway: ChatGateway,
        emitter: Emitter,
        clock: Clock,
        assignment: str = "claim",
        default_wait_seconds: int = 300,
        max_chars: int = 2000,
    ) -> None:
        self.sessions = sessions
        self.gateway = gateway
        self.emitter = emitter
        self.clock = clock
        self.assignment = assignment
        self.default_wait_seconds = default_wait_seconds
        self.max_chars = max_chars
        self.replies = gateway.writer  # one writer (one thread, one queue) for the bot's and agents' replies
        # tier -> whether another change came while its queue was being re-sent (see queue_changed)
        self._refreshing: dict[str, bool] = {}
        # tier -> {conversation id: (position, eta)} last told to each waiting customer
        self._told: dict[str, dict[str, tuple[int, int]]] = {}

    async def _run(self, op: Callable[[AsyncSession, datetime], Awaitable[svc.Change]]) -> svc.Change:
        now = self.clock.now()
        async with transaction(self.sessions) as session:
            change = await op(session, now)
        await self.announce(change)
        return change

    async def announce(self, change: svc.Change) -> None:
        conversation = change.conversation
        for notice in change.notices:
            await self.gateway.deliver(notice)
        for event, data in change.customer_events:
            await self.gateway.notify(conversation_id=conversation.id, event=event, data=data)
        await self.emitter.emit(
            "conversation",
            conversation_summary(conversation),
            room=agent_room_of(conversation.id),
            namespace=AGENT_NAMESPACE,
        )
        for agent_id in change.agent_ids:
            await self.emitter.emit(
                "chats", {"agent_id": agent_id}, room=agent_room(agent_id), namespace=AGENT_NAMESPACE
            )
        for tier in sorted(change.tiers):
            await self.queue_changed(tier)

    async def queue_changed(self, tier: str) -> None:
        """Agents of the tier refresh their queue; waiting customers learn their new place.

        Changes that come while the tier's queue is being re-sent are folded into one more pass
        (a burst of N handoffs costs a few passes over the queue, not N), and a customer is told
        only when their place or estimate changed.
        """
        if tier in self._refreshing:
            self._refreshing[tier] = True  # the running pass goes round once more
            return
        self._refreshing[tier] = False
        try:
            while True:
                await self._resend_queue(tier)
                if not self._refreshing[tier]:
                    break
                self._refreshing[tier] = False
        finally:
            del self._refreshing[tier]

    async def tell_place(self, conversation_id: str, tier: str) -> None:
        """Send a waiting customer's place again (their socket is new), with the next queue pass."""
        self._told.get(tier, {}).pop(conversation_id, None)
        await self.queue_changed(tier)

    async def _resend_queue(self, tier: str) -> None:
        await self.emitter.emit("queues", {"tier": tier}, room=tier_room(tier), namespace=AGENT_NAMESPACE)
        now = self.clock.now()
        async with self.sessions() as session:
            queues = await queued_chats(session=session, tiers=[tier], now=now)
            wait = await average_wait_seconds(session=session, tier=tier, default=self.default_wait_seconds)
        told = self._told.get(tier, {})
        now_told: dict[str, tuple[int, int]] = {}
        for item in queues[tier]:
            place = (item.position, round(wait * item.position))
            now_told[item.conversation.id] = place
            if told.get(item.conversation.id) == place:
                continue
            await self.gateway.notify(
                conversation_id=item.conversation.id,
                event="handoff",
                data={"tier": tier, "position": place[0], "eta_seconds": place[1]},
            )
        self._told[tier] = now_told

    # --- operations -------------------------------------------------------------------------

    async def claim(self, principal: Principal, conversation_id: str) -> svc.Change:
        change = await self._run(
            lambda s, now: svc.claim(session=s, conversation_id=conversation_id, principal=principal, now=now)
        )
        observe_wait(change)
        log.info("chat claimed", extra={"conversation_id": conversation_id, "agent": principal.email})
        return change

    async def transfer(self, principal: Principal, conversation_id: str, tier: Any, reason: Any) -> svc.Change:
        change = await self._run(
            lambda s, now: svc.transfer(
                session=s,
                conversation_id=conversation_id,
                principal=principal,
                tier=tier,
                reason=reason,
                now=now,
                default_wait_seconds=self.default_wait_seconds,
            )
        )
        log.info("chat transferred", extra={"conversation_id": conversation_id, "tier": tier, "by": principal.email})
        await self.after_queued(conversation_id)
        return change

    async def hand_back(self, principal: Principal, conversation_id: str) -> svc.Change:
        change = await self._run(
            lambda s, now: svc.hand_back(session=s, conversation_id=conversation_id, principal=principal, now=now)
        )
        log.info("chat handed back to the assistant", extra={"conversation_id": conversation_id, "by": principal.email})
        await self._assign_after_release(change)
        return change

    async def close(self, principal: Principal, conversation_id: str, resolution: Any) -> svc.Change:
        change = await self._run(
            lambda s, now: svc.close(
                session=s, conversation_id=conversation_id, principal=principal, resolution=resolution, now=now
            )
        )
        log.info("chat closed", extra={"conversation_id": conversation_id, "by": principal.email})
        await self._assign_after_release(change)
        return change

    async def rate(self, conversation_id: str, score: Any, comment: Any) -> svc.Change:
        change = await self._run(
            lambda s, now: svc.rate(session=s, conversation_id=conversation_id, score=score, comment=comment, now=now)
        )
        log.info("chat rated", extra={"conversation_id": conversation_id, "score": score})
        return change

    async def send_transcript(self, conversation_id: str, email: Any) -> TranscriptSent:
        """The customer asks for the ended chat by e-mail (queued in the outbox, kept in the ticket)."""
        async with transaction(self.sessions) as session:
            sent = await send_transcript(
                session=session, conversation_id=conversation_id, email=email, now=self.clock.now()
            )
        log.info("chat transcript queued", extra={"conversation_id": conversation_id, "ticket": sent.ticket})
        return sent

    async def note(self, principal: Principal, conversation_id: str, text: Any) -> dict[str, Any]:
        now = self.clock.now()
        async with transaction(self.sessions) as session:
            event = await svc.add_note(
                session=session, conversation_id=conversation_id, principal=principal, text=text, now=now
            )
            # The author is the caller: its name at once (the console shows names, never e-mails).
            data = {"conversation_id": conversation_id, **event.to_json(), "author_name": principal.name or None}
        await self.emitter.emit("note", data, room=agent_room_of(conversation_id), namespace=AGENT_NAMESPACE)
        return data

    async def agent_message(self, principal: Principal, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict) or not isinstance(data.get("conversation_id"), str):
            return {"error": "El mensaje no es válido."}
        conversation_id = data["conversation_id"]
        message, created = await self.replies.submit(
            principal=principal,
            conversation_id=conversation_id,
            text=data.get("text"),
            client_msg_id=data.get("client_msg_id"),
            max_chars=self.max_chars,
        )
        if created:
            await self.gateway.deliver(message)
        return {"seq": message.seq, "conversation_id": conversation_id}

    def shutdown(self) -> None:
        """Stop the reply writer's thread (server stop)."""
        self.replies.close()

    async def set_presence(self, principal: Principal, presence: Any) -> Agent:
        now = self.clock.now()
        async with transaction(self.sessions) as session:
            agent = await svc.set_presence(session=session, principal=principal, presence=presence, now=now)
            tiers = agent.tier_list
        log.info("agent presence", extra={"agent": principal.email, "presence": presence})
        for tier in tiers:
            await self.emitter.emit("agents", {"tier": tier}, room=tier_room(tier), namespace=AGENT_NAMESPACE)
        if presence == "online":
            for tier in tiers:
                await self.auto_assign(tier)
        return agent

    # --- queueing -------------------------------------------------------------------------

    async def after_queued(self, conversation_id: str) -> None:
        """A chat entered a tier's queue: tell the customer when nobody can take it now, alert
        the on-call L3 for a P1, assign automatically when so configured, refresh the queues."""
        now = self.clock.now()
        alert: tuple[str, str, list[str]] | None = None
        notice: Message | None = None
        offer: dict[str, Any] = {}
        async with transaction(self.sessions) as session:
            conversation = await session.get(Conversation, conversation_id)
            if conversation is None or conversation.mode != "queued" or conversation.tier is None:
                return
            tier = conversation.tier
            text = await svc.no_agents_notice(
                session=session,
                conversation=conversation,
                now=now,
                contact_email=conversation.contact.email if conversation.contact else None,
            )
            if text is not None:
                notice = (
                    await append_message(session=session, conversation_id=conversation.id, role="system", text=text)
                ).message
                alert = await self._p1_alert(session, conversation, now)
                offer = unavailable_offer(conversation, await svc.ticket_of(session, conversation))
        if notice is not None:
            log.info("no agents online for a queued chat", extra={"conversation_id": conversation_id, "tier": tier})
            await self.gateway.deliver(notice)
            await self.gateway.notify(conversation_id=conversation_id, event="no_agents", data=offer)
        if alert is not None:
            log.warning("P1 queued with nobody online: on-call alerted", extra={"ticket": alert[0], "to": alert[2]})
        await self.queue_changed(tier)
        await self.auto_assign(tier)

    async def _p1_alert(
        self, session: AsyncSession, conversation: Conversation, now: datetime
    ) -> tuple[str, str, list[str]] | None:
        ticket = await svc.ticket_of(session, conversation)
        if ticket is None or ticket.priority != 1:
            return None
        recipients = [a.email for a in await svc.on_call_recipients(session)]
        customer = conversation.customer.name if conversation.customer else "cliente sin identificar"
        queue = svc.tier_label(conversation.tier or "L3")
        subject = f"[{ticket.number}] P1 sin especialistas conectados: {ticket.title}"
        body = (
            f"Un incidente de prioridad P1 de {customer} espera en la cola de {queue} "
            f"y no hay especialistas conectados.\n\nTiquete: {ticket.number}\nTítulo: {ticket.title}\n"
            f"Conversación: {conversation.id}\n\nAtiéndalo desde la consola: /console"
        )
        for email in recipients:
            enqueue_email(session=session, to=email, subject=subject, body=body, now=now, ticket_id=ticket.id)
        return str(ticket.number), subject, recipients

    async def _assign_after_release(self, change: svc.Change) -> None:
        if self.assignment != "auto":
            return
        async with self.sessions() as session:
            agents = [await session.get(Agent, agent_id) for agent_id in change.agent_ids]
        for agent in agents:
            for tier in agent.tier_list if agent else []:
                await self.auto_assign(tier)

    async def auto_assign(self, tier: str) -> int:
        """`auto` mode: give queued chats of `tier`, first in line first, to the least busy
        online agents with a free seat. Returns how many were assigned."""
        if self.assignment != "auto":
            return 0
        assigned = 0
        while True:
            now = self.clock.now()
            async with transaction(self.sessions) as session:
                queues = await queued_chats(session=session, tiers=[tier], now=now)
                agent = await svc.least_busy_agent(session, tier)
                if not queues[tier] or agent is None:
                    return assigned
                conversation_id = queues[tier][0].conversation.id
                change = await svc.claim(
                    session=session,
                    conversation_id=conversation_id,
                    principal=_principal_of(agent),
                    now=now,
                    by_system=True,
                )
                agent_id = agent.id
            observe_wait(change)
            await self.announce(change)
            await self.emitter.emit(
                "assigned", {"conversation_id": conversation_id}, room=agent_room(agent_id), namespace=AGENT_NAMESPACE
            )
            log.info("chat assigned", extra={"conversation_id": conversation_id, "agent_id": agent_id})
            assigned += 1
