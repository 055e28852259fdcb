"""The outbox sender against a real SMTP relay (an aiosmtpd sink), outside demo mode."""

from __future__ import annotations

import asyncio
import html
import json
import smtplib
import sqlite3
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from functools import partial

import httpx
import pytest
from aiosmtpd.controller import Controller

from testkit.processes import Running, free_port, start_lone_backend
from testkit.smtp_sink import Sink, start_sink
from testkit.waiting import eventually

SUPPORT = "soporte@promptlink.example"
SECRETS = {
    f"PROMPTLINK_{name}": f"{name.lower()}-for-the-relay-test-{uuid.uuid4().hex}"
    for name in (
        "WIDGET_SECRET",
        "SESSION_SECRET",
        "SERVICE_TOKEN",
        "RASA_TOKEN",
        "RASA_CHANNEL_TOKEN",
        "ACTIONS_TOKEN",
    )
}
_eventually = partial(eventually, timeout=30)  # the relay's retries back off: longer than the usual 15 s


class Relay:
    def __init__(self, backend: Running, port: int) -> None:
        self.backend, self.port = backend, port

    def start_sink(self) -> tuple[Sink, Controller]:
        return start_sink(self.port)

    def outbox(self, subject_part: str) -> list[tuple[str, int, str]]:
        """(state, attempts, delivered via) of the e-mails whose subject contains `subject_part`."""
        db = sqlite3.connect(f"file:{self.backend.var_dir / 'promptlink.db'}?mode=ro", uri=True, timeout=10)
        try:
            rows = db.execute(
                "SELECT state, attempts, headers FROM outbox WHERE kind = 'email' AND subject LIKE ?",
                (f"%{subject_part}%",),
            ).fetchall()
        finally:
            db.close()
        return [
            (state, attempts, json.loads(headers or "{}").get("X-Delivered-Via", ""))
            for state, attempts, headers in rows
        ]


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Relay]:
    """A backend outside demo mode whose outbox goes to an SMTP relay on a free port."""
    port = free_port()
    backend = start_lone_backend(
        tmp_path_factory.mktemp("relay"),
        PROMPTLINK_DEMO="0",
        PROMPTLINK_SMTP_RELAY_HOST="127.0.0.1",
        PROMPTLINK_SMTP_RELAY_PORT=str(port),
        # Inbound mail as in production: authenticated by the MX in front (this test, on 127.0.0.1).
        PROMPTLINK_EMAIL_AUTH="relay",
        PROMPTLINK_EMAIL_TRUSTED_RELAYS='["127.0.0.1"]',
        PROMPTLINK_EMAIL_AUTHSERV_ID="mx.promptlink.example",
        **SECRETS,
    )
    yield Relay(backend, port)
    backend.stop()


def _write_to_support(backend: Running, sender: str, subject: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, SUPPORT, subject
    domain = sender.rpartition("@")[2]
    message["Authentication-Results"] = f"mx.promptlink.example; dmarc=pass header.from={domain}"
    message.set_content("El equipo no responde.")
    with smtplib.SMTP("127.0.0.1", int(backend.env["PROMPTLINK_SMTP_INTAKE_PORT"]), timeout=10) as smtp:
        smtp.send_message(message)


def test_the_acknowledgement_email_reaches_the_relay_over_smtp(relay: Relay) -> None:
    subject = f"Relay directo {uuid.uuid4().hex[:8]}"
    sink, controller = relay.start_sink()
    try:
        _write_to_support(relay.backend, "ana.gomez@cableandina.example", subject)
        (mail,) = _eventually(lambda: [m for m in sink.messages if subject in str(m["Subject"])], "the relayed mail")
    finally:
        controller.stop()
    assert str(mail["From"]) == SUPPORT and str(mail["To"]) == "ana.gomez@cableandina.example"
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert body.startswith("Hemos registrado su tiquete PL-") and subject in body
    assert relay.outbox(subject) == [("sent", 1, "smtp")]


def test_an_email_is_retried_while_the_relay_is_down_and_delivered_when_it_is_back(relay: Relay) -> None:
    subject = f"Relay caído {uuid.uuid4().hex[:8]}"
    _write_to_support(relay.backend, "luis.perez@cableandina.example", subject)
    # Connection refused: the item stays pending and is tried again after a back-off.
    _eventually(lambda: [r for r in relay.outbox(subject) if r[0] == "pending" and r[1] > 1], "a second attempt")
    sink, controller = relay.start_sink()
    try:
        _eventually(lambda: [m for m in sink.messages if subject in str(m["Subject"])], "the delayed mail")
    finally:
        controller.stop()
    # The relay accepts the mail before the worker records it as sent: wait for the record.
    _eventually(lambda: [r for r in relay.outbox(subject) if r[0] == "sent"], "the outbox row marked sent")
    ((state, attempts, via),) = relay.outbox(subject)
    assert state == "sent" and attempts > 2 and via == "smtp"


def test_the_demo_mailbox_is_not_served_outside_demo_mode(relay: Relay) -> None:
    for path in ("/demo/mailbox", "/demo/api/mailbox"):
        assert httpx.get(relay.backend.base_url + path, timeout=10).status_code == 404, path


def test_a_chat_transcript_asked_for_in_the_widget_reaches_the_relay_over_smtp(relay: Relay) -> None:
    """Issue #15: the customer ends the chat and asks for it by e-mail: a text and an HTML part, once a minute."""
    from promptlink.services.identity import issue_widget_token

    from testkit.live_clients import Customer

    token = issue_widget_token(
        secret=SECRETS["PROMPTLINK_WIDGET_SECRET"],
        email="luis.perez@cableandina.example",
        customer="CABLEANDINA",
        name="Luis Pérez",
    )
    marker = f"<i>equipo {uuid.uuid4().hex[:8]}</i>"

    async def chat() -> tuple[dict, dict, dict]:
        customer = await Customer(relay.backend.base_url, token).connect()
        try:
            before = await customer.emit("transcript", {})
            await customer.send(f"El {marker} no arranca")
            await customer.emit("end", {})
            sent = await customer.emit("transcript", {"email": "otro@example.com"})
            again = await customer.emit("transcript", {})
            return before, sent, again
        finally:
            await customer.close()

    sink, controller = relay.start_sink()
    try:
        before, sent, again = asyncio.run(chat())
        assert before == {"error": "Podrá recibir la conversación por correo cuando haya terminado."}
        assert sent == {"sent": True, "to": "luis.perez@cableandina.example"}
        assert again["error"].startswith("Ya le enviamos la conversación hace un momento.")
        (mail,) = _eventually(
            lambda: [m for m in sink.messages if "su conversación" in str(m["Subject"]) and marker in str(m)],
            "the relayed transcript",
        )
    finally:
        controller.stop()
    assert str(mail["To"]) == "luis.perez@cableandina.example"
    text = mail.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    page = mail.get_body(preferencelist=("html",)).get_content()
    assert f"Usted:\n  El {marker} no arranca" in text
    assert html.escape(marker) in page and marker not in page
