from __future__ import annotations

import asyncio

import pytest
from promptlink.infra.db import transaction
from promptlink.models import Contact
from promptlink.services import conversations as svc
from promptlink.services.errors import InvalidInput
from promptlink.services.identity import WidgetIdentity
from sqlalchemy import select


async def _identity(sessions, email: str) -> WidgetIdentity:
    async with sessions() as session:
        c = await session.scalar(select(Contact).where(Contact.email == email))
        return WidgetIdentity(c.id, c.email, c.name, c.customer_id, c.customer.code, c.customer.name)


async def _open(sessions, identity=None, conversation_id=None, grant=None):
    async with transaction(sessions) as session:
        return await svc.open_conversation(
            session=session, identity=identity, conversation_id=conversation_id, resume_grant=grant
        )


async def _append(sessions, cid: str, text: str, **kw):
    async with transaction(sessions) as session:
        return await svc.append_message(
            session=session, conversation_id=cid, role=kw.pop("role", "customer"), text=text, **kw
        )


async def test_messages_get_consecutive_seq_and_replay_in_order(seeded) -> None:
    conv = await _open(seeded)
    for i in range(5):
        appended = await _append(seeded, conv.id, f"m{i}", client_msg_id=f"c{i}")
        assert appended.created and appended.message.seq == i + 1
    async with seeded() as session:
        after = await svc.messages_after(session=session, conversation_id=conv.id, last_seq=2)
    assert [(m.seq, m.text) for m in after] == [(3, "m2"), (4, "m3"), (5, "m4")]


async def test_a_repeated_client_msg_id_is_stored_once(seeded) -> None:
    conv = await _open(seeded)
    first = await _append(seeded, conv.id, "hola", client_msg_id="same")
    again = await _append(seeded, conv.id, "hola", client_msg_id="same")
    assert again.created is False and again.message.seq == first.message.seq
    nxt = await _append(seeded, conv.id, "bot", role="bot")
    assert nxt.message.seq == 2  # no gap left by the duplicate


async def test_concurrent_appends_never_share_a_seq(seeded) -> None:
    conv = await _open(seeded)
    results = await asyncio.gather(*(_append(seeded, conv.id, f"x{i}", client_msg_id=f"k{i}") for i in range(20)))
    assert sorted(r.message.seq for r in results) == list(range(1, 21))


async def test_a_contact_resumes_only_its_own_conversation(seeded) -> None:
    ana = await _identity(seeded, "ana.gomez@cableandina.example")
    luis = await _identity(seeded, "luis.perez@cableandina.example")
    conv = await _open(seeded, ana)
    assert (await _open(seeded, ana, conv.id)).id == conv.id
    stolen = await _open(seeded, luis, conv.id)
    assert stolen.id != conv.id and stolen.contact_id == luis.contact_id
    # An anonymous visitor cannot take it either, even with a grant for another id.
    assert (await _open(seeded, None, conv.id, grant="other")).id != conv.id


async def test_an_anonymous_visitor_resumes_with_its_grant(seeded) -> None:
    conv = await _open(seeded)
    assert (await _open(seeded, None, conv.id, grant=conv.id)).id == conv.id
    assert (await _open(seeded, None, conv.id, grant=None)).id != conv.id


@pytest.mark.parametrize(
    ("text", "public"), [("", "vacío"), ("   ", "vacío"), ("x" * 2001, "demasiado largo"), (42, "no es válido")]
)
def test_customer_text_is_validated_in_spanish(text, public) -> None:
    with pytest.raises(InvalidInput) as caught:
        svc.validate_customer_text(text, max_chars=2000)
    assert public in caught.value.public


async def test_bad_client_msg_id_is_refused_and_nothing_is_stored(seeded) -> None:
    conv = await _open(seeded)
    with pytest.raises(InvalidInput):
        await _append(seeded, conv.id, "hola", client_msg_id="x" * 65)
    async with seeded() as session:
        assert await svc.messages_after(session=session, conversation_id=conv.id, last_seq=0) == []
