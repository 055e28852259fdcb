"""socket.io namespace `/agent`: the console's live chat (see docs/chat-protocol.md, «Agents»).

Staff authenticate with their login token (`auth.token`) or the console's session cookie.
Rooms: `agent:<id>` (own chats changed, automatic assignments), `tier:<T>` for every tier
the caller works (queue changes), and `aconv:<conversation_id>` for every conversation the
socket watches — an agent's own live chats are watched again automatically on reconnect.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import socketio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from promptlink.chat.gateway import AGENT_NAMESPACE, ChatGateway, agent_room_of
from promptlink.chat.live_chat import LiveChat, agent_room, tier_room
from promptlink.chat.views import conversation_summary
from promptlink.infra.settings import Settings
from promptlink.models import Agent, Conversation
from promptlink.services import agent_chat as svc
from promptlink.services.auth import Principal, resolve_principal
from promptlink.services.errors import DomainError
from promptlink.transports.socket.common import SocketNamespace, login_token, seq, valid_id
from promptlink.transports.socket.guards import EventLimiter
from promptlink.transports.socket.limits import TOO_FAST, RateLimiter
from promptlink.vocabulary import TIERS

log = logging.getLogger(__name__)
NAMESPACE = AGENT_NAMESPACE
NOT_ACTIVE = "La sesión no está activa. Vuelva a iniciar sesión."
NOT_ALLOWED = "No tiene permiso para esta acción."
NO_CONVERSATION = "La conversación no existe."


class AgentNamespace(SocketNamespace):
    """The `/agent` events. Sessions, gateway and live chat are bound at server start (`bind`)."""

    sessions: async_sessionmaker[AsyncSession]
    gateway: ChatGateway
    live: LiveChat

    def __init__(self, settings: Settings) -> None:
        super().__init__(NAMESPACE)
        self.settings = settings
        self.limiter = RateLimiter(burst=settings.chat_rate_burst * 2, per_second=settings.chat_rate_per_second * 2)
        self.typing_limit = EventLimiter(settings.chat_typing_rate, redis_url=settings.redis_url, prefix="agent-typing")
        self._local_sockets: dict[int, set[str]] = {}  # agent id -> this process's sockets
        self._offline_timers: dict[int, asyncio.Task[None]] = {}

    def bind(self, *, sessions: async_sessionmaker[AsyncSession], gateway: ChatGateway, live: LiveChat) -> None:
        self.sessions = sessions
        self.gateway = gateway
        self.live = live

    async def end_sessions(self, agent_id: int) -> None:
        """Close this process's sockets of an agent whose login was revoked (logout)."""
        for sid in list(self._local_sockets.get(agent_id, ())):
            await self.disconnect(sid)

    async def _session_principal(self, sid: str) -> Principal | None:
        principal = (await self.get_session(sid)).get("principal")
        return principal if isinstance(principal, Principal) else None

    async def _principal(self, sid: str) -> Principal | None:
        """The socket's agent, while its login still stands: after a logout, a password reset or a
        deactivation (a new token version) the socket is closed at its next event."""
        principal = await self._session_principal(sid)
        if principal is None:
            return None
        data = await self.get_session(sid)
        async with self.sessions() as session:
            row = (
                await session.execute(select(Agent.token_version, Agent.active).where(Agent.id == principal.agent_id))
            ).first()
        if row is None or not row.active or row.token_version != data.get("ver"):
            log.info("agent socket closed: session ended", extra={"agent": principal.email})
            await self.disconnect(sid)
            return None
        return principal

    # --- connecting ---------------------------------------------------------------------------

    async def _authenticate(
        self, environ: dict[str, Any], auth: Any
    ) -> tuple[Principal, Sequence[Conversation], int | None]:
        """The staff member, their live chats and their token version; else the connection is refused."""
        settings = self.settings
        try:
            async with self.sessions() as session:
                principal = await resolve_principal(
                    session=session,
                    token=login_token(environ, auth),
                    on_behalf_of=None,
                    session_secret=settings.secret("session_secret"),
                    widget_secret=settings.secret("widget_secret"),
                    service_token=settings.secret("service_token"),
                )
                if not principal.is_staff or principal.agent_id is None:
                    raise socketio.exceptions.ConnectionRefusedError(NOT_ALLOWED)
                chats = await svc.agent_chats(session, principal.agent_id)
                agent = await session.get(Agent, principal.agent_id)
                return principal, chats, agent.token_version if agent else None
        except DomainError as exc:
            log.info("agent connection refused", extra={"reason": exc.detail})
            raise socketio.exceptions.ConnectionRefusedError(exc.public) from exc

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        principal, chats, version = await self._authenticate(environ, auth)
        agent_id = principal.agent_id or 0
        await self.save_session(sid, {"principal": principal, "ver": version})
        await self.enter_room(sid, agent_room(agent_id))
        for tier in TIERS:
            if principal.may_work_tier(tier):
                await self.enter_room(sid, tier_room(tier))
        for conversation in chats:
            await self.enter_room(sid, agent_room_of(conversation.id))
        self._local_sockets.setdefault(agent_id, set()).add(sid)
        timer = self._offline_timers.pop(agent_id, None)
        if timer is not None:
            timer.cancel()
        log.info("agent connected", extra={"agent": principal.email, "chats": len(chats)})
        self.spawn(self._hello(sid, principal))

    async def _hello(self, sid: str, principal: Principal) -> None:
        if not await self.connected(sid):
            return
        async with self.sessions() as session:
            agent = await session.get(Agent, principal.agent_id)
            chats = await svc.agent_chats(session, principal.agent_id or 0)
            payload = {
                "agent": {
                    "id": principal.agent_id,
                    "name": principal.name,
                    "email": principal.email,
                    "role": principal.role,
                    "tiers": [t for t in TIERS if principal.may_work_tier(t)],
                    "presence": agent.presence if agent else "offline",
                    "capacity": agent.capacity if agent else 0,
                },
                "chats": [conversation_summary(c) for c in chats],
            }
        await self.emit("hello", payload, to=sid)

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        self.limiter.forget(sid)
        principal = await self._session_principal(sid)
        if principal is None or principal.agent_id is None:
            return
        mine = self._local_sockets.get(principal.agent_id, set())
        mine.discard(sid)
        if mine:
            return
        self._local_sockets.pop(principal.agent_id, None)
        # Their last socket here closed: offline after a grace period, unless one comes back.
        agent_id = principal.agent_id
        timer = asyncio.create_task(self._offline_later(principal))
        self._offline_timers[agent_id] = timer

        def _forget(done: asyncio.Task[None]) -> None:
            if self._offline_timers.get(agent_id) is done:
                del self._offline_timers[agent_id]

        timer.add_done_callback(_forget)

    async def _offline_later(self, principal: Principal) -> None:
        await asyncio.sleep(self.settings.agent_offline_grace_seconds)
        if self._local_sockets.get(principal.agent_id or 0):
            return
        try:
            await self.live.set_presence(principal, "offline")
        except DomainError:
            pass
        log.info("agent set offline after disconnect", extra={"agent": principal.email})

    # --- events -------------------------------------------------------------------------------

    async def on_presence(self, sid: str, data: Any) -> dict[str, Any]:
        principal = await self._principal(sid)
        if principal is None:
            return {"error": NOT_ACTIVE}
        try:
            agent = await self.live.set_presence(principal, data.get("presence") if isinstance(data, dict) else None)
        except DomainError as exc:
            return {"error": exc.public}
        return {"presence": agent.presence}

    async def on_watch(self, sid: str, data: Any) -> dict[str, Any]:
        """Follow a conversation: join its room, then replay what came after `last_seq`."""
        principal = await self._principal(sid)
        if principal is None:
            return {"error": NOT_ACTIVE}
        if not isinstance(data, dict) or not valid_id(data.get("conversation_id")):
            return {"error": NO_CONVERSATION}
        conversation_id = data["conversation_id"]
        try:
            async with self.sessions() as session:
                summary = conversation_summary(await svc.visible_conversation(session, principal, conversation_id))
        except DomainError as exc:
            return {"error": exc.public}
        # Join before reading: a message stored in between arrives twice, never zero times (seq dedupes).
        try:
            await self.enter_room(sid, agent_room_of(conversation_id))
        except ValueError:  # the socket closed meanwhile
            return {"error": NOT_ACTIVE}
        events = await self.gateway.replay(conversation_id=conversation_id, last_seq=seq(data.get("last_seq")))
        await self.send_messages(sid, events)
        return {"replayed": len(events), "conversation": summary}

    async def on_unwatch(self, sid: str, data: Any) -> dict[str, Any]:
        if isinstance(data, dict) and isinstance(data.get("conversation_id"), str):
            await self.leave_room(sid, agent_room_of(data["conversation_id"]))
        return {"ok": True}

    async def on_message(self, sid: str, data: Any) -> dict[str, Any]:
        """An agent's reply {conversation_id, client_msg_id, text}: acked with {seq}."""
        principal = await self._principal(sid)
        if principal is None:
            return {"error": NOT_ACTIVE}
        if not self.limiter.allow(sid):
            return {"error": TOO_FAST, "retry": True}
        try:
            return await self.live.agent_message(principal, data)
        except DomainError as exc:
            log.info("agent message rejected", extra={"reason": exc.detail, "agent": principal.email})
            return {"error": exc.public}

    async def on_typing(self, sid: str, data: Any) -> None:
        principal = await self._principal(sid)
        if principal is None or not isinstance(data, dict) or not valid_id(data.get("conversation_id")):
            return
        conversation_id = data["conversation_id"]
        if not await self.typing_limit.allow(sid):
            return  # relayed a few times a second at most, like the customer's
        try:
            async with self.sessions() as session:
                conversation = await svc.visible_conversation(session, principal, conversation_id)
                handling = conversation.mode == "human" and conversation.agent_id == principal.agent_id
        except DomainError:
            return
        if handling:
            on = data.get("on") is True
            await self.gateway.agent_typing(conversation_id=conversation_id, name=principal.name, on=on)
