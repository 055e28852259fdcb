"""One-time e-mail codes for anonymous chat visitors: success, wrong codes, locks, expiry, limits."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from promptlink.infra.db import transaction
from promptlink.models import Conversation, OutboxItem, Verification
from promptlink.services import conversations as conv_svc
from promptlink.services import verification as svc
from promptlink.services.errors import InvalidInput, NotFound
from sqlalchemy import select

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
SECRET = "test-session-secret-0123456789-abcdef"
ANA = "ana.gomez@cableandina.example"


async def _conversation(sessions) -> str:
    async with transaction(sessions) as session:
        conversation = await conv_svc.open_conversation(
            session=session, identity=None, conversation_id=None, resume_grant=None
        )
        return conversation.id


async def _start(sessions, cid: str, *, customer="CABLEANDINA", email=ANA, now=NOW) -> None:
    await svc.start_verification(
        sessions=sessions, conversation_id=cid, customer=customer, email=email, secret=SECRET, now=now
    )


async def _confirm(sessions, cid: str, code, *, now=NOW) -> svc.VerifiedContact:
    return await svc.confirm_verification(sessions=sessions, conversation_id=cid, code=code, secret=SECRET, now=now)


async def _mails(sessions, to: str = ANA) -> list[OutboxItem]:
    async with sessions() as session:
        return list(await session.scalars(select(OutboxItem).where(OutboxItem.recipient == to).order_by(OutboxItem.id)))


def _code(mail: OutboxItem) -> str:
    found = re.search(r"es (\d{6})\. Vence en 10 minutos\.", mail.body)
    assert found, mail.body
    return found.group(1)


async def _wrong(sessions, cid: str, right: str, **kw) -> svc.VerificationFailed:
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    with pytest.raises(svc.VerificationFailed) as caught:
        await _confirm(sessions, cid, wrong, **kw)
    return caught.value


async def test_the_code_sent_by_email_verifies_and_the_conversation_becomes_the_contacts(seeded) -> None:
    cid = await _conversation(seeded)
    await _start(seeded, cid, customer="cableandina", email="  Ana.Gomez@CableAndina.example ")
    [mail] = await _mails(seeded)
    assert mail.subject == "Código de verificación de Soporte Técnico Promptlink"
    code = _code(mail)
    assert mail.body.startswith(
        f"Su código de verificación de Soporte Técnico Promptlink es {code}. Vence en 10 minutos."
    )
    async with seeded() as session:
        stored = await session.scalar(select(Verification).where(Verification.conversation_id == cid))
    assert stored.code_hash != code and code not in stored.code_hash  # only the HMAC is kept
    verified = await _confirm(seeded, cid, code, now=NOW + timedelta(minutes=9))
    assert verified == svc.VerifiedContact(ANA, "Ana Gómez", "CABLEANDINA", "Cable Andina S.A.")
    async with seeded() as session:
        conversation = await session.get(Conversation, cid)
        identity = await conv_svc.conversation_identity(session=session, conversation_id=cid)
    assert conversation.contact.email == ANA and conversation.customer.code == "CABLEANDINA"
    assert identity is not None and (identity.email, identity.customer_code) == (ANA, "CABLEANDINA")
    # A retried confirmation answers the same; the visitor's resume grant still opens its conversation.
    assert await _confirm(seeded, cid, code) == verified
    async with transaction(seeded) as session:
        resumed = await conv_svc.open_conversation(
            session=session, identity=None, conversation_id=cid, resume_grant=cid
        )
    assert resumed.id == cid
    with pytest.raises(svc.AlreadyVerified):
        await _start(seeded, cid)


async def test_a_wrong_code_is_counted_and_says_how_many_attempts_are_left(seeded) -> None:
    cid = await _conversation(seeded)
    await _start(seeded, cid)
    code = _code((await _mails(seeded))[0])
    first = await _wrong(seeded, cid, code)
    assert (first.status, first.detail, first.attempts_left) == (422, "wrong code", 4)
    assert first.public == "El código no es correcto. Le quedan 4 intentos."
    assert first.fields() == {"attempts_left": 4}
    assert (await _wrong(seeded, cid, code)).attempts_left == 3
    assert (await _confirm(seeded, cid, f" {code[:3]} {code[3:]} ")).email == ANA  # spaces typed are ignored


async def test_five_wrong_codes_lock_the_code(seeded) -> None:
    cid = await _conversation(seeded)
    await _start(seeded, cid)
    code = _code((await _mails(seeded))[0])
    lefts = [(await _wrong(seeded, cid, code)).attempts_left for _ in range(5)]
    assert lefts == [4, 3, 2, 1, 0]
    with pytest.raises(svc.VerificationFailed) as caught:
        await _confirm(seeded, cid, code)
    assert caught.value.detail == "too many attempts" and caught.value.attempts_left == 0
    assert "Solicite un código nuevo" in caught.value.public
    async with seeded() as session:
        assert (await session.get(Conversation, cid)).contact_id is None
    # A new code can be asked for, and works.
    await _start(seeded, cid, now=NOW + timedelta(minutes=1))
    new_code = _code((await _mails(seeded))[-1])
    assert (await _confirm(seeded, cid, new_code, now=NOW + timedelta(minutes=2))).email == ANA


async def test_a_code_expires_after_ten_minutes(seeded) -> None:
    cid = await _conversation(seeded)
    await _start(seeded, cid)
    code = _code((await _mails(seeded))[0])
    with pytest.raises(svc.VerificationFailed) as caught:
        await _confirm(seeded, cid, code, now=NOW + timedelta(minutes=10))
    assert caught.value.detail == "code expired"
    assert caught.value.public == "El código de verificación venció. Solicite un código nuevo."


async def test_a_new_start_replaces_the_previous_code(seeded) -> None:
    cid = await _conversation(seeded)
    await _start(seeded, cid)
    await _start(seeded, cid, now=NOW + timedelta(seconds=30))
    old, new = (_code(m) for m in await _mails(seeded))
    if old != new:
        with pytest.raises(svc.VerificationFailed):
            await _confirm(seeded, cid, old, now=NOW + timedelta(minutes=1))
    assert (await _confirm(seeded, cid, new, now=NOW + timedelta(minutes=1))).email == ANA


@pytest.mark.parametrize(
    ("customer", "email"),
    [
        ("CABLEANDINA", "nadie@cableandina.example"),  # not a contact
        ("TELECARIBE", ANA),  # a contact of another customer
        ("NOEXISTE", ANA),
    ],
)
async def test_an_unknown_contact_gets_the_same_answer_and_no_mail(seeded, customer, email) -> None:
    cid = await _conversation(seeded)
    assert await _start(seeded, cid, customer=customer, email=email) is None
    async with seeded() as session:
        assert list(await session.scalars(select(OutboxItem))) == []
    # Any code then fails exactly like a wrong code for a real contact.
    failure = await _wrong(seeded, cid, "123456")
    assert (failure.detail, failure.attempts_left) == ("wrong code", 4)


async def test_at_most_three_starts_per_conversation_and_hour(seeded) -> None:
    cid = await _conversation(seeded)
    for minute in range(3):
        await _start(
            seeded, cid, email="nadie@cableandina.example" if minute else ANA, now=NOW + timedelta(minutes=minute)
        )
    with pytest.raises(svc.TooManyCodes) as caught:
        await _start(seeded, cid, now=NOW + timedelta(minutes=30))
    assert caught.value.status == 429 and "demasiados códigos" in caught.value.public
    assert len(await _mails(seeded)) == 1
    other = await _conversation(seeded)
    await _start(seeded, other, now=NOW + timedelta(minutes=30))  # the limit is per conversation
    await _start(seeded, cid, now=NOW + timedelta(hours=1, seconds=1))  # and per hour
    assert len(await _mails(seeded)) == 3


async def test_confirming_before_starting_and_bad_input(seeded) -> None:
    cid = await _conversation(seeded)
    with pytest.raises(svc.VerificationFailed) as caught:
        await _confirm(seeded, cid, "123456")
    assert caught.value.detail == "no verification started" and caught.value.attempts_left is None
    with pytest.raises(NotFound):
        await _start(seeded, "00000000-0000-0000-0000-000000000000")
    with pytest.raises(NotFound):
        await _confirm(seeded, None, "123456")
    with pytest.raises(InvalidInput):
        await _start(seeded, cid, email="")
    with pytest.raises(InvalidInput):
        await _start(seeded, cid, customer=["CABLEANDINA"])
    with pytest.raises(InvalidInput):
        await _confirm(seeded, cid, {"code": "1"})


def test_codes_are_six_digits_and_hashed_per_conversation() -> None:
    codes = {svc.new_code() for _ in range(200)}
    assert all(re.fullmatch(r"\d{6}", c) for c in codes) and len(codes) > 150
    a = svc.code_digest(secret=SECRET, conversation_id="a", code="123456")
    assert a != svc.code_digest(secret=SECRET, conversation_id="b", code="123456")
    assert a != svc.code_digest(secret="other-secret", conversation_id="a", code="123456")
