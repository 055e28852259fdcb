"""Agents' replies, written in batches (SQLite: on the writer thread; PostgreSQL: run_sync)."""

from __future__ import annotations

import asyncio

import pytest
from promptlink.chat.reply_writer import ReplyWriter
from promptlink.infra.db import transaction
from promptlink.models import Agent, Conversation, Message
from promptlink.services import agent_chat as svc
from promptlink.services.auth import Principal
from promptlink.services.errors import InvalidInput, NotFound
from sqlalchemy import select, update

from tests.backend.chat.data import NOW, anas_conversation, hand_off, staff


async def _claimed(sessions, principal: Principal | None) -> str:
    """A conversation of Ana's queued to L1 and, when `principal` is given, claimed by them."""
    cid = await anas_conversation(sessions, first="hola")
    await hand_off(sessions, cid)
    if principal is not None:
        async with transaction(sessions) as session:
            await svc.claim(session=session, conversation_id=cid, principal=principal, now=NOW)
    return cid


async def _stored(sessions, cid: str) -> list[Message]:
    async with sessions() as session:
        return list(await session.scalars(select(Message).where(Message.conversation_id == cid).order_by(Message.seq)))


@pytest.fixture
async def writer(seeded):
    replies = ReplyWriter(seeded)
    yield replies
    replies.close()


async def test_replies_come_from_the_assigned_agent_once(seeded, writer) -> None:
    laura = await staff(seeded, "l1@promptlink.example")
    supervisor = await staff(seeded, "supervisor@promptlink.example")
    diego = await staff(seeded, "l2@promptlink.example")
    cid = await _claimed(seeded, None)

    async def reply(who: Principal, text: object, client_msg_id: object, conversation_id: str = cid):
        return await writer.submit(
            principal=who, conversation_id=conversation_id, text=text, client_msg_id=client_msg_id, max_chars=2000
        )

    with pytest.raises(svc.LiveChatRefused):  # still queued: nobody replies yet
        await reply(laura, "hola", "a1")
    async with transaction(seeded) as session:
        await svc.claim(session=session, conversation_id=cid, principal=laura, now=NOW)
    message, created = await reply(laura, " Buenas tardes ", "a1")
    assert created and (message.role, message.text, message.author_name) == (
        "agent",
        "Buenas tardes",
        "Laura Nivel Uno",
    )
    assert message.to_event()["seq"] == message.seq
    repeat, created = await reply(laura, "Buenas tardes", "a1")
    assert not created and (repeat.seq, repeat.id) == (message.seq, message.id)
    with pytest.raises(svc.NotYours):
        await reply(diego, "x", "d1")
    supervised, created = await reply(supervisor, "Apoyo", "s1")
    assert created and supervised.author_name == "Carlos Supervisor" and supervised.seq == message.seq + 1
    for text, client_msg_id in (("x" * 2001, "a2"), ("   ", "a3"), (42, "a4"), ("ok", "x" * 65), ("ok", 7)):
        with pytest.raises(InvalidInput):
            await reply(laura, text, client_msg_id)
    with pytest.raises(NotFound):
        await reply(laura, "hola", "a5", conversation_id="no-such-conversation")
    stored = await _stored(seeded, cid)
    assert [(m.role, m.text) for m in stored if m.role != "system"] == [
        ("customer", "hola"),
        ("agent", "Buenas tardes"),
        ("agent", "Apoyo"),
    ]
    assert [m.seq for m in stored] == list(range(1, len(stored) + 1))


async def test_replies_sent_together_share_transactions_and_each_is_stored_once(seeded, writer) -> None:
    laura = await staff(seeded, "l1@promptlink.example")
    diego = await staff(seeded, "l2@promptlink.example")
    async with transaction(seeded) as session:
        await session.execute(update(Agent).where(Agent.id == laura.agent_id).values(capacity=10))
    chats = [await _claimed(seeded, laura) for _ in range(3)]
    before = writer.batches
    sends = [
        writer.submit(principal=laura, conversation_id=cid, text=f"r{n}", client_msg_id=f"{cid}-{n}", max_chars=2000)
        for n in range(20)
        for cid in chats
    ]
    # A resend of one of them, and one reply that is refused, in the same burst.
    sends.append(
        writer.submit(principal=laura, conversation_id=chats[0], text="r0", client_msg_id=f"{chats[0]}-0", max_chars=9)
    )
    sends.append(writer.submit(principal=diego, conversation_id=chats[1], text="no", client_msg_id="d", max_chars=9))
    results = await asyncio.gather(*sends, return_exceptions=True)
    assert isinstance(results[-1], svc.NotYours)
    resent, created = results[-2]
    assert not created
    created_count = sum(1 for r in results[:-2] if r[1])
    assert created_count == 60
    assert writer.batches - before < 10  # 62 replies in a handful of transactions, not 62
    for cid in chats:
        stored = [m for m in await _stored(seeded, cid) if m.role == "agent"]
        assert [m.text for m in stored] == [f"r{n}" for n in range(20)]  # in the order sent, each once
    first = next(m for m in await _stored(seeded, chats[0]) if m.client_msg_id == f"{chats[0]}-0")
    assert resent.id == first.id


# --------------------------------------------------------------------------- customers' messages and assistant turns


async def test_customer_messages_take_the_next_seq_once_and_tell_the_mode(seeded, writer) -> None:
    cid = await anas_conversation(seeded)
    before = len(await _stored(seeded, cid))
    batches = writer.batches
    first, second, resent = await asyncio.gather(
        writer.submit_customer(conversation_id=cid, text="hola", client_msg_id="m-1", payload=None),
        writer.submit_customer(conversation_id=cid, text="Sí", client_msg_id="m-2", payload="/affirm"),
        writer.submit_customer(conversation_id=cid, text="hola", client_msg_id="m-1", payload=None),
    )
    assert (first[1], second[1], resent[1]) == (True, True, False)
    assert first[2] == second[2] == resent[2] == "bot"
    assert resent[0].id == first[0].id  # a resend is acknowledged with the stored message
    assert second[0].seq == first[0].seq + 1
    assert writer.batches - batches <= 2  # together, not one transaction each

    stored = await _stored(seeded, cid)
    assert [(m.role, m.text, m.payload, m.client_msg_id) for m in stored[before:]] == [
        ("customer", "hola", None, "m-1"),
        ("customer", "Sí", "/affirm", "m-2"),
    ]
    assert [m.seq for m in stored] == list(range(1, len(stored) + 1))


async def test_bad_customer_messages_are_refused_and_store_nothing(seeded, writer) -> None:
    cid = await anas_conversation(seeded)
    before = await _stored(seeded, cid)
    for client_msg_id, payload in (("", None), ("x" * 65, None), (7, None), (None, "p" * 501), (None, 3)):
        with pytest.raises(InvalidInput) as refused:
            await writer.submit_customer(conversation_id=cid, text="hola", client_msg_id=client_msg_id, payload=payload)
        assert refused.value.public == "El mensaje no es válido."
    with pytest.raises(NotFound) as missing:
        await writer.submit_customer(
            conversation_id="no-such-conversation", text="hola", client_msg_id=None, payload=None
        )
    assert missing.value.public == "La conversación no existe."
    assert len(await _stored(seeded, cid)) == len(before)


async def test_a_closed_conversation_is_left_to_the_caller(seeded, writer) -> None:
    cid = await anas_conversation(seeded)
    async with transaction(seeded) as session:
        await session.execute(update(Conversation).where(Conversation.id == cid).values(mode="closed"))
    before = await _stored(seeded, cid)
    assert await writer.submit_customer(conversation_id=cid, text="hola", client_msg_id="c-1", payload=None) == (
        None,
        False,
        "closed",
    )
    assert len(await _stored(seeded, cid)) == len(before)


async def test_an_assistant_turn_stores_the_parse_and_the_replies_in_order(seeded, writer) -> None:
    cid = await anas_conversation(seeded)
    asked, _, _ = await writer.submit_customer(
        conversation_id=cid, text="¿prioridades?", client_msg_id=None, payload=None
    )
    buttons = [{"title": "Sí, con una persona", "payload": "/request_human"}]
    replies = await writer.submit_bot_turn(
        conversation_id=cid,
        message_id=asked.id,
        intent="ask_priority_levels",
        confidence=0.97,
        replies=[("Clasificamos los problemas en cuatro prioridades.", None), ("¿Algo más?", buttons)],
    )
    assert [(m.role, m.seq) for m in replies] == [("bot", asked.seq + 1), ("bot", asked.seq + 2)]
    assert replies[1].to_event()["buttons"] == buttons

    stored = await _stored(seeded, cid)
    assert (stored[-3].id, stored[-3].intent, stored[-3].confidence) == (asked.id, "ask_priority_levels", 0.97)
    assert [(m.role, m.text, m.buttons) for m in stored[-2:]] == [
        ("bot", "Clasificamos los problemas en cuatro prioridades.", None),
        ("bot", "¿Algo más?", buttons),
    ]
    assert [m.id for m in stored[-2:]] == [m.id for m in replies]

    with pytest.raises(NotFound):
        await writer.submit_bot_turn(
            conversation_id="no-such-conversation", message_id=asked.id, intent=None, confidence=None, replies=[]
        )


async def test_a_customer_message_keeps_the_form_question_it_answers(seeded, writer) -> None:
    cid = await anas_conversation(seeded)
    opened, _, _ = await writer.submit_customer(
        conversation_id=cid, text="se cayó el enlace", client_msg_id=None, payload=None
    )
    await writer.submit_bot_turn(
        conversation_id=cid,
        message_id=opened.id,
        intent="report_incident",
        confidence=0.93,
        replies=[("¿Qué versión del software usa?", None)],
        form="incident_form",
    )
    answer, _, _ = await writer.submit_customer(conversation_id=cid, text="la 4.2", client_msg_id=None, payload=None)
    await writer.submit_bot_turn(
        conversation_id=cid, message_id=answer.id, intent="nlu_fallback", confidence=0.31, replies=[("Gracias.", None)]
    )
    after, _, _ = await writer.submit_customer(conversation_id=cid, text="gracias", client_msg_id=None, payload=None)

    stored = {m.id: m for m in await _stored(seeded, cid)}
    assert [stored[m.id].form for m in (opened, answer, after)] == [None, "incident_form", None]
    # With a person on the chat the assistant asks nothing, whatever form it left open.
    async with transaction(seeded) as session:
        await session.execute(update(Conversation).where(Conversation.id == cid).values(bot_form="incident_form"))
    await hand_off(seeded, cid)
    to_agent, _, mode = await writer.submit_customer(
        conversation_id=cid, text="¿sigue ahí?", client_msg_id=None, payload=None
    )
    last = (await _stored(seeded, cid))[-1]
    assert (mode, last.id, last.form) == ("queued", to_agent.id, None)


async def test_turns_and_replies_of_many_conversations_share_batches(seeded, writer) -> None:
    cids = [await anas_conversation(seeded) for _ in range(6)]
    batches = writer.batches
    asked = await asyncio.gather(
        *(writer.submit_customer(conversation_id=cid, text="hola", client_msg_id=None, payload=None) for cid in cids)
    )
    answers = await asyncio.gather(
        *(
            writer.submit_bot_turn(
                conversation_id=cid, message_id=m.id, intent="greet", confidence=0.9, replies=[("¡Hola!", None)]
            )
            for cid, (m, _, _) in zip(cids, asked, strict=True)
        )
    )
    assert writer.batches - batches <= 4
    for cid, (m, _, _), (reply,) in zip(cids, asked, answers, strict=True):
        assert reply.seq == m.seq + 1 and reply.conversation_id == cid


@pytest.mark.parametrize("poison", ["veneno \ud800", "veneno \x00"], ids=["lone surrogate", "NUL"])
async def test_one_item_the_database_refuses_fails_alone(seeded, writer, poison, caplog) -> None:
    """Issue #13 F3: text that slipped past the edge check fails its own item, not the whole batch."""
    cids = [await anas_conversation(seeded) for _ in range(6)]
    asked = await asyncio.gather(
        *(writer.submit_customer(conversation_id=cid, text="hola", client_msg_id=None, payload=None) for cid in cids)
    )
    sends = [
        writer.submit_customer(
            conversation_id=cid, text=poison if n == 2 else f"m{n}", client_msg_id=None, payload=None
        )
        for n, cid in enumerate(cids)
    ] + [
        writer.submit_bot_turn(
            conversation_id=cid, message_id=m.id, intent="greet", confidence=0.9, replies=[(f"r{n}", None)]
        )
        for n, (cid, (m, _, _)) in enumerate(zip(cids, asked, strict=True))
    ]
    results = await asyncio.gather(*sends, return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    if "\x00" in poison and "sqlite" in str(seeded.kw["bind"].url):
        assert not failed  # SQLite stores NUL; the edge check (services/text.py) refuses it before
        return
    assert len(failed) == 1 and isinstance(results[2], InvalidInput), results
    assert results[2].public == "El mensaje no es válido."
    async with seeded() as session:
        for n, cid in enumerate(cids):
            texts = list(await session.scalars(select(Message.text).where(Message.conversation_id == cid)))
            expected = {"hola", f"r{n}"} | ({f"m{n}"} if n != 2 else set())
            assert set(texts) == expected, (n, texts)
    assert "reply batch item failed" in caplog.text


class PgProxy:
    """A TCP relay to the test's PostgreSQL server that can go down and come back, as a restarting
    server does for its clients: connections cut, new ones refused, then accepted again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.port = target, 0
        self.server: asyncio.Server | None = None
        self.links: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        assert self.server is not None
        self.server.close()
        for link in list(self.links):
            link.transport.abort()
        await self.server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.links |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.transport.abort()
                self.links.discard(dst)

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_reply_written_while_postgresql_restarts_is_stored_once_it_is_back(seeded, database_url) -> None:
    from urllib.parse import urlsplit

    from promptlink.infra.db import create_engine, create_sessionmaker

    laura = await staff(seeded, "l1@promptlink.example")
    cid = await _claimed(seeded, laura)
    where = urlsplit(database_url)
    proxy = PgProxy((where.hostname or "127.0.0.1", where.port or 5432))
    await proxy.up()
    engine = create_engine(database_url.replace(f"@{where.netloc.split('@')[-1]}", f"@127.0.0.1:{proxy.port}"))
    writer = ReplyWriter(create_sessionmaker(engine), unreachable_wait=30)
    try:
        first, _ = await writer.submit(
            principal=laura, conversation_id=cid, text="uno", client_msg_id="r1", max_chars=2000
        )
        await proxy.down()  # the server restarts: the pooled connection is cut, new ones are refused
        pending = asyncio.create_task(
            writer.submit(principal=laura, conversation_id=cid, text="dos", client_msg_id="r2", max_chars=2000)
        )
        await asyncio.sleep(1.5)
        assert not pending.done()  # waiting for the database, not failed
        await proxy.up()
        second, created = await asyncio.wait_for(pending, 30)
    finally:
        writer.close()
        await engine.dispose()
        await proxy.down()
    assert created and second.seq == first.seq + 1
    texts = [m.text for m in await _stored(seeded, cid) if m.role == "agent"]
    assert texts == ["uno", "dos"]
