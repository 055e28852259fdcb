"""SMTP intake against a real backend (issue #13: F9 and the mails part of the abuse run).

F9: the intake believed the `From` header. Now a mail is *authenticated* only by SPF/DKIM/DMARC
(`PROMPTLINK_EMAIL_AUTH=dns`) or by the `Authentication-Results` of a configured trusted relay
(`relay`, used here: the test plays the relay from 127.0.0.1). An unauthenticated mail never
opens a «verified» ticket and never adds to an existing ticket by itself: its text is held
until the address on file answers a confirmation request. Two `From` headers (or two addresses
in one) are refused. Mail is rate-limited per sender and overall (451, a temporary refusal),
and auto-replies to unauthenticated senders are bounded, so the intake cannot be used to spam
arbitrary addresses.
"""

from __future__ import annotations

import base64
import re
import smtplib
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from testkit.demo import DEMO_PASSWORDS, agent_token
from testkit.processes import Running, start_lone_backend
from testkit.waiting import eventually

ANA = "ana.gomez@cableandina.example"
SUPPORT = "soporte@promptlink.example"
AUTHSERV = "mx.promptlink.example"
PASS = (
    f"{AUTHSERV}; spf=pass smtp.mailfrom=cableandina.example; dkim=pass header.d=cableandina.example; "
    "dmarc=pass header.from=cableandina.example"
)
BURST = 40


@pytest.fixture(scope="module")
def relay_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """Behind a trusted relay (this test, on 127.0.0.1) that writes Authentication-Results."""
    running = start_lone_backend(
        tmp_path_factory.mktemp("security-email-relay"),
        PROMPTLINK_EMAIL_AUTH="relay",
        PROMPTLINK_EMAIL_TRUSTED_RELAYS='["127.0.0.1/32"]',
        PROMPTLINK_EMAIL_AUTHSERV_ID=AUTHSERV,
        # Many mails «from Ana» in a few seconds: these tests are about authentication, not limits.
        PROMPTLINK_EMAIL_RATE_PER_SENDER="200/minute",
        PROMPTLINK_EMAIL_RATE_GLOBAL="500/minute",
        PROMPTLINK_EMAIL_UNAUTHENTICATED_REPLIES_PER_RECIPIENT="200/hour",
        PROMPTLINK_EMAIL_UNAUTHENTICATED_REPLIES_GLOBAL="500/hour",
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def default_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """The shipped configuration (no sender authentication, default limits), alone for the burst."""
    running = start_lone_backend(tmp_path_factory.mktemp("security-email-default"))
    yield running
    running.stop()


def _staff(backend: Running) -> dict[str, str]:
    email = "supervisor@promptlink.example"
    return {"Authorization": f"Bearer {agent_token(backend.base_url, email, DEMO_PASSWORDS[email])}"}


def _mail(sender: str, subject: str, body: str, *, results: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Remitente <{sender}>"
    message["To"] = SUPPORT
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4().hex}@cliente.example>"
    if results is not None:
        message["Authentication-Results"] = results
    message.set_content(body)
    return message


def _smtp(backend: Running, source: str = "127.0.0.1") -> smtplib.SMTP:
    port = int(backend.env["PROMPTLINK_SMTP_INTAKE_PORT"])
    return smtplib.SMTP("127.0.0.1", port, timeout=10, source_address=(source, 0))


def _send(backend: Running, message: EmailMessage | bytes, *, source: str = "127.0.0.1") -> int:
    """Deliver one message; the SMTP code of the final answer (250, or the refusal)."""
    try:
        with _smtp(backend, source) as smtp:
            if isinstance(message, bytes):
                smtp.sendmail(ANA, [SUPPORT], message)
            else:
                smtp.send_message(message)
    except smtplib.SMTPSenderRefused as exc:
        return exc.smtp_code
    except smtplib.SMTPDataError as exc:
        return exc.smtp_code
    return 250


def _tickets(backend: Running, headers: dict[str, str], q: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{backend.base_url}/api/v1/tickets", params={"q": q, "limit": 200}, headers=headers, timeout=10
    )
    response.raise_for_status()
    return response.json()["items"]  # type: ignore[no-any-return]


def _ticket(backend: Running, headers: dict[str, str], subject: str) -> dict[str, Any]:
    return eventually(lambda: _tickets(backend, headers, subject), f"a ticket titled {subject!r}")[0]  # type: ignore[no-any-return]


def _detail(backend: Running, headers: dict[str, str], number: str) -> dict[str, Any]:
    response = httpx.get(f"{backend.base_url}/api/v1/tickets/{number}", headers=headers, timeout=10)
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


def _mailbox(backend: Running, to: str | None = None) -> list[dict[str, Any]]:
    params = {"to": to} if to else {}
    response = httpx.get(f"{backend.base_url}/demo/api/mailbox", params=params, timeout=10)
    response.raise_for_status()
    return response.json()["items"]  # type: ignore[no-any-return]


def _unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:10]}"


def _anas_verified_ticket(backend: Running, headers: dict[str, str]) -> str:
    subject = _unique("Caída del nodo")
    assert _send(backend, _mail(ANA, subject, "Texto de Ana.", results=PASS)) == 250
    ticket = _ticket(backend, headers, subject)
    assert (ticket["verified"], ticket["customer"], ticket["contact"]) == (True, "CABLEANDINA", ANA)
    return str(ticket["number"])


def test_an_authenticated_mail_opens_a_verified_ticket_and_a_reply_is_added(relay_backend: Running) -> None:
    headers = _staff(relay_backend)
    number = _anas_verified_ticket(relay_backend, headers)
    assert _send(relay_backend, _mail(ANA, f"Re: [{number}]", "Sigue caído.", results=PASS)) == 250
    messages = eventually(
        lambda: [e for e in _detail(relay_backend, headers, number)["history"] if e["kind"] == "customer_message"],
        "the reply in the history",
    )
    assert [m["text"] for m in messages] == ["Sigue caído."]


@pytest.mark.parametrize(
    ("results", "source"),
    [
        (None, "127.0.0.1"),  # no results at all (the probe's spoof)
        (PASS.replace(AUTHSERV, "mx.atacante.example"), "127.0.0.1"),  # someone else's authserv-id
        (PASS, "127.0.0.2"),  # the right header, but not from the trusted relay
        (PASS.replace("header.from=cableandina.example", "header.from=atacante.example"), "127.0.0.1"),
        (f"{AUTHSERV}; spf=fail smtp.mailfrom=cableandina.example; dkim=none; dmarc=fail", "127.0.0.1"),
    ],
    ids=["no-results", "other-authserv", "untrusted-peer", "other-domain", "dmarc-fail"],
)
def test_a_spoofed_from_is_never_verified_and_appends_nothing(
    relay_backend: Running, results: str | None, source: str
) -> None:
    headers = _staff(relay_backend)
    number = _anas_verified_ticket(relay_backend, headers)
    before = _detail(relay_backend, headers, number)

    # A new mail «from Ana»: an unverified ticket for Level 1, not one of Cable Andina's.
    subject = _unique("Cambien el contacto de facturación")
    assert _send(relay_backend, _mail(ANA, subject, "Impostor.", results=results), source=source) == 250
    forged = _ticket(relay_backend, headers, subject)
    assert (forged["verified"], forged["customer"], forged["tier"]) == (False, None, "L1")

    # A reply «from Ana» citing her ticket: nothing is added; the text waits, internal only.
    held_text = f"Texto del impostor {uuid.uuid4().hex[:6]}"
    assert _send(relay_backend, _mail(ANA, f"Re: [{number}]", held_text, results=results), source=source) == 250
    held = eventually(
        lambda: [e for e in _detail(relay_backend, headers, number)["history"] if e["kind"] == "email_held"],
        "the held mail",
    )
    assert held[0]["public"] is False and held[0]["data"]["text"] == held_text
    after = _detail(relay_backend, headers, number)
    assert [e for e in after["history"] if e["kind"] == "customer_message"] == []
    assert after["updated_at"] == before["updated_at"] and after["status"] == before["status"]


def test_a_held_mail_is_added_only_when_the_contact_answers_the_confirmation(relay_backend: Running) -> None:
    headers = _staff(relay_backend)
    number = _anas_verified_ticket(relay_backend, headers)
    assert _send(relay_backend, _mail(ANA, f"Re: [{number}] más datos", "Adjunto el registro.")) == 250
    # Ana (the address on file) is asked to confirm; the request quotes nothing of the held mail.
    request = eventually(
        lambda: [m for m in _mailbox(relay_backend, ANA) if number in m["subject"] and "Confirme" in m["subject"]],
        "the confirmation request",
    )[0]
    assert re.search(r"CONF-[A-Z2-7]{16}", request["subject"]) is not None
    assert "Adjunto el registro" not in request["body"] + request["subject"]

    def added() -> list[dict[str, Any]]:
        return [e for e in _detail(relay_backend, headers, number)["history"] if e["kind"] == "customer_message"]

    # A guessed code, or the right code from someone else, adds nothing.
    wrong = f"Re: [{number}] Confirme su mensaje CONF-{'A' * 16}"
    assert _send(relay_backend, _mail(ANA, wrong, "> cita")) == 250
    other = f"Re: {request['subject']}"
    assert _send(relay_backend, _mail("luis.perez@cableandina.example", other, "> cita")) == 250
    time.sleep(1)
    assert added() == []
    # Ana answers the request (unauthenticated still: the code is the proof).
    assert _send(relay_backend, _mail(ANA, f"Re: {request['subject']}", "> cita")) == 250
    (message,) = eventually(added, "the confirmed text")
    assert message["text"] == "Adjunto el registro." and message["author"] == ANA
    # The code works once.
    assert _send(relay_backend, _mail(ANA, f"Re: {request['subject']}", "> cita")) == 250
    time.sleep(1)
    assert len(added()) == 1


@pytest.mark.parametrize(
    "raw",
    [
        b"From: Ana <ana.gomez@cableandina.example>\r\nFrom: Mala <mala@atacante.example>\r\n",
        b"From: Mala <mala@atacante.example>\r\nFrom: Ana <ana.gomez@cableandina.example>\r\n",
        b"From: ana.gomez@cableandina.example, mala@atacante.example\r\n",
    ],
    ids=["ana-first", "ana-second", "two-addresses"],
)
def test_more_than_one_from_is_refused(relay_backend: Running, raw: bytes) -> None:
    subject = _unique("Doble remitente")
    message = (
        raw + f"To: {SUPPORT}\r\nSubject: {subject}\r\n{'Authentication-Results: ' + PASS}\r\n\r\nHola\r\n".encode()
    )
    assert _send(relay_backend, message) == 550
    time.sleep(0.5)
    assert _tickets(relay_backend, _staff(relay_backend), subject) == []


def test_dkim_signed_mail_is_authenticated_by_the_intakes_own_check() -> None:
    """`PROMPTLINK_EMAIL_AUTH=dns`: dkimpy signs with a generated key; the key record is given
    through the lookup hook (no network). A changed body, or no DMARC alignment, fails."""
    import asyncio
    from email import message_from_bytes, policy

    import dkim
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from promptlink.transports.smtp.authentication import SenderAuthenticator

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    records = {
        "sel._domainkey.cableandina.example": "v=DKIM1; k=rsa; p=" + base64.b64encode(public).decode(),
        "_dmarc.cableandina.example": "v=DMARC1; p=reject",
    }
    body = f"From: Ana <{ANA}>\r\nTo: {SUPPORT}\r\nSubject: Firmado\r\n\r\nHola\r\n".encode()
    signed = dkim.sign(body, b"sel", b"cableandina.example", private, include_headers=[b"from", b"to", b"subject"])
    auth = SenderAuthenticator(mode="dns", authserv_id="promptlink.example", dns_timeout=1, txt=records.get)

    def check(raw: bytes, author: str = ANA) -> bool:
        message = message_from_bytes(raw, policy=policy.default)
        verdict = asyncio.run(
            auth.check(raw=raw, message=message, author=author, peer_ip=None, mail_from=author, helo="mx")
        )
        return verdict.authenticated

    assert check(signed + body)
    assert not check(signed + body.replace(b"Hola", b"Adios"))  # altered after signing
    assert not check(body)  # not signed
    forged = signed + body.replace(ANA.encode(), b"ana@telecaribe.example")
    assert not check(forged, "ana@telecaribe.example")  # the signature's domain is not the From's


def test_a_burst_of_mails_gives_bounded_tickets_and_auto_replies(default_backend: Running) -> None:
    """The probe's run: 40 mails from 40 addresses in well under a second, plus one sender repeating."""
    headers = _staff(default_backend)
    tag = uuid.uuid4().hex[:8]
    repeated = [
        _send(default_backend, _mail(f"repite-{tag}@isp.example", f"rafaga-{tag} r{i}", "x")) for i in range(12)
    ]
    assert repeated.count(250) == 10 and set(repeated[10:]) == {451}  # 10/minute per sender

    def one(i: int) -> int:
        return _send(default_backend, _mail(f"victima{i}-{tag}@isp.example", f"rafaga-{tag} v{i}", "x"))

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(one, range(BURST)))
    elapsed = time.monotonic() - started
    assert set(codes) <= {250, 451}
    assert codes.count(250) <= 10, codes  # 20/minute overall, 10 of which the repeated sender used
    assert codes.count(451) >= BURST - 10
    time.sleep(2)  # the outbox worker delivers to the demo mailbox every 0.2 s
    tickets = _tickets(default_backend, headers, f"rafaga-{tag}")
    assert len(tickets) <= 20 and all(t["verified"] is False for t in tickets)
    replies = [m for m in _mailbox(default_backend) if tag in m["recipient"]]
    assert len(replies) <= 10  # auto-replies to unauthenticated senders: 10 per hour overall
    print(f"burst: {codes.count(250)} accepted, {codes.count(451)} refused in {elapsed:.2f} s; {len(replies)} replies")
