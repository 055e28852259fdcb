"""`/api/v1/conversations/{id}/attachments`, `/api/v1/attachments/{id}`, `/api/v1/tickets/{number}/attachments`:
files in the chat and on tickets (issue 15; rules in services/attachments.py, the chat side in chat/attachments.py).

Who may upload: the conversation's customer (the widget sends the `resume_token` of its `session` event
as `X-Resume-Token`; an identified customer may also use its widget identity as bearer token) and the
staff member handling the chat (or a supervisor). Who may download: the conversation's customer and
support staff (the links of chat events carry a signed token); anybody else gets 404.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from promptlink.chat.attachments import ChatAttachments
from promptlink.models import Attachment, Conversation, Ticket
from promptlink.services import attachments as files
from promptlink.services.access import conversation_for, may_read_conversation, may_read_ticket, ticket_for
from promptlink.services.auth import STAFF_ROLES, Forbidden, Principal
from promptlink.services.errors import InvalidInput, NotFound
from promptlink.services.identity import resume_token_conversation
from promptlink.transports.http.api import endpoint, reply
from promptlink.transports.http.common import SESSION_COOKIE, caller
from promptlink.transports.http.schemas.attachments import (
    AttachmentList,
    AttachmentMessage,
    AttachmentUpload,
    DownloadQuery,
    FileBytes,
)
from promptlink.transports.http.views import attachments as views

log = logging.getLogger(__name__)
bp = Blueprint("attachments", url_prefix="/api/v1")
RESUME_HEADER = "X-Resume-Token"
NO_FILE = "Adjunte un archivo."
NOT_FOUND = "El archivo no existe."
CONVERSATION_NOT_FOUND = "La conversación no existe."
# Multipart framing around the file: boundaries, part headers, the other fields.
FORM_OVERHEAD = 64 * 1024


def _chat(request: Request) -> ChatAttachments:
    chat: ChatAttachments = request.app.ctx.attachments
    return chat


def _has_credentials(request: Request) -> bool:
    return bool(request.headers.get("Authorization") or request.cookies.get(SESSION_COOKIE))


async def _uploader(request: Request, conversation_id: str) -> Principal:
    """The customer of the conversation (its resume token, or a widget identity) or a staff member."""
    token = request.headers.get(RESUME_HEADER)
    if token and not _has_credentials(request):
        grant = resume_token_conversation(secret=request.app.ctx.settings.secret("session_secret"), token=token)
        if grant != conversation_id:
            # As for an unknown conversation: a token of another conversation proves nothing.
            raise NotFound(f"conversation {conversation_id[:64]} not found", public=CONVERSATION_NOT_FOUND)
        return Principal(role="customer", email="", name="", conversation_id=conversation_id)
    p = await caller(request)
    if p.role != "customer" and not p.is_staff:
        raise Forbidden(f"role {p.role} may not send files", public="No tiene permiso para esta acción.")
    return p


async def _read_body(request: Request, limit: int) -> bytes:
    """The whole request body, refused (413, in Spanish) beyond the attachment limit. The body is read to
    its end either way (up to a bound), so the client reads the answer instead of a reset connection."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > 4 * limit + FORM_OVERHEAD:
        raise files.too_large(int(declared), limit)
    chunks: list[bytes] = []
    size = 0
    stream: Any = request.stream  # Sanic's HTTP stream of a `stream=True` route
    while True:
        chunk = await stream.read() if stream is not None else None
        if chunk is None:
            break
        size += len(chunk)
        if size > 4 * limit + FORM_OVERHEAD:
            raise files.too_large(size, limit)
        if size <= limit + FORM_OVERHEAD:
            chunks.append(chunk)
    if size > limit + FORM_OVERHEAD:
        raise files.too_large(size, limit)
    return b"".join(chunks)


@bp.post("/conversations/<conversation_id:str>/attachments", stream=True)
@endpoint(
    summary="Send a file in a chat (customer or staff)",
    description="`multipart/form-data` with the part `file` (and optionally `client_msg_id`, `text`). The file "
    "is accepted by its content (PNG, JPEG, GIF, WebP, PDF, text/log files; at most 10 MB by default), stored "
    "outside the database with its SHA-256, linked to the conversation's ticket, and becomes a chat `message` "
    "with an `attachment`, delivered over socket.io to the customer and the staff watching (docs/"
    "chat-protocol.md). The customer authenticates with `X-Resume-Token` (the `resume_token` of its `session` "
    "event) or its widget identity; staff with their session: the agent handling the chat or a supervisor. "
    "413 too large, 422 refused type or bad field (a Spanish `message` says why; nothing is stored), 404 "
    "not the caller's conversation, 409 not with this agent or closed.",
    form=AttachmentUpload,
    responses={201: AttachmentMessage, 401: None, 403: None, 404: None, 409: None, 413: None, 422: None},
)
async def upload(request: Request, conversation_id: str) -> HTTPResponse:
    principal = await _uploader(request, conversation_id)
    chat = _chat(request)
    request.body = await _read_body(request, chat.max_bytes)
    try:
        form_files = request.files
        form = request.form
    except Exception as exc:  # noqa: BLE001 - Sanic's parser raises several types for a broken form
        raise InvalidInput(f"multipart body not readable: {exc}", public=NO_FILE) from exc
    part = form_files.get("file") if form_files else None
    if part is None:
        raise InvalidInput("the form has no part named file", public=NO_FILE)
    event = await chat.upload(
        principal,
        conversation_id,
        data=part.body,
        name=part.name,
        client_msg_id=form.get("client_msg_id") if form else None,
        caption=form.get("text") if form else None,
    )
    return reply(event, status=201)


async def _may_download(request: Request, row: Attachment | None) -> bool:
    """The link's token, or a caller who may read the attachment's conversation or ticket."""
    principal = await caller(request) if _has_credentials(request) else None
    if row is None:
        return False
    if files.token_grants(request.args.get("t"), row.id):
        return True
    if principal is None or (principal.role != "customer" and principal.role not in STAFF_ROLES):
        return False
    async with request.app.ctx.sessions() as session:
        if row.conversation_id is not None:
            conversation = await session.get(Conversation, row.conversation_id)
            if conversation is not None and await may_read_conversation(session, principal, conversation):
                return True
        if row.ticket_id is not None:
            ticket = await session.get(Ticket, row.ticket_id)
            if ticket is not None and await may_read_ticket(session, principal, ticket):
                return True
    return False


@bp.get("/attachments/<attachment_id:int>")
@endpoint(
    summary="Download an attachment",
    description="The stored bytes with their media type, `Content-Disposition: attachment; filename*=…` and "
    "`X-Content-Type-Options: nosniff`; `?inline=1` shows an image in the page (previews; other types still "
    "download). For the conversation's customer and support staff: the signed `?t=` of the chat event's link, "
    "or the caller's own credentials. Anybody else: 404, as for an id that does not exist.",
    query=DownloadQuery,
    responses={200: FileBytes, 401: None, 404: None},
)
async def download(request: Request, attachment_id: int) -> HTTPResponse:
    async with request.app.ctx.sessions() as session:
        row = await session.get(Attachment, attachment_id)
    if not await _may_download(request, row) or row is None:
        raise NotFound(f"attachment {attachment_id} not found", public=NOT_FOUND)
    store = _chat(request).store
    try:
        data = await asyncio.to_thread(store.read, row.sha256)
    except FileNotFoundError as exc:
        log.error("attachment file missing", extra={"attachment_id": row.id, "sha256": row.sha256})
        raise NotFound(f"attachment {attachment_id} has no file", public=NOT_FOUND) from exc
    return views.file_response(row, data, inline=request.args.get("inline") == "1")


@bp.get("/tickets/<number:str>/attachments")
@endpoint(
    summary="A ticket's attachments (its e-mails' and its chat's files)",
    description="`{attachments: [{id, name, media_type, size, sha256, url, preview_url?, uploader_kind, "
    "created_at}]}`, oldest first. Who may read the ticket (staff of its tiers, its company's contacts).",
    responses={200: AttachmentList, 401: None, 403: None, 404: None},
)
async def ticket_attachments(request: Request, number: str) -> HTTPResponse:
    p = await caller(request)
    async with request.app.ctx.sessions() as session:
        ticket = await ticket_for(session, p, number)
        return reply(views.attachment_list(await files.of_ticket(session, ticket)))


@bp.get("/conversations/<conversation_id:str>/attachments")
@endpoint(
    summary="A conversation's attachments",
    description="`{attachments: […]}` as for a ticket, oldest first. The conversation's customer and staff "
    "who may see it.",
    responses={200: AttachmentList, 401: None, 403: None, 404: None},
)
async def conversation_attachments(request: Request, conversation_id: str) -> HTTPResponse:
    p = await _uploader(request, conversation_id)
    async with request.app.ctx.sessions() as session:
        conversation = await conversation_for(session, p, conversation_id)
        rows = await files.of_conversation(session, conversation.id)
        return reply(views.attachment_list(rows))
