"""socket.io namespace `/agent`: the console's live chat (see docs/chat-protocol.md, «Agents»).

Staff authenticate with their login token (`auth.token`) or the console's session cookie.
Rooms: `agent:<id>` (own chats changed, automatic assignments), `tier:<T>` for every tier
the caller works (queue changes), and `aconv:<conversation_id>` for every conversation the
socket watches — an agent's own live chats are watched again automatically on reconnect.
"""

from __future__ import annotations

import asyncio
import logging
from http.cookies import SimpleCookie
from typing import Any

import socketio
from sqlalchemy import select

from promptlink.chat.gateway import AGENT_NAMESPACE, ChatGateway, agent_room_of, room_of
from promptlink.chat.live_chat import LiveChat, agent_room, conversation_summary, tier_room
from promptlink.infra.settings import Settings
from promptlink.models import Agent
from promptlink.models.agent import TIERS
from promptlink.services import agent_chat as svc
from promptlink.services.auth import Principal, resolve_principal
from promptlink.services.conversations import messages_after
from promptlink.services.errors import DomainError
from promptlink.services.text import bad_character
from promptlink.transports.http.common import SESSION_COOKIE
from promptlink.transports.socket.guards import EventLimiter
from promptlink.transports.socket.limits import TOO_FAST, RateLimiter

log = logging.getLogger(__name__)
NAMESPACE = AGENT_NAMESPACE
NOT_ACTIVE = "La sesión no está activa. Vuelva a iniciar sesión."


def _token(environ: dict[str, Any], auth: Any) -> str | None:
    if isinstance(auth, dict) and isinstance(auth.get("token"), str) and auth["token"]:
        return str(auth["token"])
    cookies = SimpleCookie()
    try:
        cookies.load(environ.get("HTTP_COOKIE", ""))
    except Exception:  # noqa: BLE001 - a malformed cookie header is just no cookie
        return None
    morsel = cookies.get(SESSION_COOKIE)
    return morsel.value if morsel is not None else None


def _last_seq(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def register_agent(sio: socketio.AsyncServer, app_ctx: Any, settings: Settings) -> None:
    """Attach the `/agent` handlers. `app_ctx` holds `sessions`, `gateway` and `live`."""
    limiter = RateLimiter(burst=settings.chat_rate_burst * 2, per_second=settings.chat_rate_per_second * 2)
    typing_limit = EventLimiter(settings.chat_typing_rate, redis_url=settings.redis_url, prefix="agent-typing")
    local_sockets: dict[int, set[str]] = {}
    offline_timers: dict[int, asyncio.Task[None]] = {}

    async def _session_principal(sid: str) -> Principal | None:
        data = await sio.get_session(sid, namespace=NAMESPACE)
        principal = data.get("principal")
        return principal if isinstance(principal, Principal) else None

    async def _principal(sid: str) -> Principal | None:
        """The socket's agent, while its login still stands: after a logout, a password reset or a
        deactivation (a new token version) the socket is closed at its next event."""
        principal = await _session_principal(sid)
        if principal is None:
            return None
        data = await sio.get_session(sid, namespace=NAMESPACE)
        async with app_ctx.sessions() as session:
            row = (
                await session.execute(select(Agent.token_version, Agent.active).where(Agent.id == principal.agent_id))
            ).first()
        if row is None or not row.active or row.token_version != data.get("ver"):
            log.info("agent socket closed: session ended", extra={"agent": principal.email})
            await sio.disconnect(sid, namespace=NAMESPACE)
            return None
        return principal

    async def end_sessions(agent_id: int) -> None:
        """Close this process's sockets of an agent whose login was revoked (logout)."""
        for sid in list(local_sockets.get(agent_id, ())):
            await sio.disconnect(sid, namespace=NAMESPACE)

    app_ctx.end_agent_sockets = end_sessions

    async def _hello(sid: str, principal: Principal) -> None:
        # The CONNECT packet goes out after the handler returns; emit only once it has.
        for _ in range(500):
            if sio.manager.is_connected(sid, NAMESPACE) and not sio.manager.is_pre_connected(sid, NAMESPACE):
                break
            await asyncio.sleep(0.01)
        else:
            return
        async with app_ctx.sessions() as session:
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
        await sio.emit("hello", payload, to=sid, namespace=NAMESPACE)

    @sio.on("connect", namespace=NAMESPACE)
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        try:
            async with app_ctx.sessions() as session:
                principal = await resolve_principal(
                    session=session,
                    token=_token(environ, auth),
                    on_behalf_of=None,
                    session_secret=settings.secret("session_secret"),
                    widget_secret=settings.secret("widget_secret"),
                    service_token=settings.secret("service_token"),
                )
                if not principal.is_staff or principal.agent_id is None:
                    raise socketio.exceptions.ConnectionRefusedError("No tiene permiso para esta acción.")
                chats = await svc.agent_chats(session, principal.agent_id)
                agent = await session.get(Agent, principal.agent_id)
                version = agent.token_version if agent else None
        except DomainError as exc:
            log.info("agent connection refused", extra={"reason": exc.detail})
            raise socketio.exceptions.ConnectionRefusedError(exc.public) from exc
        await sio.save_session(sid, {"principal": principal, "ver": version}, namespace=NAMESPACE)
        await sio.enter_room(sid, agent_room(principal.agent_id), namespace=NAMESPACE)
        for tier in TIERS:
            if principal.may_work_tier(tier):
                await sio.enter_room(sid, tier_room(tier), namespace=NAMESPACE)
        for conversation in chats:
            await sio.enter_room(sid, agent_room_of(conversation.id), namespace=NAMESPACE)
        local_sockets.setdefault(principal.agent_id, set()).add(sid)
        timer = offline_timers.pop(principal.agent_id, None)
        if timer is not None:
            timer.cancel()
        log.info("agent connected", extra={"agent": principal.email, "chats": len(chats)})
        task = asyncio.create_task(_hello(sid, principal))
        _keep(task)

    @sio.on("disconnect", namespace=NAMESPACE)
    async def disconnect(sid: str, *_: Any) -> None:
        limiter.forget(sid)
        principal = await _session_principal(sid)
        if principal is None or principal.agent_id is None:
            return
        mine = local_sockets.get(principal.agent_id, set())
        mine.discard(sid)
        if mine:
            return
        local_sockets.pop(principal.agent_id, None)

        async def _offline_later(agent_principal: Principal) -> None:
            await asyncio.sleep(settings.agent_offline_grace_seconds)
            if local_sockets.get(agent_principal.agent_id or 0):
                return
            try:
                await app_ctx.live.set_presence(agent_principal, "offline")
            except DomainError:
                pass
            log.info("agent set offline after disconnect", extra={"agent": agent_principal.email})

        agent_id = principal.agent_id
        timer = asyncio.create_task(_offline_later(principal))
        offline_timers[agent_id] = timer

        def _forget(done: asyncio.Task[None]) -> None:
            if offline_timers.get(agent_id) is done:
                del offline_timers[agent_id]

        timer.add_done_callback(_forget)

    @sio.on("presence", namespace=NAMESPACE)
    async def presence(sid: str, data: Any) -> dict[str, Any]:
        principal = await _principal(sid)
        if principal is None:
            return {"error": NOT_ACTIVE}
        live: LiveChat = app_ctx.live
        try:
            agent = await live.set_presence(principal, data.get("presence") if isinstance(data, dict) else None)
        except DomainError as exc:
            return {"error": exc.public}
        return {"presence": agent.presence}

    @sio.on("watch", namespace=NAMESPACE)
    async def watch(sid: str, data: Any) -> dict[str, Any]:
        """Follow a conversation: join its room, then replay what came after `last_seq`."""
        principal = await _principal(sid)
        if principal is None:
            return {"error": NOT_ACTIVE}
        if not isinstance(data, dict) or not _valid_id(data.get("conversation_id")):
            return {"error": "La conversación no existe."}
        conversation_id = data["conversation_id"]
        try:
            async with app_ctx.sessions() as session:
                conversation = await svc.visible_conversation(session, principal, conversation_id)
                summary = conversation_summary(conversation)
        except DomainError as exc:
            return {"error": exc.public}
        # Join before reading: a message stored in between arrives twice, never zero times (seq dedupes).
        try:
            await sio.enter_room(sid, agent_room_of(conversation_id), namespace=NAMESPACE)
        except ValueError:  # the socket closed meanwhile
            return {"error": NOT_ACTIVE}
        async with app_ctx.sessions() as session:
            missed = await messages_after(
                session=session, conversation_id=conversation_id, last_seq=_last_seq(data.get("last_seq"))
            )
            events = [m.to_event() for m in missed]
        for event in events:
            await sio.emit("message", event, to=sid, namespace=NAMESPACE)
        return {"replayed": len(events), "conversation": summary}

    @sio.on("unwatch", namespace=NAMESPACE)
    async def unwatch(sid: str, data: Any) -> dict[str, Any]:
        if isinstance(data, dict) and isinstance(data.get("conversation_id"), str):
            await sio.leave_room(sid, agent_room_of(data["conversation_id"]), namespace=NAMESPACE)
        return {"ok": True}

    @sio.on("message", namespace=NAMESPACE)
    async def message(sid: str, data: Any) -> dict[str, Any]:
        """An agent's reply {conversation_id, client_msg_id, text}: acked with {seq}."""
        principal = await _principal(sid)
        if principal is None:
            return {"error": NOT_ACTIVE}
        if not limiter.allow(sid):
            return {"error": TOO_FAST, "retry": True}
        live: LiveChat = app_ctx.live
        try:
            return await live.agent_message(principal, data)
        except DomainError as exc:
            log.info("agent message rejected", extra={"reason": exc.detail, "agent": principal.email})
            return {"error": exc.public}

    @sio.on("typing", namespace=NAMESPACE)
    async def typing(sid: str, data: Any) -> None:
        principal = await _principal(sid)
        if principal is None or not isinstance(data, dict) or not isinstance(data.get("conversation_id"), str):
            return
        conversation_id = data["conversation_id"]
        if not _valid_id(conversation_id):
            return
        if not await typing_limit.allow(sid):
            return  # relayed a few times a second at most, like the customer's
        try:
            async with app_ctx.sessions() as session:
                conversation = await svc.visible_conversation(session, principal, conversation_id)
                handling = conversation.mode == "human" and conversation.agent_id == principal.agent_id
        except DomainError:
            return
        if handling:
            gateway: ChatGateway = app_ctx.gateway
            await gateway.emitter.emit(
                "typing",
                {"role": "agent", "on": data.get("on") is True, "name": principal.name},
                room=room_of(conversation_id),
                namespace=gateway.namespace,
            )


def _valid_id(value: Any) -> bool:
    """A conversation id as a client may send it: short text without invalid characters."""
    return isinstance(value, str) and 0 < len(value) <= 64 and bad_character(value) is None


_tasks: set[asyncio.Task[None]] = set()


def _keep(task: asyncio.Task[None]) -> None:
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
