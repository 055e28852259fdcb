"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1): the backend's outbound relay
(PROMPTLINK_SMTP_RELAY_HOST / _PORT) hands it every e-mail over SMTP and it keeps them."""

from __future__ import annotations

from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True)
class Received:
    """One SMTP transaction: the envelope and the bytes of the message as they came."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class Sink:
    """The relay: keeps every message it is given (aiosmtpd's thread appends, the test reads)."""

    def __init__(self) -> None:
        self.received: list[Received] = []

    @property
    def messages(self) -> list[EmailMessage]:
        return [r.message for r in list(self.received)]

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        self.received.append(
            Received(str(envelope.mail_from), tuple(envelope.rcpt_tos), bytes(envelope.original_content or b""))
        )
        return "250 2.0.0 OK"


def start_sink(port: int) -> tuple[Sink, Controller]:
    """An SMTP server on 127.0.0.1:`port`, accepting; the caller stops the controller."""
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    return sink, controller
