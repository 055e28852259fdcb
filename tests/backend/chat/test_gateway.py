"""The gateway's assistant turns with a fake assistant: who Rasa is told the sender is, and
that a queued chat is not sent to the assistant at all."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Any

from promptlink.assistant.client import BotReply, BotTurn
from promptlink.chat.gateway import ChatGateway, ChatSession
from promptlink.models import Conversation, Message, OutboxItem
from promptlink.services import verification
from sqlalchemy import select

from tests.backend.chat.data import hand_off

SECRET = "test-session-secret-0123456789-abcdef"


class FakeAssistant:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.form: str | None = None  # the form Rasa reports open after the turn

    async def send(self, *, sender: str, text: str, metadata: dict[str, Any]) -> BotTurn:
        self.sent.append({"sender": sender, "text": text, "metadata": metadata})
        return BotTurn(messages=[BotReply(text="Entendido.")], intent="greet", confidence=0.9, form=self.form)

    async def actions_ready(self) -> None:
        return None


class FakeEmitter:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.namespaces: list[str | None] = []

    async def emit(self, event: str, data: Any = None, *, namespace: str | None = None, **_: Any) -> None:
        self.events.append((event, data))
        self.namespaces.append(namespace)


async def _say(gateway: ChatGateway, chat: ChatSession, text: str) -> dict[str, Any]:
    ack = await gateway.customer_message(chat=chat, sid="sid-1", data={"client_msg_id": text, "text": text})
    await gateway.drain()
    return ack


async def test_after_verification_the_assistant_learns_who_the_visitor_is(seeded) -> None:
    assistant, emitter = FakeAssistant(), FakeEmitter()
    gateway = ChatGateway(sessions=seeded, assistant=assistant, emitter=emitter)  # type: ignore[arg-type]
    conversation = await gateway.open(identity=None, conversation_id=None, resume_grant=None)
    chat = ChatSession(conversation.id, None)  # the socket stays anonymous
    await _say(gateway, chat, "hola")
    assert assistant.sent[-1]["metadata"] == {"conversation_id": conversation.id}

    now = datetime.now(UTC)
    await verification.start_verification(
        sessions=seeded,
        conversation_id=conversation.id,
        customer="CABLEANDINA",
        email="luis.perez@cableandina.example",
        secret=SECRET,
        now=now,
    )
    async with seeded() as session:
        mail = await session.scalar(select(OutboxItem).where(OutboxItem.recipient == "luis.perez@cableandina.example"))
    code = re.search(r"es (\d{6})\.", mail.body).group(1)
    await verification.confirm_verification(
        sessions=seeded, conversation_id=conversation.id, code=code, secret=SECRET, now=now
    )
    await _say(gateway, chat, "quiero abrir un tiquete")
    assert assistant.sent[-1]["metadata"] == {
        "conversation_id": conversation.id,
        "customer": "CABLEANDINA",
        "customer_name": "Cable Andina S.A.",
        "contact": "luis.perez@cableandina.example",
        "name": "Luis Pérez",
    }


async def test_a_queued_chat_is_stored_but_not_sent_to_the_assistant(seeded) -> None:
    assistant, emitter = FakeAssistant(), FakeEmitter()
    gateway = ChatGateway(sessions=seeded, assistant=assistant, emitter=emitter)  # type: ignore[arg-type]
    conversation = await gateway.open(identity=None, conversation_id=None, resume_grant=None)
    chat = ChatSession(conversation.id, None)
    assert await _say(gateway, chat, "uno") == {"seq": 1}
    assert len(assistant.sent) == 1  # and the bot's reply is seq 2
    await hand_off(seeded, conversation.id, reason="", now=datetime.now(UTC))
    emitter.events.clear()
    emitter.namespaces.clear()
    assert await _say(gateway, chat, "dos") == {"seq": 4}  # after the handoff notice (seq 3)
    assert len(assistant.sent) == 1
    # The customer's own message goes to their other tabs and to the staff watching the chat.
    assert [event for event, _ in emitter.events] == ["message", "message"]
    assert emitter.namespaces == ["/chat", "/agent"]


async def test_the_conversation_keeps_which_form_question_the_assistant_has_open(seeded) -> None:
    """Monitoring notices wait while it is set (services/alarm_notices.py)."""
    assistant, emitter = FakeAssistant(), FakeEmitter()
    gateway = ChatGateway(sessions=seeded, assistant=assistant, emitter=emitter)  # type: ignore[arg-type]
    conversation = await gateway.open(identity=None, conversation_id=None, resume_grant=None)
    chat = ChatSession(conversation.id, None)

    async def form() -> str | None:
        async with seeded() as session:
            return (await session.get(Conversation, conversation.id)).bot_form

    assistant.form = "incident_form"
    await _say(gateway, chat, "quiero reportar una falla")
    assert await form() == "incident_form"
    await _say(gateway, chat, "no sé")  # still in the form (another question)
    assert await form() == "incident_form"
    assistant.form = None
    await _say(gateway, chat, "CABLEANDINA")
    assert await form() is None


class HangingAssistant(FakeAssistant):
    """Rasa as seen from a process that dies mid-turn: the turn never ends."""

    async def send(self, *, sender: str, text: str, metadata: dict[str, Any]) -> BotTurn:
        self.sent.append({"sender": sender, "text": text, "metadata": metadata})
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def test_a_resent_message_whose_turn_died_with_its_process_is_answered(seeded: Any) -> None:
    # Process 1 stores the message and starts its turn, then dies (SIGKILL) before the reply is stored.
    dying = ChatGateway(sessions=seeded, assistant=HangingAssistant(), emitter=FakeEmitter())  # type: ignore[arg-type]
    conversation = await dying.open(identity=None, conversation_id=None, resume_grant=None)
    chat = ChatSession(conversation.id, None)
    data = {"client_msg_id": "m-1", "text": "hola"}
    assert await dying.customer_message(chat=chat, sid="sid-1", data=data) == {"seq": 1}
    await asyncio.sleep(0.05)
    for task in list(dying._tasks):
        task.cancel()
    # The client never got the ack and resends the same message to process 2, which runs the turn.
    assistant = FakeAssistant()
    survivor = ChatGateway(
        sessions=seeded,
        assistant=assistant,  # type: ignore[arg-type]
        emitter=FakeEmitter(),
        orphan_grace_seconds=0.01,
    )
    assert await survivor.customer_message(chat=chat, sid="sid-2", data=data) == {"seq": 1}
    await survivor.drain()
    assert [s["text"] for s in assistant.sent] == ["hola"]
    async with seeded() as session:
        roles = (
            await session.execute(
                select(Message.seq, Message.role)
                .where(Message.conversation_id == conversation.id)
                .order_by(Message.seq)
            )
        ).all()
    assert [tuple(r) for r in roles] == [(1, "customer"), (2, "bot")]


async def test_a_resent_message_that_was_answered_is_not_sent_to_the_assistant_again(seeded: Any) -> None:
    assistant = FakeAssistant()
    gateway = ChatGateway(
        sessions=seeded,
        assistant=assistant,  # type: ignore[arg-type]
        emitter=FakeEmitter(),
        orphan_grace_seconds=0.01,
    )
    conversation = await gateway.open(identity=None, conversation_id=None, resume_grant=None)
    chat = ChatSession(conversation.id, None)
    assert await _say(gateway, chat, "hola") == {"seq": 1}
    assert await _say(gateway, chat, "hola") == {"seq": 1}  # same client_msg_id: the ack was lost
    assert len(assistant.sent) == 1


class RecordingServer:
    """A real python-socketio server (its own room table) that records what the gateway emits."""

    def __init__(self, manager: Any = None) -> None:
        import socketio

        self.sio = socketio.AsyncServer(async_mode="asgi", client_manager=manager)
        self.manager = self.sio.manager
        self.emitted: list[tuple[str | None, str | None]] = []

    async def emit(
        self, event: str, data: Any = None, *, room: str | None = None, namespace: str | None = None, **_: Any
    ) -> None:
        self.emitted.append((room, namespace))


async def test_a_message_is_emitted_only_to_rooms_someone_else_is_in(seeded) -> None:
    server = RecordingServer()
    gateway = ChatGateway(sessions=seeded, assistant=FakeAssistant(), emitter=server)  # type: ignore[arg-type]
    conversation = await gateway.open(identity=None, conversation_id=None, resume_grant=None)
    chat = ChatSession(conversation.id, None)
    customer = await server.manager.connect("eio-customer", "/chat")
    await server.manager.enter_room(customer, "/chat", f"conv:{conversation.id}")

    # The customer's only socket sent it and no one on staff watches: only the bot's reply goes out, to the customer.
    await gateway.customer_message(chat=chat, sid=customer, data={"client_msg_id": "m1", "text": "hola"})
    await gateway.drain()
    assert [e for e in server.emitted if e[0] != f"conv:{conversation.id}" or e[1] != "/chat"] == []
    server.emitted.clear()

    # A second tab and an agent watching: the customer's message reaches both.
    other_tab = await server.manager.connect("eio-tab", "/chat")
    await server.manager.enter_room(other_tab, "/chat", f"conv:{conversation.id}")
    agent = await server.manager.connect("eio-agent", "/agent")
    await server.manager.enter_room(agent, "/agent", f"aconv:{conversation.id}")
    await gateway.customer_message(chat=chat, sid=customer, data={"client_msg_id": "m2", "text": "gracias"})
    await gateway.drain()
    rooms = list(server.emitted)
    assert rooms.count((f"aconv:{conversation.id}", "/agent")) == 2  # the customer's message and the reply
    assert (f"conv:{conversation.id}", "/chat") in rooms


def test_with_a_shared_room_table_in_redis_every_emit_goes_out() -> None:
    import socketio
    from promptlink.chat.gateway import _local_rooms

    assert _local_rooms(RecordingServer().sio) is not None
    assert _local_rooms(RecordingServer(socketio.AsyncRedisManager("redis://127.0.0.1:1/0")).sio) is None
    assert _local_rooms(FakeEmitter()) is None


async def test_an_acknowledged_message_whose_turn_died_is_answered_by_the_sweep(seeded: Any) -> None:
    """The client got the ack, so it never resends: the `unanswered-turns` singleton finds the turn."""
    from datetime import timedelta

    from promptlink.models.base import utcnow

    dying = ChatGateway(sessions=seeded, assistant=HangingAssistant(), emitter=FakeEmitter())  # type: ignore[arg-type]
    lost = await dying.open(identity=None, conversation_id=None, resume_grant=None)
    assert await dying.customer_message(
        chat=ChatSession(lost.id, None), sid="s1", data={"client_msg_id": "m-1", "text": "hola"}
    ) == {"seq": 1}
    await asyncio.sleep(0.05)
    for task in list(dying._tasks):
        task.cancel()  # the process dies mid-turn
    assistant = FakeAssistant()
    survivor = ChatGateway(sessions=seeded, assistant=assistant, emitter=FakeEmitter())  # type: ignore[arg-type]
    answered = await survivor.open(identity=None, conversation_id=None, resume_grant=None)
    await _say(survivor, ChatSession(answered.id, None), "buenas")  # a turn that ended normally
    assistant.sent.clear()
    window = {"older_than": timedelta(seconds=90), "within": timedelta(minutes=30)}

    assert await survivor.answer_orphans(now=utcnow(), **window) == 0  # too recent: its turn may still run
    later = utcnow() + timedelta(minutes=2)
    assert await survivor.answer_orphans(now=later, **window) == 1
    assert [s["text"] for s in assistant.sent] == ["hola"]  # the answered conversation is left alone
    assert await survivor.answer_orphans(now=later, **window) == 0  # answered now: never twice
    async with seeded() as session:
        roles = (
            await session.execute(
                select(Message.seq, Message.role).where(Message.conversation_id == lost.id).order_by(Message.seq)
            )
        ).all()
    assert [tuple(r) for r in roles] == [(1, "customer"), (2, "bot")]
    assert await survivor.answer_orphans(now=utcnow() + timedelta(hours=1), **window) == 0  # out of the window
