"""A file sent in the chat, by the customer (widget) or by staff (console): stored as a `message`
with its attachment, delivered over socket.io to both sides (docs/chat-protocol.md, «Attachments»).

The rules and the storage are in services/attachments.py; this module orders the steps: check the
file, write it, store the message and the row in one transaction, then emit.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from promptlink.chat.gateway import AGENT_NAMESPACE, Emitter, agent_room_of, room_of
from promptlink.infra.db import transaction
from promptlink.models import Attachment, Conversation
from promptlink.services import attachments as files
from promptlink.services import conversations as conv_service
from promptlink.services.access import conversation_for
from promptlink.services.agent_chat import LiveChatRefused, must_handle
from promptlink.services.auth import Principal
from promptlink.services.text import check_text

log = logging.getLogger(__name__)
MAX_CAPTION = 500
CLOSED = "La conversación terminó: escriba un mensaje para continuar y vuelva a adjuntar el archivo."


def caption_of(caption: Any, *, max_chars: int = MAX_CAPTION) -> str | None:
    """The optional text sent with a file (trimmed; at most 500 characters)."""
    if caption is None:
        return None
    if not isinstance(caption, str):
        raise files.AttachmentRefused("caption must be text", public="El mensaje no es válido.")
    text = check_text(caption.strip(), field="caption")
    if len(text) > max_chars:
        raise files.AttachmentRefused(
            f"caption longer than {max_chars} characters",
            public=f"El texto del adjunto es demasiado largo (máximo {max_chars} caracteres).",
        )
    return text or None


class ChatAttachments:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        emitter: Emitter,
        root: Path,
        max_bytes: int = files.DEFAULT_MAX_BYTES,
        namespace: str = "/chat",
    ) -> None:
        self.sessions = sessions
        self.emitter = emitter
        self.store = files.AttachmentStore(root)
        self.max_bytes = max_bytes
        self.namespace = namespace

    async def upload(
        self,
        principal: Principal,
        conversation_id: str,
        *,
        data: bytes,
        name: str | None,
        client_msg_id: Any = None,
        caption: Any = None,
    ) -> dict[str, Any]:
        """Store `data` as a message of `principal` (the conversation's customer, or the staff member
        handling it) and deliver it; returns the message event. A repeated `client_msg_id` stores nothing
        and returns the first copy."""
        checked = files.check(data, name, max_bytes=self.max_bytes)
        conv_service.check_client_msg_id(client_msg_id)
        text = caption_of(caption) or checked.file_name
        created = False
        async with files.stored_file(self.sessions, self.store, data, checked.sha256):
            async with transaction(self.sessions) as session:
                conversation = await self._conversation(session, principal, conversation_id)
                appended = await conv_service.append_message(
                    session=session,
                    conversation_id=conversation.id,
                    role="customer" if principal.role == "customer" else "agent",
                    text=text,
                    client_msg_id=client_msg_id,
                    author_name=None if principal.role == "customer" else principal.name,
                )
                message = appended.message
                if appended.created:
                    row = files.new_row(
                        checked,
                        uploader_kind="customer" if principal.role == "customer" else "agent",
                        uploader_id=_uploader_id(principal),
                        conversation_id=conversation.id,
                        message_id=message.id,
                        ticket_id=await files.conversation_ticket_id(session, conversation),
                    )
                    session.add(row)
                    await session.flush()
                    created = True
                    attachment: Attachment | None = row
                else:
                    attachment = (await files.by_message(session, [message.id])).get(message.id)
                event = files.message_event(message, attachment)
        if not created:
            # A resend: the first copy is what counts; bytes this call wrote and nothing names go.
            await files.forget_unnamed(self.sessions, self.store, checked.sha256)
            return event
        log.info(
            "attachment stored",
            extra={
                "conversation_id": conversation_id,
                "seq": event["seq"],
                "media_type": checked.media_type,
                "size": checked.size,
                "sha256": checked.sha256,
                "uploader": principal.role,
            },
        )
        await self.emitter.emit("message", event, room=room_of(conversation_id), namespace=self.namespace)
        await self.emitter.emit("message", event, room=agent_room_of(conversation_id), namespace=AGENT_NAMESPACE)
        return event

    async def _conversation(self, session: AsyncSession, principal: Principal, conversation_id: str) -> Conversation:
        if (
            principal.role == "customer"
            and principal.conversation_id == conversation_id
            and await session.get(Conversation, conversation_id) is None
        ):
            # An anonymous visitor (resume token) whose first message is this file: the row is written now.
            await conv_service.save_unsaved(session=session, conversation_id=conversation_id, identity=None)
        conversation = await conversation_for(session, principal, conversation_id, lock=True)
        if principal.role == "customer":
            if conversation.mode == "closed":
                raise LiveChatRefused(f"conversation {conversation.id} is closed", public=CLOSED)
        else:
            must_handle(principal, conversation)
        return conversation


def _uploader_id(principal: Principal) -> str:
    if principal.agent_id is not None:
        return str(principal.agent_id)
    return principal.email or (f"conversation:{principal.conversation_id}" if principal.conversation_id else "")
