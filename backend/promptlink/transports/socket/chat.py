"""socket.io namespace `/chat`: the customer widget's protocol (see docs/chat-protocol.md)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import timedelta
from typing import Any

import socketio

from promptlink.chat.gateway import ChatGateway, ChatSession, room_of
from promptlink.infra.settings import Settings
from promptlink.models import Conversation
from promptlink.services.auth import Principal
from promptlink.services.errors import DomainError, InvalidInput
from promptlink.services.identity import (
    WidgetIdentity,
    issue_resume_token,
    resume_token_conversation,
    verify_widget_token,
)
from promptlink.services.text import check_strings
from promptlink.transports.socket.guards import TOO_MANY_CONNECTIONS, ConnectionGate, EventLimiter, client_address
from promptlink.transports.socket.limits import TOO_FAST, RateLimiter

log = logging.getLogger(__name__)
NAMESPACE = "/chat"
INACTIVE = "La sesión no está activa. Recargue la página."
NOT_STARTED = "La conversación aún no ha comenzado: escriba un mensaje primero."
_pending: set[asyncio.Task[None]] = set()


def _invalid(data: Any, sid: str) -> str | None:
    """The Spanish error when an event's payload holds text that cannot be accepted (logged), else None."""
    try:
        check_strings(data, field="event")
    except InvalidInput as exc:
        log.info("chat event refused", extra={"reason": exc.detail, "sid": sid})
        return exc.public
    return None


# Sequence numbers are 64-bit in the database: a larger one from a client is no position at all.
MAX_SEQ = 2**63 - 1


def _int(value: Any, default: int = 0) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_SEQ
    return value if ok else default


def _str(value: Any, limit: int) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


def register_chat(sio: socketio.AsyncServer, gateway_of: Any, settings: Settings, live_of: Any = None) -> None:
    """Attach the `/chat` handlers. `gateway_of()` returns the running ChatGateway, `live_of()` the LiveChat."""
    session_secret = settings.secret("session_secret")
    widget_secret = settings.secret("widget_secret")
    widget_max_lifetime = timedelta(hours=settings.widget_token_max_hours)
    limiter = RateLimiter(burst=settings.chat_rate_burst, per_second=settings.chat_rate_per_second)
    gate = ConnectionGate(settings.chat_connections_per_ip)
    typing_limit = EventLimiter(settings.chat_typing_rate, redis_url=settings.redis_url, prefix="chat-typing")

    async def _chat(sid: str) -> ChatSession | None:
        data = await sio.get_session(sid, namespace=NAMESPACE)
        chat = data.get("chat")
        return chat if isinstance(chat, ChatSession) else None

    async def _after_connect(sid: str, payload: dict[str, Any], last_seq: int) -> None:
        # The CONNECT packet goes out after the handler returns; emit only once it has.
        for _ in range(500):
            if sio.manager.is_connected(sid, NAMESPACE) and not sio.manager.is_pre_connected(sid, NAMESPACE):
                break
            await asyncio.sleep(0.01)
        else:
            return
        gateway: ChatGateway = gateway_of()
        await sio.emit("session", payload, to=sid, namespace=NAMESPACE)
        if last_seq < 0:
            return  # an unsaved conversation: nothing to replay
        for event in await gateway.replay(conversation_id=payload["conversation_id"], last_seq=last_seq):
            await sio.emit("message", event, to=sid, namespace=NAMESPACE)
        if payload["mode"] == "queued" and payload["tier"] and live_of is not None:
            await live_of().tell_place(payload["conversation_id"], payload["tier"])  # a new tab or a reconnect

    @sio.on("connect", namespace=NAMESPACE)
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        address = client_address(environ)
        if not gate.admit(sid, address):
            log.warning("chat connection refused: too many sockets", extra={"address": address, "limit": gate.per_ip})
            raise socketio.exceptions.ConnectionRefusedError(TOO_MANY_CONNECTIONS)
        try:
            await _connect(sid, auth)
        except BaseException:
            gate.release(sid)  # refused or failed: `disconnect` will not run
            raise

    async def _connect(sid: str, auth: Any) -> None:
        auth = auth if isinstance(auth, dict) else {}
        refused = _invalid(auth, sid)
        if refused is not None:
            raise socketio.exceptions.ConnectionRefusedError(refused)
        gateway: ChatGateway = gateway_of()
        identity = None
        token = auth.get("identity")
        if token:
            try:
                async with gateway.sessions() as session:
                    identity = await verify_widget_token(
                        session=session, secret=widget_secret, token=token, max_lifetime=widget_max_lifetime
                    )
            except DomainError as exc:
                log.info("chat connection refused", extra={"reason": exc.detail})
                raise socketio.exceptions.ConnectionRefusedError(exc.public) from exc
        asked = _str(auth.get("conversation_id"), 64)
        grant = (
            resume_token_conversation(secret=session_secret, token=auth["resume_token"])
            if auth.get("resume_token")
            else None
        )
        # An anonymous visitor's new conversation has no row until its first message (issue #13 F7).
        conversation, stored = await gateway.join(identity=identity, conversation_id=asked, resume_grant=grant)
        last_seq = (_int(auth.get("last_seq")) if conversation.id == asked else 0) if stored else -1
        chat = ChatSession(conversation.id, identity, stored=stored)
        await sio.save_session(sid, {"chat": chat}, namespace=NAMESPACE)
        await sio.enter_room(sid, room_of(conversation.id), namespace=NAMESPACE)
        payload = session_payload(conversation, identity, session_secret)
        log.info(
            "chat connected",
            extra={
                "conversation_id": conversation.id,
                "resumed": conversation.id == asked,
                "stored": stored,
                "customer": identity.customer_code if identity else None,
            },
        )
        task = asyncio.create_task(_after_connect(sid, payload, last_seq))
        _pending.add(task)
        task.add_done_callback(_pending.discard)

    @sio.on("disconnect", namespace=NAMESPACE)
    async def disconnect(sid: str, *_: Any) -> None:
        limiter.forget(sid)
        gate.release(sid)

    @sio.on("message", namespace=NAMESPACE)
    async def message(sid: str, data: Any) -> dict[str, Any]:
        chat = await _chat(sid)
        if chat is None:
            return {"error": INACTIVE}
        if not limiter.allow(sid):
            log.info("customer message rate-limited", extra={"conversation_id": chat.conversation_id})
            return {"error": TOO_FAST, "retry": True}
        refused = _invalid(data, sid)
        if refused is not None:
            return {"error": refused}
        try:
            gateway: ChatGateway = gateway_of()
            ack = await gateway.customer_message(chat=chat, sid=sid, data=data)
        except DomainError as exc:
            log.info("customer message rejected", extra={"reason": exc.detail, "conversation_id": chat.conversation_id})
            return {"error": exc.public}
        if not chat.stored and "seq" in ack:
            # The first message wrote the conversation's row: later ones need not.
            await sio.save_session(sid, {"chat": dataclasses.replace(chat, stored=True)}, namespace=NAMESPACE)
        return ack

    @sio.on("resume", namespace=NAMESPACE)
    async def resume(sid: str, data: Any) -> dict[str, Any]:
        chat = await _chat(sid)
        if chat is None or not isinstance(data, dict):
            return {"error": INACTIVE}
        if not chat.stored:
            return {"replayed": 0}
        events = await gateway_of().replay(conversation_id=chat.conversation_id, last_seq=_int(data.get("last_seq")))
        for event in events:
            await sio.emit("message", event, to=sid, namespace=NAMESPACE)
        return {"replayed": len(events)}

    @sio.on("typing", namespace=NAMESPACE)
    async def typing(sid: str, data: Any) -> None:
        chat = await _chat(sid)
        # Nobody watches a conversation without messages; beyond the rate, events are dropped silently.
        if chat is None or not chat.stored or not isinstance(data, dict):
            return
        if not await typing_limit.allow(sid):
            log.debug("typing dropped", extra={"conversation_id": chat.conversation_id})
            return
        await gateway_of().customer_typing(chat=chat, on=data.get("on") is True)

    @sio.on("end", namespace=NAMESPACE)
    async def end(sid: str, data: Any = None) -> dict[str, Any]:
        """The customer ends the conversation; they are then asked for a rating."""
        chat = await _chat(sid)
        if chat is None or live_of is None:
            return {"error": INACTIVE}
        if not chat.stored:
            return {"error": NOT_STARTED}
        refused = _invalid(data, sid)
        if refused is not None:
            return {"error": refused}
        comment = data.get("comment") if isinstance(data, dict) else None
        # The socket proved its conversation: the ownership check (services.access) lets it close that one.
        customer = Principal(role="customer", email="", name="", conversation_id=chat.conversation_id)
        try:
            change = await live_of().close(customer, chat.conversation_id, comment)
        except DomainError as exc:
            return {"error": exc.public}
        return {"mode": change.conversation.mode}

    @sio.on("rate", namespace=NAMESPACE)
    async def rate(sid: str, data: Any) -> dict[str, Any]:
        """The satisfaction answer: {score: 1..5, comment?}."""
        chat = await _chat(sid)
        if chat is None or live_of is None:
            return {"error": INACTIVE}
        if not isinstance(data, dict):
            return {"error": "Elija una calificación de 1 a 5."}
        if not chat.stored:
            return {"error": NOT_STARTED}
        if not limiter.allow(sid):
            return {"error": TOO_FAST, "retry": True}
        refused = _invalid(data, sid)
        if refused is not None:
            return {"error": refused}
        try:
            await live_of().rate(chat.conversation_id, data.get("score"), data.get("comment"))
        except DomainError as exc:
            return {"error": exc.public}
        return {"rated": True}


def session_payload(conversation: Conversation, identity: WidgetIdentity | None, secret: str) -> dict[str, Any]:
    """The `session` event: the conversation's state and who the customer is (also after a verification)."""
    contact = conversation.contact
    payload: dict[str, Any] = {
        "conversation_id": conversation.id,
        "mode": conversation.mode,
        "resume_token": issue_resume_token(secret=secret, conversation_id=conversation.id),
        "customer": conversation.customer.name
        if conversation.customer
        else (identity.customer_name if identity else None),
        "name": contact.name if contact else (identity.name if identity else None),
        "tier": conversation.tier if conversation.mode in ("queued", "human") else None,
        "agent": None,
        "rating_requested": conversation.mode == "closed" and conversation.rated_at is None,
    }
    if conversation.mode == "human" and conversation.agent is not None:
        payload["agent"] = {"name": conversation.agent.name, "tier": conversation.tier}
    return payload
