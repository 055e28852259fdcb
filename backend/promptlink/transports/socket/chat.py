"""socket.io namespace `/chat`: the customer widget's protocol (see docs/chat-protocol.md)."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta
from typing import Any

import socketio

from promptlink.chat.gateway import ChatGateway, ChatSession, room_of
from promptlink.chat.live_chat import LiveChat
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
from promptlink.transports.socket.common import SocketNamespace, seq, valid_id
from promptlink.transports.socket.guards import TOO_MANY_CONNECTIONS, ConnectionGate, EventLimiter, client_address
from promptlink.transports.socket.limits import TOO_FAST, RateLimiter

log = logging.getLogger(__name__)
NAMESPACE = "/chat"
INACTIVE = "La sesión no está activa. Recargue la página."
NOT_STARTED = "La conversación aún no ha comenzado: escriba un mensaje primero."
BAD_SCORE = "Elija una calificación de 1 a 5."


def _invalid(data: Any, sid: str) -> str | None:
    """The Spanish error when an event's payload holds text that cannot be accepted (logged), else None."""
    try:
        check_strings(data, field="event")
    except InvalidInput as exc:
        log.info("chat event refused", extra={"reason": exc.detail, "sid": sid})
        return exc.public
    return None


class ChatNamespace(SocketNamespace):
    """The `/chat` events. The gateway and the live chat are bound at server start (`bind`)."""

    gateway: ChatGateway
    live: LiveChat

    def __init__(self, settings: Settings) -> None:
        super().__init__(NAMESPACE)
        self.session_secret = settings.secret("session_secret")
        self.widget_secret = settings.secret("widget_secret")
        self.widget_max_lifetime = timedelta(hours=settings.widget_token_max_hours)
        self.limiter = RateLimiter(burst=settings.chat_rate_burst, per_second=settings.chat_rate_per_second)
        self.gate = ConnectionGate(settings.chat_connections_per_ip)
        self.typing_limit = EventLimiter(settings.chat_typing_rate, redis_url=settings.redis_url, prefix="chat-typing")

    def bind(self, *, gateway: ChatGateway, live: LiveChat) -> None:
        self.gateway = gateway
        self.live = live

    async def _chat(self, sid: str) -> ChatSession | None:
        data = await self.get_session(sid)
        chat = data.get("chat")
        return chat if isinstance(chat, ChatSession) else None

    # --- connecting ---------------------------------------------------------------------------

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        address = client_address(environ)
        if not self.gate.admit(sid, address):
            log.warning(
                "chat connection refused: too many sockets", extra={"address": address, "limit": self.gate.per_ip}
            )
            raise socketio.exceptions.ConnectionRefusedError(TOO_MANY_CONNECTIONS)
        try:
            await self._open(sid, auth)
        except BaseException:
            self.gate.release(sid)  # refused or failed: `disconnect` will not run
            raise

    async def _identity(self, token: Any) -> WidgetIdentity | None:
        """The verified widget identity of `auth.identity`; the connection is refused when it is not valid."""
        if not token:
            return None
        try:
            async with self.gateway.sessions() as session:
                return await verify_widget_token(
                    session=session, secret=self.widget_secret, token=token, max_lifetime=self.widget_max_lifetime
                )
        except DomainError as exc:
            log.info("chat connection refused", extra={"reason": exc.detail})
            raise socketio.exceptions.ConnectionRefusedError(exc.public) from exc

    async def _open(self, sid: str, auth: Any) -> None:
        auth = auth if isinstance(auth, dict) else {}
        refused = _invalid(auth, sid)
        if refused is not None:
            raise socketio.exceptions.ConnectionRefusedError(refused)
        identity = await self._identity(auth.get("identity"))
        asked = auth["conversation_id"] if valid_id(auth.get("conversation_id")) else None
        token = auth.get("resume_token")
        grant = resume_token_conversation(secret=self.session_secret, token=token) if token else None
        # An anonymous visitor's new conversation has no row until its first message (issue #13 F7).
        conversation, stored = await self.gateway.join(identity=identity, conversation_id=asked, resume_grant=grant)
        last_seq = (seq(auth.get("last_seq")) if conversation.id == asked else 0) if stored else -1
        await self.save_session(sid, {"chat": ChatSession(conversation.id, identity, stored=stored)})
        await self.enter_room(sid, room_of(conversation.id))
        log.info(
            "chat connected",
            extra={
                "conversation_id": conversation.id,
                "resumed": conversation.id == asked,
                "stored": stored,
                "customer": identity.customer_code if identity else None,
            },
        )
        self.spawn(self._after_connect(sid, session_payload(conversation, identity, self.session_secret), last_seq))

    async def _after_connect(self, sid: str, payload: dict[str, Any], last_seq: int) -> None:
        if not await self.connected(sid):
            return
        await self.emit("session", payload, to=sid)
        if last_seq < 0:
            return  # an unsaved conversation: nothing to replay
        await self.send_messages(
            sid, await self.gateway.replay(conversation_id=payload["conversation_id"], last_seq=last_seq)
        )
        if payload["mode"] == "queued" and payload["tier"]:
            await self.live.tell_place(payload["conversation_id"], payload["tier"])  # a new tab or a reconnect

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        self.limiter.forget(sid)
        self.gate.release(sid)

    # --- events -------------------------------------------------------------------------------

    async def on_message(self, sid: str, data: Any) -> dict[str, Any]:
        chat = await self._chat(sid)
        if chat is None:
            return {"error": INACTIVE}
        if not self.limiter.allow(sid):
            log.info("customer message rate-limited", extra={"conversation_id": chat.conversation_id})
            return {"error": TOO_FAST, "retry": True}
        refused = _invalid(data, sid)
        if refused is not None:
            return {"error": refused}
        try:
            ack = await self.gateway.customer_message(chat=chat, sid=sid, data=data)
        except DomainError as exc:
            log.info("customer message rejected", extra={"reason": exc.detail, "conversation_id": chat.conversation_id})
            return {"error": exc.public}
        if not chat.stored and "seq" in ack:
            # The first message wrote the conversation's row: later ones need not.
            await self.save_session(sid, {"chat": dataclasses.replace(chat, stored=True)})
        return ack

    async def on_resume(self, sid: str, data: Any) -> dict[str, Any]:
        chat = await self._chat(sid)
        if chat is None or not isinstance(data, dict):
            return {"error": INACTIVE}
        if not chat.stored:
            return {"replayed": 0}
        events = await self.gateway.replay(conversation_id=chat.conversation_id, last_seq=seq(data.get("last_seq")))
        await self.send_messages(sid, events)
        return {"replayed": len(events)}

    async def on_typing(self, sid: str, data: Any) -> None:
        chat = await self._chat(sid)
        # Nobody watches a conversation without messages; beyond the rate, events are dropped silently.
        if chat is None or not chat.stored or not isinstance(data, dict):
            return
        if not await self.typing_limit.allow(sid):
            log.debug("typing dropped", extra={"conversation_id": chat.conversation_id})
            return
        await self.gateway.customer_typing(chat=chat, on=data.get("on") is True)

    async def _started_chat(self, sid: str, data: Any) -> tuple[ChatSession | None, dict[str, Any]]:
        """The socket's stored conversation, or None and the Spanish error to answer (inactive, not
        started, invalid text in `data`)."""
        chat = await self._chat(sid)
        if chat is None:
            return None, {"error": INACTIVE}
        if not chat.stored:
            return None, {"error": NOT_STARTED}
        refused = _invalid(data, sid)
        if refused is not None:
            return None, {"error": refused}
        return chat, {}

    async def on_end(self, sid: str, data: Any = None) -> dict[str, Any]:
        """The customer ends the conversation; they are then asked for a rating."""
        chat, error = await self._started_chat(sid, data)
        if chat is None:
            return error
        comment = data.get("comment") if isinstance(data, dict) else None
        # The socket proved its conversation: the ownership check (services.access) lets it close that one.
        customer = Principal(role="customer", email="", name="", conversation_id=chat.conversation_id)
        try:
            change = await self.live.close(customer, chat.conversation_id, comment)
        except DomainError as exc:
            return {"error": exc.public}
        return {"mode": change.conversation.mode}

    async def on_rate(self, sid: str, data: Any) -> dict[str, Any]:
        """The satisfaction answer: {score: 1..5, comment?}."""
        chat = await self._chat(sid)
        if chat is None:
            return {"error": INACTIVE}
        if not isinstance(data, dict):
            return {"error": BAD_SCORE}
        if not chat.stored:
            return {"error": NOT_STARTED}
        if not self.limiter.allow(sid):
            return {"error": TOO_FAST, "retry": True}
        refused = _invalid(data, sid)
        if refused is not None:
            return {"error": refused}
        try:
            await self.live.rate(chat.conversation_id, data.get("score"), data.get("comment"))
        except DomainError as exc:
            return {"error": exc.public}
        return {"rated": True}

    async def on_transcript(self, sid: str, data: Any = None) -> dict[str, Any]:
        """The ended chat by e-mail: {email?} (only for a visitor without a known contact)."""
        chat, error = await self._started_chat(sid, data)
        if chat is None:
            return error
        email = data.get("email") if isinstance(data, dict) else None
        try:
            sent = await self.live.send_transcript(chat.conversation_id, email)
        except DomainError as exc:
            return {"error": exc.public, **exc.fields()}
        return {"sent": True, "to": sent.to}


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
