"""The customer chat path: store every message, forward to the assistant, emit replies.

Transports (the socket.io handlers) only translate; ordering, storage and the Spanish
notices when the assistant is down live here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from promptlink.assistant.client import AssistantUnavailable, RasaClient
from promptlink.chat.handoff import Handoff
from promptlink.chat.reply_writer import ReplyWriter
from promptlink.infra import metrics
from promptlink.infra.db import transaction
from promptlink.models import Conversation, Message
from promptlink.models.base import utcnow
from promptlink.services import attachments
from promptlink.services import conversations as conv_service
from promptlink.services.agent_chat import reopen_for_assistant
from promptlink.services.errors import NotFound
from promptlink.services.identity import WidgetIdentity

log = logging.getLogger(__name__)

NOTICES = {
    "rasa": (
        "En este momento el asistente automático no está disponible. Su mensaje quedó "
        "guardado; por favor, inténtelo de nuevo en unos minutos."
    ),
    "actions": (
        "El asistente no pudo completar esa acción en este momento. Su mensaje quedó "
        "guardado; por favor, inténtelo de nuevo en unos minutos."
    ),
}
# When the assistant cannot answer, the customer may ask for a person without it.
HUMAN_PAYLOAD = "/request_human"
HUMAN_BUTTON = {"title": "Hablar con una persona", "payload": HUMAN_PAYLOAD}


class Emitter(Protocol):
    async def emit(
        self,
        event: str,
        data: Any = None,
        *,
        to: str | None = None,
        room: str | None = None,
        skip_sid: str | None = None,
        namespace: str | None = None,
    ) -> None: ...


AGENT_NAMESPACE = "/agent"


def room_of(conversation_id: str) -> str:
    """The customer's sockets of a conversation (namespace `/chat`)."""
    return f"conv:{conversation_id}"


def agent_room_of(conversation_id: str) -> str:
    """The staff sockets watching a conversation (namespace `/agent`)."""
    return f"aconv:{conversation_id}"


class _TurnLocks:
    """One lock per conversation, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


@dataclass(frozen=True)
class ChatSession:
    """What the gateway keeps per connected customer socket."""

    conversation_id: str
    identity: WidgetIdentity | None
    # False while an anonymous visitor's conversation has no row: it is written with the first message.
    stored: bool = True


class ChatGateway:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        assistant: RasaClient,
        emitter: Emitter,
        namespace: str = "/chat",
        max_chars: int = 2000,
        handoff: Handoff | None = None,
        orphan_grace_seconds: float = 60.0,
    ) -> None:
        self.sessions = sessions
        self.assistant = assistant
        self.emitter = emitter
        self.namespace = namespace
        self.max_chars = max_chars
        self._locks = _TurnLocks()
        self._tasks: set[asyncio.Task[None]] = set()
        self._orphans_tried: set[tuple[str, int]] = set()  # answer_orphans: each lost turn tried once here
        # Agents' replies and assistant turns are stored in batches (chat/reply_writer.py).
        self.writer = ReplyWriter(sessions)
        self.handoff = handoff
        # How long a resent message's first turn may still be running elsewhere (twice Rasa's default timeout).
        self.orphan_grace_seconds = orphan_grace_seconds
        self._rooms = _local_rooms(emitter)

    def use_handoff(self, handoff: Handoff) -> None:
        """The handoff orchestrator (chat/handoff.py), built after the gateway: it announces through it."""
        self.handoff = handoff

    async def open(
        self, *, identity: WidgetIdentity | None, conversation_id: str | None, resume_grant: str | None
    ) -> Conversation:
        async with self.sessions() as session:
            found = await conv_service.find_resumable(
                session=session, identity=identity, conversation_id=conversation_id, resume_grant=resume_grant
            )
            if found is not None:
                return found  # a reconnect: read only (contact, customer and agent are joined loads)
        async with transaction(self.sessions) as session:
            conversation = await conv_service.open_conversation(
                session=session, identity=identity, conversation_id=conversation_id, resume_grant=resume_grant
            )
            # Loaded now: the `session` event names the contact and the agent after the transaction.
            await session.refresh(conversation, ["contact", "customer", "agent"])
            return conversation

    async def join(
        self, *, identity: WidgetIdentity | None, conversation_id: str | None, resume_grant: str | None
    ) -> tuple[Conversation, bool]:
        """The conversation a connecting socket joins, and whether it has a row.

        An existing one the caller owns. An identified contact with none gets its empty
        conversation, else a new one (proactive notices go to it). An anonymous visitor with
        nothing to resume gets an unsaved conversation (not added to any session): its row is
        written with its first message, so sockets that never write leave nothing behind
        (issue #13 F7).
        """
        async with self.sessions() as session:
            found = await conv_service.find_resumable(
                session=session, identity=identity, conversation_id=conversation_id, resume_grant=resume_grant
            )
            if found is None and identity is not None:
                found = await conv_service.empty_conversation(session=session, contact_id=identity.contact_id)
            if found is not None:
                return found, True
            cid = None
            if identity is None:
                cid = await conv_service.unsaved_conversation(
                    session=session, conversation_id=conversation_id, resume_grant=resume_grant
                )
        if cid is None:
            return await self.open(identity=identity, conversation_id=None, resume_grant=None), True
        return Conversation(id=cid, mode="bot", last_seq=0), False

    async def save(self, chat: ChatSession) -> None:
        """Write the row of a socket's unsaved conversation (idempotent; another tab may have written it)."""
        async with transaction(self.sessions) as session:
            await conv_service.save_unsaved(
                session=session, conversation_id=chat.conversation_id, identity=chat.identity
            )
        log.info("conversation started", extra={"conversation_id": chat.conversation_id})

    async def replay(self, *, conversation_id: str, last_seq: int) -> list[dict[str, Any]]:
        async with self.sessions() as session:
            messages = await conv_service.messages_after(
                session=session, conversation_id=conversation_id, last_seq=last_seq
            )
            # Files sent in the chat ride with their message (chat/attachments.py).
            return await attachments.events_with_attachments(session, messages)

    async def customer_message(self, *, chat: ChatSession, sid: str, data: Any) -> dict[str, Any]:
        """Store a customer message and start the assistant's turn; returns the ack."""
        received = time.perf_counter()
        if not isinstance(data, dict):
            return {"error": "El mensaje no es válido."}
        text = conv_service.validate_customer_text(data.get("text"), max_chars=self.max_chars)
        payload = data.get("payload")
        conv_service.check_client_msg_id(data.get("client_msg_id"))
        conv_service.check_payload(payload)
        if not chat.stored:
            await self.save(chat)  # the first message of an anonymous visitor: now the conversation exists
        # Most messages go into the writer's next batch; one to a closed conversation reopens it first.
        stored, created, mode = await self.writer.submit_customer(
            conversation_id=chat.conversation_id, text=text, client_msg_id=data.get("client_msg_id"), payload=payload
        )
        if stored is None:
            stored, created, mode = await self._to_closed(chat, text, data.get("client_msg_id"), payload)
        message = stored
        if created:
            await self._emit_message(message, skip_sid=sid)
            if mode == "bot":
                self._spawn(self._assistant_turn(chat, message, received))
            else:  # a person has the chat, or it waits for one: the turn ends with the message on their console
                metrics.TURN_SECONDS.labels("agent").observe(time.perf_counter() - received)
        elif mode == "bot":
            # The same client_msg_id again: the client never got the ack, e.g. because the backend process
            # that stored the message was killed before or during its turn (found by tests/deploy's SIGKILL
            # runs). Once that turn would have ended anyway, run it here if nothing followed the message.
            self._spawn(self._unanswered_turn(chat, message))
        return {"seq": message.seq}

    async def _unanswered_turn(self, chat: ChatSession, message: Message) -> None:
        await asyncio.sleep(self.orphan_grace_seconds)
        await self._answer_if_unanswered(chat, message, why="resent message had no answer; running its turn")

    async def _answer_if_unanswered(self, chat: ChatSession, message: Message, *, why: str) -> bool:
        """Run `message`'s assistant turn if it is still the conversation's last message in bot mode."""
        try:
            async with self._locks.hold(chat.conversation_id):
                async with self.sessions() as session:
                    row = (
                        await session.execute(
                            select(Conversation.mode, Conversation.last_seq).where(
                                Conversation.id == chat.conversation_id
                            )
                        )
                    ).first()
                if row is None or row.mode != "bot" or row.last_seq != message.seq:
                    return False  # answered (or handed off) meanwhile
                log.warning(why, extra={"conversation_id": chat.conversation_id, "seq": message.seq})
                await self._run_turn(chat, message)
                return True
        except Exception:
            log.exception("assistant turn failed", extra={"conversation_id": chat.conversation_id})
            return False

    async def answer_orphans(self, *, now: datetime, older_than: timedelta, within: timedelta, limit: int = 50) -> int:
        """Assistant turns lost with the process that ran them: a customer message, acknowledged, still the
        last of its conversation in bot mode `older_than` after it was stored (every turn ends sooner, with
        the replies or the «asistente no disponible» notice). Each one is tried once per process. One
        process of the cluster runs this (the `unanswered-turns` lease, app.py); returns how many ran."""
        async with self.sessions() as session:
            rows = list(
                await session.scalars(
                    select(Message)
                    .join(Conversation, Conversation.id == Message.conversation_id)
                    .where(
                        Conversation.mode == "bot",
                        Conversation.updated_at < now - older_than,
                        Conversation.updated_at > now - within,
                        Message.seq == Conversation.last_seq,
                        Message.role == "customer",
                        Message.intent.is_(None),  # a turn that ended stored its parse with its replies
                    )
                    .order_by(Conversation.updated_at)
                    .limit(limit)
                )
            )
        if len(self._orphans_tried) > 10_000:
            self._orphans_tried.clear()  # bounded; a turn tried long ago is out of the window anyway
        ran = 0
        for message in rows:
            key = (message.conversation_id, message.seq)
            if key in self._orphans_tried:
                continue
            self._orphans_tried.add(key)
            chat = ChatSession(message.conversation_id, None)
            ran += await self._answer_if_unanswered(chat, message, why="unanswered customer message; running its turn")
        return ran

    async def _to_closed(
        self, chat: ChatSession, text: str, client_msg_id: Any, payload: Any
    ) -> tuple[Message, bool, str]:
        """Store a message to a conversation that was closed: writing again starts over with the assistant."""
        async with transaction(self.sessions) as session:
            conversation = await session.get(Conversation, chat.conversation_id)
            if conversation is None:
                raise NotFound(f"conversation {chat.conversation_id} not found", public="La conversación no existe.")
            appended = await conv_service.append_message(
                session=session,
                conversation_id=chat.conversation_id,
                role="customer",
                text=text,
                client_msg_id=client_msg_id,
                payload=payload,
            )
            if conversation.mode == "closed" and appended.created and payload is None:
                await reopen_for_assistant(session=session, conversation=conversation, now=utcnow())
            return appended.message, appended.created, conversation.mode

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _assistant_turn(self, chat: ChatSession, message: Message, received: float) -> None:
        try:
            async with self._locks.hold(chat.conversation_id):
                await self._run_turn(chat, message)
            # Message received to the replies (or the notice that the assistant is down) emitted.
            metrics.TURN_SECONDS.labels("assistant").observe(time.perf_counter() - received)
        except Exception:
            log.exception("assistant turn failed", extra={"conversation_id": chat.conversation_id})

    async def _run_turn(self, chat: ChatSession, message: Message) -> None:
        started = time.perf_counter()
        room = room_of(chat.conversation_id)
        # An identified socket owns a conversation of its own contact (checked when it was opened); an
        # anonymous visitor's contact is read per turn (one query): they may have verified since connecting.
        stored = chat.identity
        if stored is None:
            async with self.sessions() as session:
                stored = await conv_service.conversation_identity(session=session, conversation_id=chat.conversation_id)
        await self.emitter.emit("typing", {"role": "bot", "on": True}, room=room, namespace=self.namespace)
        asked = time.perf_counter()
        try:
            turn = await self.assistant.send(
                sender=chat.conversation_id, text=message.payload or message.text, metadata=_metadata(chat, stored)
            )
            if not turn.messages:
                # Rasa answered nothing: when the action server is down that is why.
                await self.assistant.actions_ready()
        except AssistantUnavailable as exc:
            log.warning(
                "assistant unavailable",
                extra={"component": exc.component, "detail": exc.detail, "conversation_id": chat.conversation_id},
            )
            if message.payload == HUMAN_PAYLOAD:
                await self._hand_off_without_assistant(chat.conversation_id)
                return
            await self.post(
                conversation_id=chat.conversation_id, role="system", text=NOTICES[exc.component], buttons=[HUMAN_BUTTON]
            )
            return
        finally:
            answered = time.perf_counter()
            await self.emitter.emit("typing", {"role": "bot", "on": False}, room=room, namespace=self.namespace)
        # The parse and the replies together, in the writer's next batch: stored whole or not at all.
        replies = await self.writer.submit_bot_turn(
            conversation_id=chat.conversation_id,
            message_id=message.id,
            intent=turn.intent,
            confidence=turn.confidence,
            replies=[(reply.text, reply.buttons) for reply in turn.messages],
            form=turn.form,
        )
        for stored_reply in replies:
            await self._emit_message(stored_reply)
        log.info(
            "assistant turn",
            extra={
                "conversation_id": chat.conversation_id,
                "intent": turn.intent,
                "confidence": turn.confidence,
                "replies": len(turn.messages),
                "before_rasa_ms": round((asked - started) * 1000, 1),
                "rasa_ms": round((answered - asked) * 1000, 1),
                "after_rasa_ms": round((time.perf_counter() - answered) * 1000, 1),
            },
        )

    async def post(
        self,
        *,
        conversation_id: str,
        role: str,
        text: str,
        buttons: list[dict[str, str]] | None = None,
        author_name: str | None = None,
    ) -> Message:
        """Store a non-customer message and deliver it to everyone in the conversation."""
        async with transaction(self.sessions) as session:
            appended = await conv_service.append_message(
                session=session,
                conversation_id=conversation_id,
                role=role,
                text=text,
                buttons=buttons,
                author_name=author_name,
            )
        await self._emit_message(appended.message)
        return appended.message

    async def _hand_off_without_assistant(self, conversation_id: str) -> None:
        """The customer took the offered person while the assistant is down: queue for Level 1."""
        if self.handoff is None:
            raise RuntimeError("no handoff orchestrator: see ChatGateway.use_handoff")
        await self.handoff.request(
            conversation_id=conversation_id, tier="L1", reason="El asistente no estaba disponible", in_turn=True
        )

    def post_after_turn(
        self, *, conversation_id: str, role: str, text: str, then: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        """Store and deliver a message once the assistant turn in progress (if any) is stored.

        A handoff requested by an action arrives in the middle of the turn; its notice must
        read after the bot's answer of that turn. `then` runs after the notice, still in turn
        (the handoff's follow-up: nobody online, automatic assignment).
        """

        async def _post() -> None:
            async with self._locks.hold(conversation_id):
                await self.post(conversation_id=conversation_id, role=role, text=text)
                if then is not None:
                    await then()

        self._spawn(_post())

    async def customer_typing(self, *, chat: ChatSession, on: bool) -> None:
        """The customer is writing: shown to the staff watching the conversation."""
        await self.emitter.emit(
            "typing",
            {"conversation_id": chat.conversation_id, "role": "customer", "on": on},
            room=agent_room_of(chat.conversation_id),
            namespace=AGENT_NAMESPACE,
        )

    async def agent_typing(self, *, conversation_id: str, name: str, on: bool) -> None:
        """The agent handling the conversation is writing: shown to the customer."""
        await self.emitter.emit(
            "typing", {"role": "agent", "on": on, "name": name}, room=room_of(conversation_id), namespace=self.namespace
        )

    async def deliver(self, message: Message) -> None:
        """Emit a message a service stored in its own transaction (e.g. the handoff notice)."""
        await self._emit_message(message)

    async def notify(self, *, conversation_id: str, event: str, data: dict[str, Any]) -> None:
        """Emit a protocol event (`handoff`, `agent_joined`, ...) to everyone in the conversation."""
        await self.emitter.emit(event, data, room=room_of(conversation_id), namespace=self.namespace)

    def _nobody_in(self, room: str, namespace: str, skip_sid: str | None = None) -> bool:
        """True when an emit to `room` would reach nobody (only known with the in-process manager).

        Most turns have nobody in the staff room, and the customer's own socket is the only one in
        theirs when it sends: python-socketio would still encode the packet before finding nobody.
        """
        if self._rooms is None:
            return False
        members = self._rooms.get(namespace, {}).get(room)
        return not members or (skip_sid is not None and len(members) == 1 and skip_sid in members)

    async def _emit_message(self, message: Message, *, skip_sid: str | None = None) -> None:
        event = message.to_event()
        room = room_of(message.conversation_id)
        if not self._nobody_in(room, self.namespace, skip_sid):
            await self.emitter.emit("message", event, room=room, skip_sid=skip_sid, namespace=self.namespace)
        agents = agent_room_of(message.conversation_id)
        if not self._nobody_in(agents, AGENT_NAMESPACE):
            await self.emitter.emit("message", event, room=agents, namespace=AGENT_NAMESPACE)

    async def drain(self) -> None:
        """Wait for assistant turns in flight (used on shutdown)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def _local_rooms(emitter: Any) -> dict[str, dict[str, Any]] | None:
    """The room table of a python-socketio server whose rooms all live in this process (its default
    `AsyncManager`), else None: with a pub/sub manager (Redis, several backend processes) the members of a
    room may be in another process, so every emit goes out."""
    manager = getattr(emitter, "manager", None)
    rooms = getattr(manager, "rooms", None)
    if type(manager).__name__ != "AsyncManager" or not isinstance(rooms, dict):
        return None
    return rooms


def _metadata(chat: ChatSession, stored: WidgetIdentity | None = None) -> dict[str, Any]:
    """What Rasa learns about the sender: the conversation's stored contact, else the socket's identity."""
    meta: dict[str, Any] = {"conversation_id": chat.conversation_id}
    identity = stored or chat.identity
    if identity is not None:
        meta.update(
            customer=identity.customer_code,
            customer_name=identity.customer_name,
            contact=identity.email,
            name=identity.name,
        )
    # The action server passes it back on every API call: the backend's signed word that the call is about
    # this conversation (and its contact). The service token alone acts for no customer (docs/security.md).
    from promptlink.services import conversation_token

    token = conversation_token.issue(chat.conversation_id, identity.email if identity is not None else None)
    if token is not None:
        meta[conversation_token.METADATA_KEY] = token
    return meta
