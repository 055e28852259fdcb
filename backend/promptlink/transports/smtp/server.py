"""SMTP intake: customers write to soporte@… and the mail becomes (part of) a ticket.

An aiosmtpd server on the backend's own event loop. It only translates: SMTP envelope
and MIME message in, `services.email_intake.receive_email` decides. Bounds: 1 MB per
message, 10 recipients, mail for the support domain only (no open relay), 10,000
characters of plain text (HTML is reduced to its text; nothing of it is kept), exactly one
`From` address, and rate limits per sender and overall (`limits`, in Redis when the
deployment has one): over them the answer is `451`, a temporary refusal the sending server
retries later. Whether the `From` is authenticated is `promptlink.transports.smtp.authentication`'s verdict.

Try it (backend running, demo mode):

    curl --url smtp://127.0.0.1:2525 --mail-from ana.gomez@cableandina.example \
         --mail-rcpt soporte@promptlink.example --upload-file mail.txt
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import logging
import re
from email import policy
from email.message import EmailMessage, Message
from html.parser import HTMLParser
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from limits import RateLimitItem, parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from promptlink.infra.clock import Clock
from promptlink.infra.db import transaction
from promptlink.infra.settings import Settings
from promptlink.services import attachments as files
from promptlink.services.email_intake import receive_email, sender_address
from promptlink.services.errors import DomainError
from promptlink.transports.smtp.authentication import MailAuth, SenderAuthenticator

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 1_000_000
MAX_RECIPIENTS = 10
MAX_BODY_CHARS = 10_000
SESSION_TIMEOUT_SECONDS = 120
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class _TextOfHtml(HTMLParser):
    """The visible text of an HTML body: no markup, scripts or styles survive."""

    BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"})
    HIDDEN = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def _tidy(text: str) -> str:
    """Plain lines: no control characters, no trailing blanks, at most one empty line in a row."""
    lines = [_CONTROL.sub("", line).rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    return text.strip()


def _part_text(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, ValueError):  # unknown or lying charset
        raw = part.get_payload(decode=True)
        content = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else ""
    if not isinstance(content, str):
        return ""
    if part.get_content_type() == "text/html":
        content = html_to_text(content)
    return _tidy(content)


def message_text(message: EmailMessage) -> str:
    """The body as plain text: text/plain preferred, else (or when it is empty) the text of text/html."""
    for preference in ("plain", "html"):
        part = message.get_body(preferencelist=(preference,))
        if isinstance(part, EmailMessage):
            text = _part_text(part)
            if text:
                return text[:MAX_BODY_CHARS]
    return ""


def mail_files(message: EmailMessage) -> list[tuple[str | None, bytes]]:
    """The attached files of a mail (name as given, decoded bytes); the body parts are not among them."""
    found: list[tuple[str | None, bytes]] = []
    for part in message.iter_attachments():
        if not isinstance(part, EmailMessage) or part.is_multipart():
            continue
        data = part.get_payload(decode=True)
        if isinstance(data, bytes):
            found.append((part.get_filename(), data))
    return found


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except (IndexError, ValueError, TypeError):  # a malformed header the parser could not fold
        return ""
    return _CONTROL.sub(" ", str(value)).strip() if value is not None else ""


class AuthorError(ValueError):
    """The message names more than one author (several From headers or addresses)."""


def author_of(message: Message, envelope_from: str) -> tuple[str, bool]:
    """The From address (who the reply goes to) and whether it came from the header.

    Without a usable From the envelope sender is used (never authenticated). More than one
    From header, or several addresses in it, raise `AuthorError`: which one is "the" sender
    would be a guess, and a forger would pick the guess (RFC 5322 §3.6 allows one From field).
    """
    try:
        headers: list[Any] = message.get_all("From") or []
    except (IndexError, ValueError, TypeError):
        headers = []
    if len(headers) > 1:
        raise AuthorError(f"{len(headers)} From headers")
    if headers:
        try:
            addresses = [a for a in getattr(headers[0], "addresses", ()) if a.addr_spec]
        except (IndexError, ValueError, TypeError):
            addresses = []
        if len(addresses) > 1:
            raise AuthorError(f"{len(addresses)} addresses in From")
        if addresses and "@" in addresses[0].addr_spec:
            return sender_address(addresses[0].addr_spec), True
    return sender_address(envelope_from), False


def _limits_storage(redis_url: str | None) -> Any:
    """Shared counters for every backend process when there is Redis; this process's memory otherwise."""
    if redis_url:
        return storage_from_string("async+" + redis_url, implementation="redispy")
    return storage_from_string("async+memory://")


class IntakeLimits:
    """Rate limits of the intake (moving windows): per sender, overall, and auto-replies to
    unauthenticated senders (per recipient and overall)."""

    NAMESPACE = "promptlink-smtp"

    def __init__(self, settings: Settings) -> None:
        self.limiter = MovingWindowRateLimiter(_limits_storage(settings.redis_url))
        self.per_sender = parse_many(settings.email_rate_per_sender)
        self.overall = parse_many(settings.email_rate_global)
        self.replies_per_recipient = parse_many(settings.email_unauthenticated_replies_per_recipient)
        self.replies_overall = parse_many(settings.email_unauthenticated_replies_global)

    async def _hit(self, items: list[RateLimitItem], *identifiers: str) -> bool:
        for item in items:
            if not await self.limiter.hit(item, self.NAMESPACE, *identifiers):
                return False
        return True

    async def open_for_mail(self) -> bool:
        """Whether the overall limit leaves room (checked at MAIL FROM, nothing counted)."""
        for item in self.overall:
            if not await self.limiter.test(item, self.NAMESPACE, "all"):
                return False
        return True

    async def take_mail(self, senders: set[str]) -> str:
        """Count one message; the name of the limit it exceeds, or empty when it may pass."""
        for sender in sorted(senders):
            if sender and not await self._hit(self.per_sender, "sender", sender):
                return "per sender"
        if not await self._hit(self.overall, "all"):
            return "overall"
        return ""

    async def take_reply(self, recipient: str) -> bool:
        """Whether one more auto-reply to an unauthenticated sender may go to `recipient`."""
        return await self._hit(self.replies_per_recipient, "reply", recipient) and await self._hit(
            self.replies_overall, "reply-all"
        )


class IntakeHandler:
    """aiosmtpd handler: accept recipients of the support domain, hand each message to the service."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        support_email: str,
        limits: IntakeLimits,
        authenticator: SenderAuthenticator,
        store: files.AttachmentStore | None = None,
        attachment_max_bytes: int = files.DEFAULT_MAX_BYTES,
    ) -> None:
        self.sessions, self.clock, self.support_email = sessions, clock, support_email
        self.domain = support_email.rpartition("@")[2].lower()
        self.limits, self.authenticator = limits, authenticator
        # The mails' attachments are stored as the chat's are (services/attachments.py) and linked to the ticket.
        self.store, self.attachment_max_bytes = store, attachment_max_bytes

    async def _write_files(self, mail_files: files.MailFiles) -> list[str]:
        """Put the accepted files in place before the transaction; the checksums of those this wrote."""
        written: list[str] = []
        if self.store is None:
            return written
        for checked, data in mail_files.accepted:
            if await asyncio.to_thread(self.store.write, data, checked.sha256):
                written.append(checked.sha256)
        return written

    async def handle_MAIL(  # noqa: N802 - the name aiosmtpd looks up
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        try:
            open_ = await self.limits.open_for_mail()
        except Exception:
            log.exception("email rate limit unavailable")
            return "451 4.3.0 Temporary failure, please try again later"
        if not open_:
            log.warning("email refused", extra={"reason": "rate limit overall", "peer": str(session.peer)})
            return "451 4.7.1 Too much mail right now, please try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802 - the name aiosmtpd looks up
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address.rpartition("@")[2].lower().rstrip(".") != self.domain:
            log.info("email recipient refused", extra={"rcpt": address[:254], "peer": str(session.peer)})
            return f"550 5.7.1 Relaying denied: this server only accepts mail for @{self.domain}"
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return f"452 4.5.3 Too many recipients (at most {MAX_RECIPIENTS})"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or b""
        envelope_from = envelope.mail_from or ""
        try:
            message = email.message_from_bytes(raw, policy=policy.default)
            assert isinstance(message, EmailMessage)
            sender, from_header = author_of(message, envelope_from)
            subject = _header(message, "Subject")
            body = message_text(message)
            parts = mail_files(message) if self.store is not None else []
        except AuthorError as exc:
            log.warning("email refused", extra={"reason": str(exc), "mail_from": envelope_from[:254]})
            return "550 5.7.1 Exactly one From address is required"
        except Exception:
            log.exception("email could not be parsed", extra={"mail_from": envelope_from[:254], "bytes": len(raw)})
            return "554 5.6.0 Message could not be parsed"
        message_id = _header(message, "Message-ID")
        try:
            exceeded = await self.limits.take_mail({sender, sender_address(envelope_from)})
        except Exception:
            log.exception("email rate limit unavailable")
            return "451 4.3.0 Temporary failure, please try again later"
        if exceeded:
            log.warning("email refused", extra={"reason": f"rate limit {exceeded}", "sender": sender})
            return "451 4.7.1 Too much mail, please try again later"
        if sender_address(envelope_from) == "":
            # A null reverse-path is a delivery report (RFC 5321 §4.5.5): never answer it.
            log.info(
                "email received",
                extra={"outcome": "ignored", "reason": "null reverse-path", "sender": sender, "message_id": message_id},
            )
            return "250 2.0.0 OK"
        auth = await self._authenticate(
            raw=raw,
            message=message,
            sender=sender,
            from_header=from_header,
            session=session,
            envelope_from=envelope_from,
        )
        return await self._file(
            message=message, sender=sender, subject=subject, body=body, message_id=message_id, auth=auth, parts=parts
        )

    async def _authenticate(
        self,
        *,
        raw: bytes,
        message: EmailMessage,
        sender: str,
        from_header: bool,
        session: Session,
        envelope_from: str,
    ) -> MailAuth:
        """The sender's SPF/DKIM/DMARC verdict; a mail without a From header is never authenticated."""
        peer = session.peer[0] if isinstance(session.peer, tuple) and session.peer else None
        auth = await self.authenticator.check(
            raw=raw,
            message=message,
            author=sender,
            peer_ip=str(peer) if peer else None,
            mail_from=sender_address(envelope_from),
            helo=str(session.host_name or ""),
        )
        if not from_header and auth.authenticated:
            auth = MailAuth(False, auth.method, auth.results, "no From header")
        log.info(
            "email sender authentication",
            extra={"sender": sender, "authenticated": auth.authenticated, "method": auth.method, "reason": auth.reason},
        )
        return auth

    async def _file(
        self,
        *,
        message: EmailMessage,
        sender: str,
        subject: str,
        body: str,
        message_id: str,
        auth: MailAuth,
        parts: list[tuple[str | None, bytes]],
    ) -> str:
        """Store the mail (a ticket, an update or a held message) with its files; the SMTP reply."""
        sorted_files = files.sort_mail_files(parts, max_bytes=self.attachment_max_bytes)
        async with contextlib.AsyncExitStack() as held:
            # One upload of given bytes at a time (a chat upload of the same file): a failed one's clean-up
            # never removes a file another is about to name.
            if self.store is not None:
                for sha256 in sorted({checked.sha256 for checked, _ in sorted_files.accepted}):
                    await held.enter_async_context(self.store.holding(sha256))
            written: list[str] = []
            try:
                written = await self._write_files(sorted_files)
                now = self.clock.now()
                async with transaction(self.sessions) as db:
                    result = await receive_email(
                        session=db,
                        sender=sender,
                        subject=subject,
                        body=body,
                        now=now,
                        support_email=self.support_email,
                        authenticated=auth.authenticated,
                        auto_submitted=_header(message, "Auto-Submitted") or None,
                        message_id=message_id,
                        auth_results=auth.results or auth.reason,
                        reply_gate=self.limits.take_reply,
                    )
                    if parts and result.ticket_number and result.outcome in ("created", "unverified", "appended"):
                        await files.link_mail_files(db, result.ticket_number, sorted_files, sender=sender, now=now)
            except DomainError as exc:
                log.warning("email refused", extra={"sender": sender, "error": exc.detail})
                return "554 5.6.0 Message refused"
            except Exception:
                # The sending server keeps the message and tries again later.
                log.exception("email intake failed", extra={"sender": sender, "message_id": message_id})
                return "451 4.3.0 Temporary failure, please try again later"
            finally:
                # Bytes no row names (a held or ignored mail, a failed transaction) do not stay on disk.
                for sha256 in written:
                    if self.store is not None:
                        await files.forget_unnamed(self.sessions, self.store, sha256)
        # The outcome stays out of the reply: it would tell a stranger which addresses are customers.
        log.debug("email handled", extra={"outcome": result.outcome})
        return "250 2.0.0 OK: message accepted"


class SmtpIntake:
    """The listening SMTP intake server (started and closed with the backend)."""

    def __init__(self, server: asyncio.AbstractServer) -> None:
        self.server = server

    @classmethod
    async def start(cls, *, sessions: async_sessionmaker[AsyncSession], clock: Clock, settings: Settings) -> SmtpIntake:
        handler = IntakeHandler(
            sessions=sessions,
            clock=clock,
            support_email=settings.support_email,
            limits=IntakeLimits(settings),
            authenticator=SenderAuthenticator(
                mode=settings.email_auth,
                authserv_id=settings.email_authserv_id.strip() or settings.support_email.rpartition("@")[2],
                trusted_relays=settings.email_trusted_relays,
                dns_timeout=settings.email_dns_timeout_seconds,
            ),
            store=files.AttachmentStore(settings.var_dir / "attachments"),
            attachment_max_bytes=settings.attachment_max_bytes,
        )
        hostname = handler.domain or "localhost"

        def protocol() -> SMTP:
            return SMTP(
                handler,
                # The text, and attachments up to their limit once base64-encoded (4/3, plus line breaks).
                data_size_limit=MAX_MESSAGE_BYTES + settings.attachment_max_bytes * 14 // 10,
                enable_SMTPUTF8=True,
                hostname=hostname,
                ident="Promptlink Assist SMTP intake",
                timeout=SESSION_TIMEOUT_SECONDS,
            )

        loop = asyncio.get_running_loop()
        host, port = settings.smtp_intake_host, settings.smtp_intake_port
        try:
            server = await loop.create_server(protocol, host=host, port=port, reuse_address=True)
        except OSError as exc:
            raise RuntimeError(
                f"SMTP intake cannot listen on {host}:{port} ({exc}); set PROMPTLINK_SMTP_INTAKE_PORT "
                "or disable it with PROMPTLINK_SMTP_INTAKE_ENABLED=0"
            ) from exc
        log.info(
            "smtp intake listening",
            extra={"host": host, "port": port, "domain": handler.domain, "sender_auth": settings.email_auth},
        )
        return cls(server)

    async def close(self) -> None:
        self.server.close()
        try:
            # Python 3.12+ waits for open sessions here; do not let one hold the shutdown.
            await asyncio.wait_for(self.server.wait_closed(), timeout=5)
        except asyncio.TimeoutError:
            log.warning("smtp intake closed with sessions still open")
