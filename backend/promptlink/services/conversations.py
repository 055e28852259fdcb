"""Conversations and messages: ownership, per-conversation `seq`, idempotent appends."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Contact, Conversation, Customer, Message
from promptlink.models.base import utcnow
from promptlink.models.conversation import ROLES
from promptlink.services.auth import Forbidden
from promptlink.services.errors import InvalidInput
from promptlink.services.identity import WidgetIdentity
from promptlink.services.text import check_text

MAX_CLIENT_MSG_ID = 64
MAX_PAYLOAD = 500
REPLAY_LIMIT = 500
# Author of the proactive notices (SNMP alarms): a conversation that ends with one is shown
# to its contact on the next visit, even from a browser that does not know it.
PROACTIVE_AUTHOR = "Monitoreo de red Promptlink"


@dataclass(frozen=True)
class Appended:
    message: Message
    created: bool


async def find_resumable(
    *,
    session: AsyncSession,
    identity: WidgetIdentity | None,
    conversation_id: str | None,
    resume_grant: str | None,
) -> Conversation | None:
    """The existing conversation `open_conversation` would return, read only (None: a new one is due).

    Reconnects are the common case and need no write transaction (SQLite has one writer).
    """
    if conversation_id and len(conversation_id) <= 36:
        existing = await session.get(Conversation, conversation_id)
        if existing is not None and _owns(existing, identity, resume_grant) and not _long_closed(existing):
            return existing
    if identity is not None:
        return await _with_unread_notice(session, identity.contact_id)
    return None


async def open_conversation(
    *,
    session: AsyncSession,
    identity: WidgetIdentity | None,
    conversation_id: str | None,
    resume_grant: str | None,
) -> Conversation:
    """The caller's conversation: the one asked for when the caller owns it, else a new one.

    An identified contact owns the conversations opened with its identity; an anonymous
    visitor owns only the conversation its resume token names.
    """
    existing = await find_resumable(
        session=session, identity=identity, conversation_id=conversation_id, resume_grant=resume_grant
    )
    if existing is not None:
        return existing
    conversation = Conversation(
        id=str(uuid.uuid4()),
        customer_id=identity.customer_id if identity else None,
        contact_id=identity.contact_id if identity else None,
        mode="bot",
        last_seq=0,
    )
    session.add(conversation)
    await session.flush()
    return conversation


# A chat closed less than this long ago is still resumed (its history, the rating question);
# writing in it starts over with the assistant. Older ones give way to a new conversation.
RESUME_CLOSED_FOR = timedelta(hours=24)


def _long_closed(conversation: Conversation) -> bool:
    if conversation.mode != "closed":
        return False
    return conversation.closed_at is None or utcnow() - conversation.closed_at > RESUME_CLOSED_FOR


async def _with_unread_notice(session: AsyncSession, contact_id: int) -> Conversation | None:
    """The contact's latest open conversation when its last message is a proactive notice."""
    latest = await session.scalar(
        select(Conversation)
        .where(Conversation.contact_id == contact_id, Conversation.mode != "closed", Conversation.last_seq > 0)
        .order_by(Conversation.updated_at.desc())
        .limit(1)
    )
    if latest is None:
        return None
    author = await session.scalar(
        select(Message.author_name).where(Message.conversation_id == latest.id, Message.seq == latest.last_seq)
    )
    return latest if author == PROACTIVE_AUTHOR else None


async def empty_conversation(*, session: AsyncSession, contact_id: int) -> Conversation | None:
    """The contact's latest conversation with the assistant that has no message yet.

    An identified visitor's socket opens its conversation on connecting (proactive notices go
    to it), but one empty conversation per contact is enough: new tabs and fresh browsers
    reuse it instead of adding a row per connection (issue #13 F7).
    """
    empty: Conversation | None = await session.scalar(
        select(Conversation)
        .where(Conversation.contact_id == contact_id, Conversation.mode == "bot", Conversation.last_seq == 0)
        .order_by(Conversation.updated_at.desc(), Conversation.id)
        .limit(1)
    )
    return empty


async def unsaved_conversation(*, session: AsyncSession, conversation_id: str | None, resume_grant: str | None) -> str:
    """The id of an anonymous visitor's conversation that has no row yet (none is written until its first message).

    The id the visitor's resume token names when no conversation has it yet (a reload, a second
    tab), else a new one. Called after `find_resumable` found nothing the visitor may resume.
    """
    if (
        conversation_id
        and len(conversation_id) <= 36
        and resume_grant == conversation_id
        and await session.get(Conversation, conversation_id) is None
    ):
        return conversation_id
    return str(uuid.uuid4())


async def save_unsaved(*, session: AsyncSession, conversation_id: str, identity: WidgetIdentity | None) -> Conversation:
    """Write the row of a conversation a socket holds unsaved (on its first message); idempotent.

    Another tab of the same visitor may have written it first: that row is used when the
    caller owns it (`Forbidden` otherwise).
    """
    existing = await session.get(Conversation, conversation_id)
    if existing is None:
        try:
            async with session.begin_nested():
                existing = Conversation(
                    id=conversation_id,
                    customer_id=identity.customer_id if identity else None,
                    contact_id=identity.contact_id if identity else None,
                    mode="bot",
                    last_seq=0,
                )
                session.add(existing)
                await session.flush()
            return existing
        except IntegrityError:
            existing = await session.get(Conversation, conversation_id, populate_existing=True)
            if existing is None:
                raise
    if not _owns(existing, identity, conversation_id):
        raise Forbidden(
            f"conversation {conversation_id} belongs to someone else", public="No tiene permiso para esta acción."
        )
    return existing


def _owns(conversation: Conversation, identity: WidgetIdentity | None, resume_grant: str | None) -> bool:
    if identity is not None:
        return conversation.contact_id == identity.contact_id
    # An anonymous visitor that verified by e-mail code keeps its conversation (now the contact's).
    anonymous_start = conversation.contact_id is None or conversation.verified_at is not None
    return anonymous_start and resume_grant == conversation.id


async def conversation_identity(*, session: AsyncSession, conversation_id: str) -> WidgetIdentity | None:
    """The contact a conversation belongs to (identified or verified), read in one query."""
    row = (
        await session.execute(
            select(Contact.id, Contact.email, Contact.name, Customer.id, Customer.code, Customer.name)
            .join(Conversation, Conversation.contact_id == Contact.id)
            .join(Customer, Customer.id == Contact.customer_id)
            .where(Conversation.id == conversation_id)
        )
    ).first()
    if row is None:
        return None
    contact_id, email, name, customer_id, code, customer_name = row
    return WidgetIdentity(
        contact_id=contact_id,
        email=email,
        name=name,
        customer_id=customer_id,
        customer_code=code,
        customer_name=customer_name,
    )


def validate_customer_text(text: Any, *, max_chars: int) -> str:
    """The customer's text, stripped; a clear Spanish error when it cannot be accepted."""
    if not isinstance(text, str):
        raise InvalidInput("text must be a string", public="El mensaje no es válido.")
    stripped: str = check_text(text.strip())
    if not stripped:
        raise InvalidInput("empty text", public="El mensaje está vacío.")
    if len(stripped) > max_chars:
        raise InvalidInput(
            f"text longer than {max_chars} characters",
            public=f"El mensaje es demasiado largo (máximo {max_chars} caracteres).",
        )
    return stripped


def check_client_msg_id(client_msg_id: Any) -> None:
    """A client's message id is absent or a string of 1-64 characters."""
    if client_msg_id is not None and (
        not isinstance(client_msg_id, str) or not 0 < len(client_msg_id) <= MAX_CLIENT_MSG_ID
    ):
        raise InvalidInput("client_msg_id must be a string of 1-64 characters", public="El mensaje no es válido.")


def check_payload(payload: Any) -> None:
    """A button payload is absent or a string of at most 500 characters."""
    if payload is not None and (not isinstance(payload, str) or len(payload) > MAX_PAYLOAD):
        raise InvalidInput("payload must be a string of at most 500 characters", public="El mensaje no es válido.")


async def append_message(
    *,
    session: AsyncSession,
    conversation_id: str,
    role: str,
    text: str,
    client_msg_id: str | None = None,
    payload: str | None = None,
    buttons: list[dict[str, Any]] | None = None,
    author_name: str | None = None,
    intent: str | None = None,
    confidence: float | None = None,
) -> Appended:
    """Store a message with the conversation's next `seq`.

    A repeated `client_msg_id` returns the message already stored (created=False).
    """
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}", public="El mensaje no es válido.")
    check_client_msg_id(client_msg_id)
    if client_msg_id is not None:
        previous = await _by_client_msg_id(session, conversation_id, client_msg_id)
        if previous is not None:
            return Appended(previous, created=False)
    check_payload(payload)
    try:
        # The seq bump and the insert share one savepoint, so a lost race leaves no gap.
        async with session.begin_nested():
            seq = await session.scalar(
                update(Conversation)
                .where(Conversation.id == conversation_id)
                .values(last_seq=Conversation.last_seq + 1, updated_at=utcnow())
                .returning(Conversation.last_seq)
            )
            if seq is None:
                raise InvalidInput(
                    f"conversation {conversation_id} does not exist", public="La conversación no existe."
                )
            message = Message(
                conversation_id=conversation_id,
                seq=seq,
                role=role,
                text=text,
                payload=payload,
                buttons=buttons,
                author_name=author_name,
                client_msg_id=client_msg_id,
                intent=intent,
                confidence=confidence,
            )
            session.add(message)
            await session.flush()
    except IntegrityError:
        # A concurrent append of the same client_msg_id won the race: return that one.
        if client_msg_id is None:
            raise
        previous = await _by_client_msg_id(session, conversation_id, client_msg_id)
        if previous is None:
            raise
        return Appended(previous, created=False)
    return Appended(message, created=True)


async def _by_client_msg_id(session: AsyncSession, conversation_id: str, client_msg_id: str) -> Message | None:
    message: Message | None = await session.scalar(
        select(Message).where(Message.conversation_id == conversation_id, Message.client_msg_id == client_msg_id)
    )
    return message


async def messages_after(
    *, session: AsyncSession, conversation_id: str, last_seq: int, limit: int = REPLAY_LIMIT
) -> list[Message]:
    """Messages with seq > last_seq, in order (what a reconnecting client missed)."""
    rows = await session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.seq > last_seq)
        .order_by(Message.seq)
        .limit(limit)
    )
    return list(rows)


async def record_parse(*, session: AsyncSession, message_id: int, intent: str | None, confidence: float | None) -> None:
    """Store what the assistant understood of a customer message."""
    await session.execute(update(Message).where(Message.id == message_id).values(intent=intent, confidence=confidence))
