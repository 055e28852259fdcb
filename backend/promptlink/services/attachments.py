"""Attachments: files customers, agents and e-mails add to a conversation or a ticket (issue 15).

- **What is accepted** is decided by the content, never by the name: PNG, JPEG, GIF and WebP
  images and PDF documents by their magic numbers (the `filetype` library), and text/log files
  (UTF-8, or Latin-1, without NUL or other binary control bytes). Anything else (an .exe renamed
  .png, an archive...) is refused with a Spanish reason and an English detail. The size limit is
  `PROMPTLINK_ATTACHMENT_MAX_BYTES` (10 MB by default).
- **Where the bytes go**: outside the database, content-addressed, under
  `<var>/attachments/<sha256[:2]>/<sha256>`; a row per attachment (`models/attachment.py`)
  names the file, its media type, size, checksum, uploader, message, conversation and ticket.
- **Nothing half-stored**: the file is written to a temporary name, fsynced and renamed into
  place, then the row is committed; when the transaction fails, a file this upload wrote and
  no row names is removed again. A row never names a file that is not there.
- **Who downloads**: the conversation's customer and support staff; the links in chat events
  carry a signed, short-lived token (`download_token`) so the widget's `<img>` and `<a>` work
  without headers; anybody else gets 404, as for an id that does not exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import re
import time
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import filetype
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from promptlink.infra.files import replace_atomically
from promptlink.models import Attachment, Conversation, Message, Ticket
from promptlink.services.errors import DomainError
from promptlink.services.ticket_events import log_event

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
IMAGE_TYPES = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp"}
BINARY_TYPES = {**IMAGE_TYPES, "application/pdf": ".pdf"}
TEXT_UTF8 = "text/plain; charset=utf-8"
TEXT_LATIN1 = "text/plain; charset=iso-8859-1"
TEXT_EXTENSIONS = (".txt", ".log")
# Extensions a picture may keep (a .jpeg is a .jpg).
_SAME_TYPE = {".jpeg": "image/jpeg", ".jpg": "image/jpeg"}
MAX_NAME_CHARS = 120
NOT_ALLOWED = (
    "Ese tipo de archivo no está permitido. Puede adjuntar imágenes (PNG, JPEG, GIF, WebP), "
    "documentos PDF y archivos de texto o registros (.txt, .log)."
)
EMPTY = "El archivo está vacío."
_TOKEN_LABEL = b"promptlink/attachment-download/v1"
TOKEN_LIFETIME_SECONDS = 24 * 3600
# Control bytes text files may hold besides tab, line feed and carriage return: form feed and
# ESC (colour codes in logs). Any other C0 byte (NUL first) means the file is binary.
_BINARY_BYTE = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")
# Names are shown and sent back in headers: no path, no control or bidirectional-override characters.
_BAD_NAME_CHAR = re.compile('[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069/\\\\:*?"<>|]')

_signing_key: bytes | None = None


class AttachmentRefused(DomainError):
    """The file is not accepted (type or content); nothing was stored."""

    status = 422


class AttachmentTooLarge(AttachmentRefused):
    status = 413


def too_large(size: int, max_bytes: int) -> AttachmentTooLarge:
    return AttachmentTooLarge(
        f"attachment of {size} bytes exceeds the limit of {max_bytes} bytes",
        public=f"El archivo es demasiado grande (máximo {_megabytes(max_bytes)}).",
    )


def _megabytes(size: int) -> str:
    mb = size / (1024 * 1024)
    return f"{mb:.0f} MB" if mb >= 1 else f"{max(1, size // 1024)} KB"


@dataclass(frozen=True)
class Checked:
    """A file that passed the checks: what its row will say."""

    file_name: str
    media_type: str
    size: int
    sha256: str


def media_type_of(data: bytes) -> str:
    """The media type of `data` found from its content, or AttachmentRefused."""
    if not data:
        raise AttachmentRefused("empty file", public=EMPTY)
    kind = filetype.guess(data[:8192])
    if kind is not None:
        if kind.mime in BINARY_TYPES:
            return str(kind.mime)
        raise AttachmentRefused(f"content is {kind.mime}, which is not allowed", public=NOT_ALLOWED)
    if _BINARY_BYTE.search(data):
        raise AttachmentRefused("binary content of no allowed type", public=NOT_ALLOWED)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return TEXT_LATIN1  # every byte string is Latin-1; the control bytes were checked above
    return TEXT_UTF8


def clean_name(name: str | None, media_type: str) -> str:
    """A file name safe to show and to send back: the last path part, no control characters, at most
    120 characters, with an extension that matches the content (one is appended when it does not)."""
    raw = unicodedata.normalize("NFC", name or "")
    raw = re.split(r"[/\\]", raw)[-1]
    cleaned = _BAD_NAME_CHAR.sub("_", raw).strip().lstrip(".").strip()
    stem, dot, ext = cleaned.rpartition(".")
    extension = f".{ext.lower()}" if dot and stem else ""
    if not cleaned:
        cleaned = "archivo"
    if media_type.startswith("text/plain"):
        wanted = extension if extension in TEXT_EXTENSIONS else ".txt"
    else:
        wanted = BINARY_TYPES[media_type]
        if _SAME_TYPE.get(extension) == media_type:
            wanted = extension
    if extension != wanted:
        cleaned += wanted
    if len(cleaned) > MAX_NAME_CHARS:
        cleaned = cleaned[: MAX_NAME_CHARS - len(wanted)].rstrip() + wanted
    return cleaned


def check(data: bytes, name: str | None, *, max_bytes: int) -> Checked:
    """Every rule an attachment must pass, before anything is written."""
    if len(data) > max_bytes:
        raise too_large(len(data), max_bytes)
    media_type = media_type_of(data)
    return Checked(
        file_name=clean_name(name, media_type),
        media_type=media_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def is_image(media_type: str) -> bool:
    return media_type in IMAGE_TYPES


# --- the files ------------------------------------------------------------------------------------


class AttachmentStore:
    """The attachments' bytes on disk, content-addressed: `<root>/<sha256[:2]>/<sha256>`."""

    # Shared by every store of the process (the chat's and the SMTP intake's): one lock per file path.
    # Each entry: the lock and how many uploads hold or wait for it (dropped at zero).
    _locks: ClassVar[dict[str, tuple[asyncio.Lock, list[int]]]] = {}

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def write(self, data: bytes, sha256: str) -> bool:
        """Put `data` in place (temporary file, fsync, rename, fsync of the folder); False when the
        same content was already there."""
        target = self.path(sha256)
        if target.is_file() and target.stat().st_size == len(data):
            return False
        replace_atomically(target, lambda out: out.write(data), prefix=".upload-")
        return True

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def remove(self, sha256: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(sha256).unlink()

    @contextlib.asynccontextmanager
    async def holding(self, sha256: str) -> AsyncIterator[None]:
        """One upload of a given content at a time in this process: a failed upload's clean-up
        never removes a file another upload of the same bytes is about to name."""
        key = str(self.path(sha256))
        lock, users = self._locks.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._locks[key]


async def forget_unnamed(sessions: async_sessionmaker[AsyncSession], store: AttachmentStore, sha256: str) -> None:
    """Remove the file of `sha256` when no row names it (an upload that failed after writing it)."""
    async with sessions() as session:
        named = await session.scalar(select(Attachment.id).where(Attachment.sha256 == sha256).limit(1))
    if named is None:
        await asyncio.to_thread(store.remove, sha256)
        log.info("attachment file removed: its upload failed", extra={"sha256": sha256})


@contextlib.asynccontextmanager
async def stored_file(
    sessions: async_sessionmaker[AsyncSession], store: AttachmentStore, data: bytes, sha256: str
) -> AsyncIterator[None]:
    """Write the file, then run the block that commits its row; when the block fails, a file this
    call wrote (and no row names) is removed: no row without a file, no file without a row."""
    async with store.holding(sha256):
        wrote = await asyncio.to_thread(store.write, data, sha256)
        try:
            yield
        except BaseException:
            if wrote:
                await asyncio.shield(forget_unnamed(sessions, store, sha256))
            raise


# --- rows -------------------------------------------------------------------------------------------


async def conversation_ticket_id(session: AsyncSession, conversation: Conversation) -> int | None:
    """The ticket a conversation's attachments are linked to: the one it was handed off with, else
    the latest ticket opened from it."""
    if conversation.ticket_number:
        found = await session.scalar(select(Ticket.id).where(Ticket.number == conversation.ticket_number))
        if found is not None:
            return int(found)
    latest = await session.scalar(
        select(Ticket.id).where(Ticket.conversation_id == conversation.id).order_by(Ticket.id.desc()).limit(1)
    )
    return int(latest) if latest is not None else None


def new_row(
    checked: Checked,
    *,
    uploader_kind: str,
    uploader_id: str,
    conversation_id: str | None = None,
    message_id: int | None = None,
    ticket_id: int | None = None,
) -> Attachment:
    return Attachment(
        conversation_id=conversation_id,
        message_id=message_id,
        ticket_id=ticket_id,
        file_name=checked.file_name,
        media_type=checked.media_type,
        size=checked.size,
        sha256=checked.sha256,
        uploader_kind=uploader_kind,
        uploader_id=uploader_id[:254],
    )


async def by_message(session: AsyncSession, message_ids: list[int]) -> dict[int, Attachment]:
    """The attachment of each of these messages (one query)."""
    if not message_ids:
        return {}
    rows = await session.scalars(select(Attachment).where(Attachment.message_id.in_(message_ids)))
    return {row.message_id: row for row in rows if row.message_id is not None}


async def by_seq(session: AsyncSession, conversation_id: str, seqs: list[int]) -> dict[int, Attachment]:
    """The attachments of a conversation's messages, by the messages' `seq` (one query)."""
    if not seqs:
        return {}
    rows = await session.execute(
        select(Message.seq, Attachment)
        .join(Attachment, Attachment.message_id == Message.id)
        .where(Message.conversation_id == conversation_id, Message.seq.in_(seqs))
    )
    return {seq: attachment for seq, attachment in rows.tuples()}


async def of_conversation(session: AsyncSession, conversation_id: str) -> list[Attachment]:
    return list(
        await session.scalars(
            select(Attachment).where(Attachment.conversation_id == conversation_id).order_by(Attachment.id)
        )
    )


async def of_ticket(session: AsyncSession, ticket: Ticket) -> list[Attachment]:
    """A ticket's attachments: those linked to it and those of its conversation, oldest first."""
    condition = Attachment.ticket_id == ticket.id
    if ticket.conversation_id is not None:
        condition = condition | (Attachment.conversation_id == ticket.conversation_id)
    return list(await session.scalars(select(Attachment).where(condition).order_by(Attachment.id)))


# --- download links -------------------------------------------------------------------------------


def key_from(session_secret: str) -> bytes:
    return hmac.new(session_secret.encode(), _TOKEN_LABEL, hashlib.sha256).digest()


def configure(session_secret: str) -> None:
    """Set the process's signing key of download links (the app does at start)."""
    global _signing_key
    _signing_key = key_from(session_secret)


def _signature(key: bytes, attachment_id: int, expires: int) -> str:
    return hmac.new(key, f"{attachment_id}.{expires}".encode(), hashlib.sha256).hexdigest()[:40]


def download_token(attachment_id: int, *, now: float | None = None, lifetime: int = TOKEN_LIFETIME_SECONDS) -> str:
    """A token that lets whoever received the chat event download this one attachment for `lifetime`."""
    if _signing_key is None:
        raise RuntimeError("attachments.configure was not called")
    expires = int(time.time() if now is None else now) + lifetime
    return f"{expires}.{_signature(_signing_key, attachment_id, expires)}"


def token_grants(token: str | None, attachment_id: int, *, now: float | None = None) -> bool:
    if _signing_key is None or not isinstance(token, str) or len(token) > 80:
        return False
    expires_text, _, signature = token.partition(".")
    if not expires_text.isdigit():
        return False
    expires = int(expires_text)
    if expires < (time.time() if now is None else now):
        return False
    return hmac.compare_digest(signature, _signature(_signing_key, attachment_id, expires))


def to_json(row: Attachment, *, token: bool = True) -> dict[str, Any]:
    """An attachment as chat events and the API show it; `url` downloads it (with a signed token when
    `token`), `preview_url` shows an image inline (images only)."""
    url = f"/api/v1/attachments/{row.id}"
    if token:
        url += f"?t={download_token(row.id)}"
    data: dict[str, Any] = {
        "id": row.id,
        "name": row.file_name,
        "media_type": row.media_type,
        "size": row.size,
        "sha256": row.sha256,
        "url": url,
        "uploader_kind": row.uploader_kind,
        "created_at": row.created_at.isoformat(),
    }
    if is_image(row.media_type):
        data["preview_url"] = url + ("&" if "?" in url else "?") + "inline=1"
    return data


def message_event(message: Message, attachment: Attachment | None) -> dict[str, Any]:
    """The `message` event of a stored message, with its `attachment` when it has one."""
    event = message.to_event()
    if attachment is not None:
        event["attachment"] = to_json(attachment)
    return event


async def events_with_attachments(session: AsyncSession, messages: list[Message]) -> list[dict[str, Any]]:
    """`message` events of stored messages, attachments included (one query for all of them)."""
    attached = await by_message(session, [m.id for m in messages if m.role in ("customer", "agent")])
    return [message_event(m, attached.get(m.id)) for m in messages]


async def add_to_events(session: AsyncSession, conversation_id: str, events: list[dict[str, Any]]) -> None:
    """Put each message's `attachment` into `message` events built elsewhere (the console's transcript)."""
    attached = await by_seq(
        session, conversation_id, [e["seq"] for e in events if e.get("role") in ("customer", "agent")]
    )
    for event in events:
        if event["seq"] in attached:
            event["attachment"] = to_json(attached[event["seq"]])


# --- e-mail intake ----------------------------------------------------------------------------------

MAX_MAIL_FILES = 20


@dataclass(frozen=True)
class MailFiles:
    """The files of one received mail, sorted before anything is written: those accepted, and those
    refused with the reason (noted in the ticket's history; the mail still becomes a ticket)."""

    accepted: list[tuple[Checked, bytes]]
    refused: list[tuple[str, AttachmentRefused]]


def sort_mail_files(parts: list[tuple[str | None, bytes]], *, max_bytes: int) -> MailFiles:
    accepted: list[tuple[Checked, bytes]] = []
    refused: list[tuple[str, AttachmentRefused]] = []
    for index, (name, data) in enumerate(parts):
        shown = clean_name(name, TEXT_UTF8).removesuffix(".txt") if name else "archivo"
        if index >= MAX_MAIL_FILES:
            refused.append(
                (shown, AttachmentRefused("too many attachments", public=f"Se admiten {MAX_MAIL_FILES} por correo."))
            )
            continue
        try:
            accepted.append((check(data, name, max_bytes=max_bytes), data))
        except AttachmentRefused as exc:
            refused.append((shown, exc))
    return MailFiles(accepted, refused)


async def link_mail_files(
    session: AsyncSession, ticket_number: str, files: MailFiles, *, sender: str, now: Any
) -> None:
    """Rows for a mail's accepted files (their bytes are already in place), linked to its ticket, and one
    history entry per file: «Archivo adjunto» or «Adjunto rechazado» with the reason (internal)."""
    ticket = await session.scalar(select(Ticket).where(Ticket.number == ticket_number))
    if ticket is None:
        return
    for checked, _data in files.accepted:
        session.add(new_row(checked, uploader_kind="email", uploader_id=sender, ticket_id=ticket.id))
        log_event(
            session,
            ticket,
            now,
            "attachment",
            sender,
            text=f"{checked.file_name} ({checked.media_type}, {checked.size} bytes)",
            data={"name": checked.file_name, "sha256": checked.sha256, "size": checked.size},
        )
    for name, refusal in files.refused:
        log_event(
            session,
            ticket,
            now,
            "attachment_refused",
            "system",
            text=f"No se guardó el adjunto «{name}» del correo: {refusal.public}",
            data={"name": name, "reason": refusal.detail},
        )
