"""SMTP intake: customers write to soporte@… and the mail becomes (part of) a ticket.

An aiosmtpd server on the backend's own event loop. It only translates: SMTP envelope
and MIME message in, `services.email_intake.receive_email` decides. Bounds: 1 MB per
message, 10 recipients, mail for the support domain only (no open relay), 10,000
characters of plain text (HTML is reduced to its text; nothing of it is kept).

Try it (backend running, demo mode):

    curl --url smtp://127.0.0.1:2525 --mail-from ana.gomez@cableandina.example \
         --mail-rcpt soporte@promptlink.example --upload-file mail.txt
"""

from __future__ import annotations

import asyncio
import email
import logging
import re
from email import policy
from email.message import EmailMessage, Message
from html.parser import HTMLParser
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .clock import Clock
from .db import transaction
from .services.email_intake import receive_email, sender_address
from .services.errors import DomainError
from .settings import Settings

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


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except (IndexError, ValueError, TypeError):  # a malformed header the parser could not fold
        return ""
    return _CONTROL.sub(" ", str(value)).strip() if value is not None else ""


def author_of(message: Message, envelope_from: str) -> str:
    """The From address (who the reply goes to); the envelope sender when there is none."""
    try:
        header: Any = message.get("From")
        addresses = getattr(header, "addresses", ())
        if addresses and addresses[0].addr_spec and "@" in addresses[0].addr_spec:
            return sender_address(addresses[0].addr_spec)
    except (IndexError, ValueError, TypeError):
        pass
    return sender_address(envelope_from)


class IntakeHandler:
    """aiosmtpd handler: accept recipients of the support domain, hand each message to the service."""

    def __init__(self, *, sessions: async_sessionmaker[AsyncSession], clock: Clock, support_email: str) -> None:
        self.sessions, self.clock, self.support_email = sessions, clock, support_email
        self.domain = support_email.rpartition("@")[2].lower()

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
            sender = author_of(message, envelope_from)
            subject = _header(message, "Subject")
            body = message_text(message)
        except Exception:
            log.exception("email could not be parsed", extra={"mail_from": envelope_from[:254], "bytes": len(raw)})
            return "554 5.6.0 Message could not be parsed"
        message_id = _header(message, "Message-ID")
        if sender_address(envelope_from) == "":
            # A null reverse-path is a delivery report (RFC 5321 §4.5.5): never answer it.
            log.info(
                "email received",
                extra={"outcome": "ignored", "reason": "null reverse-path", "sender": sender, "message_id": message_id},
            )
            return "250 2.0.0 OK"
        try:
            async with transaction(self.sessions) as db:
                result = await receive_email(
                    session=db,
                    sender=sender,
                    subject=subject,
                    body=body,
                    now=self.clock.now(),
                    support_email=self.support_email,
                    auto_submitted=_header(message, "Auto-Submitted") or None,
                    message_id=message_id,
                )
        except DomainError as exc:
            log.warning("email refused", extra={"sender": sender, "error": exc.detail})
            return "554 5.6.0 Message refused"
        except Exception:
            # The sending server keeps the message and tries again later.
            log.exception("email intake failed", extra={"sender": sender, "message_id": message_id})
            return "451 4.3.0 Temporary failure, please try again later"
        # The outcome stays out of the reply: it would tell a stranger which addresses are customers.
        log.debug("email handled", extra={"outcome": result.outcome})
        return "250 2.0.0 OK: message accepted"


class SmtpIntake:
    """The listening SMTP intake server (started and closed with the backend)."""

    def __init__(self, server: asyncio.AbstractServer) -> None:
        self.server = server

    @classmethod
    async def start(cls, *, sessions: async_sessionmaker[AsyncSession], clock: Clock, settings: Settings) -> SmtpIntake:
        handler = IntakeHandler(sessions=sessions, clock=clock, support_email=settings.support_email)
        hostname = handler.domain or "localhost"

        def protocol() -> SMTP:
            return SMTP(
                handler,
                data_size_limit=MAX_MESSAGE_BYTES,
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
        log.info("smtp intake listening", extra={"host": host, "port": port, "domain": handler.domain})
        return cls(server)

    async def close(self) -> None:
        self.server.close()
        try:
            # Python 3.12+ waits for open sessions here; do not let one hold the shutdown.
            await asyncio.wait_for(self.server.wait_closed(), timeout=5)
        except asyncio.TimeoutError:
            log.warning("smtp intake closed with sessions still open")
