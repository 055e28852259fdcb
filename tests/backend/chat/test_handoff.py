"""The one handoff orchestrator (chat/handoff.py), from both of its callers: the action server's
request (the notice waits for the assistant's turn) and the customer taking the offered person
while the assistant is down (inside the turn)."""

from __future__ import annotations

from typing import Any

from promptlink.assistant.client import AssistantUnavailable
from promptlink.chat.gateway import HUMAN_PAYLOAD, ChatGateway, ChatSession
from promptlink.chat.handoff import Handoff
from promptlink.infra.clock import ManualClock
from promptlink.models import Conversation

from tests.backend.chat.data import NOW


class RecordingEmitter:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Any, str | None]] = []

    async def emit(self, event: str, data: Any = None, *, room: str | None = None, **_: Any) -> None:
        self.sent.append((event, data, room))

    def to_customer(self, cid: str) -> list[tuple[str, Any]]:
        return [(event, data) for event, data, room in self.sent if room == f"conv:{cid}"]


class DownAssistant:
    async def send(self, **_: Any) -> Any:
        raise AssistantUnavailable("rasa", "connection refused")


def _wired(seeded, assistant: Any = None) -> tuple[ChatGateway, RecordingEmitter, list[str]]:
    emitter, followed_up = RecordingEmitter(), []
    gateway = ChatGateway(sessions=seeded, assistant=assistant, emitter=emitter)  # type: ignore[arg-type]

    async def after_queued(cid: str) -> None:
        followed_up.append(cid)

    gateway.use_handoff(Handoff(sessions=seeded, clock=ManualClock(NOW), gateway=gateway, after_queued=after_queued))
    return gateway, emitter, followed_up


async def test_a_requested_handoff_is_announced_once_and_its_notice_follows_the_turn(seeded) -> None:
    gateway, emitter, followed_up = _wired(seeded)
    cid = (await gateway.open(identity=None, conversation_id=None, resume_grant=None)).id
    assert gateway.handoff is not None
    place = await gateway.handoff.request(conversation_id=cid, tier="L2", reason="Falla", author="svc")
    assert (place.mode, place.tier, place.position, place.eta_seconds) == ("queued", "L2", 1, 300)
    await gateway.drain()  # the notice is posted once the turn in progress (none here) is stored
    events = emitter.to_customer(cid)
    assert [event for event, _ in events] == ["handoff", "message"]
    assert events[0][1] == {"tier": "L2", "position": 1, "eta_seconds": 300}
    assert events[1][1]["role"] == "system" and events[1][1]["text"].startswith("Le estamos comunicando")
    assert followed_up == [cid]
    # A retried request keeps the place and announces nothing.
    again = await gateway.handoff.request(conversation_id=cid, tier="L2", reason="Falla")
    await gateway.drain()
    assert (again.position, again.notice_text) == (1, None)
    assert len(emitter.to_customer(cid)) == 2 and followed_up == [cid]


async def test_taking_the_offered_person_while_the_assistant_is_down_queues_for_level_1(seeded) -> None:
    gateway, emitter, followed_up = _wired(seeded, DownAssistant())
    cid = (await gateway.open(identity=None, conversation_id=None, resume_grant=None)).id
    chat = ChatSession(cid, None)
    await gateway.customer_message(chat=chat, sid="s", data={"text": "hola", "payload": HUMAN_PAYLOAD})
    await gateway.drain()
    async with seeded() as session:
        conversation = await session.get(Conversation, cid)
    assert (conversation.mode, conversation.tier, conversation.handoff_reason) == (
        "queued",
        "L1",
        "El asistente no estaba disponible",
    )
    told = [(event, data) for event, data in emitter.to_customer(cid) if event != "typing"]
    assert [event for event, _ in told] == ["message", "handoff", "message"]  # hers, the place, the notice
    assert told[2][1]["text"].startswith("Le estamos comunicando con un especialista de Soporte de Nivel 1.")
    assert followed_up == [cid]
