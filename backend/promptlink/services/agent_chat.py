"""A person takes the chat: presence, claiming, replies, notes, transfer, hand back, close, rating.

Every function works inside the caller's transaction and returns what changed; the
`LiveChat` orchestrator (`promptlink.chat.live_chat`) announces it on the sockets. The
conversation row is locked (FOR UPDATE on PostgreSQL; SQLite serialises writers) so two
agents claiming one chat at once cannot both get it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Agent, Contract, Conversation, ConversationEvent, Message, Ticket
from promptlink.models.agent import PRESENCE
from promptlink.services.access import NotYours, conversation_for
from promptlink.services.auth import Principal
from promptlink.services.availability import cadence_sentence
from promptlink.services.conversations import append_message, messages_after
from promptlink.services.errors import DomainError, InvalidInput
from promptlink.services.handoff import lock_conversation, queue_notice, queue_place
from promptlink.services.spanish import datetime_in_words, plural, zone_in_words
from promptlink.services.staff_names import staff_names
from promptlink.vocabulary import TIER_NAMES, TIERS

MAX_NOTE = 4000
MAX_RESOLUTION = 2000
MAX_REASON = 300
MAX_COMMENT = 1000


class LiveChatRefused(DomainError):
    """The conversation is not in a state (or not with the agent) that allows this."""

    status = 409


@dataclass
class Change:
    """What a live-chat operation did, for the orchestrator to announce."""

    conversation: Conversation
    notices: list[Message] = field(default_factory=list)
    customer_events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    tiers: set[str] = field(default_factory=set)  # queues whose order changed
    agent_ids: set[int] = field(default_factory=set)  # agents whose chat list changed


def tier_label(tier: str) -> str:
    return TIER_NAMES[tier]


def _bounded_text(value: Any, *, limit: int, what: str, public: str, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or len(value) > limit or (required and not value.strip()):
        raise InvalidInput(f"{what} must be a non-empty string of at most {limit} characters", public=public)
    return value.strip()


async def _agent(session: AsyncSession, principal: Principal) -> Agent:
    if principal.agent_id is None or not principal.is_staff:
        raise NotYours("only support staff work chats", public="No tiene permiso para esta acción.")
    agent = await session.get(Agent, principal.agent_id)
    if agent is None or not agent.active:
        raise NotYours("agent not active", public="Su cuenta no está activa.")
    return agent


async def _event(
    session: AsyncSession,
    conversation: Conversation,
    kind: str,
    *,
    now: datetime,
    author: str = "",
    agent_id: int | None = None,
    text: str = "",
    value: int | None = None,
    tier: str | None = None,
) -> ConversationEvent:
    event = ConversationEvent(
        conversation_id=conversation.id,
        kind=kind,
        tier=tier if tier is not None else conversation.tier,
        agent_id=agent_id,
        author=author,
        text=text,
        value=value,
        created_at=now,
    )
    session.add(event)
    await session.flush()
    return event


async def _notice(session: AsyncSession, conversation: Conversation, text: str, *, buttons: Any = None) -> Message:
    appended = await append_message(
        session=session, conversation_id=conversation.id, role="system", text=text, buttons=buttons
    )
    return appended.message


async def visible_conversation(
    session: AsyncSession, principal: Principal, conversation_id: str, *, lock: bool = False
) -> Conversation:
    """The conversation if the caller may see it: the one ownership check (`services.access`)."""
    return await conversation_for(session, principal, conversation_id, lock=lock)


class ChatState(Protocol):
    """What `must_handle` reads: a Conversation, or a row of these columns."""

    id: str
    mode: str
    agent_id: int | None


def must_handle(principal: Principal, conversation: ChatState) -> None:
    """Replies, transfers, hand-backs and closing: the assigned agent, or a supervisor/admin."""
    if conversation.mode != "human":
        raise LiveChatRefused(
            f"conversation {conversation.id} is not with an agent (mode {conversation.mode})",
            public="La conversación no está siendo atendida por un especialista.",
        )
    if principal.role in ("supervisor", "admin"):
        return
    if conversation.agent_id != principal.agent_id:
        raise NotYours(
            f"conversation {conversation.id} is assigned to another agent",
            public="Esta conversación la atiende otro especialista.",
        )


async def active_chats(session: AsyncSession, agent_id: int) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Conversation)
        .where(Conversation.mode == "human", Conversation.agent_id == agent_id)
    )
    return int(count or 0)


async def online_agents(session: AsyncSession, tier: str) -> list[Agent]:
    """Active agents (or supervisors) of `tier` whose presence is online."""
    rows = await session.scalars(
        select(Agent).where(Agent.active.is_(True), Agent.presence == "online", Agent.role.in_(("agent", "supervisor")))
    )
    return [a for a in rows if tier in a.tier_list]


async def set_presence(*, session: AsyncSession, principal: Principal, presence: Any, now: datetime) -> Agent:
    if presence not in PRESENCE:
        raise InvalidInput(
            "presence must be online, away or offline", public="El estado debe ser conectado, ausente o desconectado."
        )
    agent = await _agent(session, principal)
    agent.presence = presence
    agent.presence_at = now
    await session.flush()
    return agent


async def claim(
    *, session: AsyncSession, conversation_id: str, principal: Principal, now: datetime, by_system: bool = False
) -> Change:
    """The agent takes a queued chat of a tier they work, within their capacity."""
    conversation = await visible_conversation(session, principal, conversation_id, lock=True)
    agent = await _agent(session, principal)
    if conversation.mode == "human" and conversation.agent_id == agent.id:
        return Change(conversation)  # a repeated claim (e.g. a retry) changes nothing
    if conversation.mode != "queued" or conversation.tier is None:
        raise LiveChatRefused(
            f"conversation {conversation_id} is not waiting in a queue (mode {conversation.mode})",
            public="La conversación ya no está en la cola.",
        )
    if not principal.may_work_tier(conversation.tier) or principal.role == "admin":
        raise NotYours(
            f"agent {agent.id} does not work tier {conversation.tier}", public="No atiende ese nivel de soporte."
        )
    if await active_chats(session, agent.id) >= agent.capacity:
        raise LiveChatRefused(
            f"agent {agent.id} is at capacity ({agent.capacity})",
            public=f"Ya atiende el máximo de {plural(agent.capacity, 'conversación', 'conversaciones')} a la vez.",
        )
    tier = conversation.tier
    _move(conversation, "human", agent=agent, claimed_at=now)
    await _event(
        session, conversation, "claimed", now=now, author="system" if by_system else agent.email, agent_id=agent.id
    )
    text = f"Le atiende {agent.name}, especialista de {tier_label(tier)}."
    notice = await _notice(session, conversation, text)
    return Change(
        conversation,
        notices=[notice],
        customer_events=[("agent_joined", {"name": agent.name, "tier": tier})],
        tiers={tier},
        agent_ids={agent.id},
    )


async def add_note(
    *, session: AsyncSession, conversation_id: str, principal: Principal, text: Any, now: datetime
) -> ConversationEvent:
    """An internal note on the conversation: staff only, never shown to the customer."""
    body = _bounded_text(text, limit=MAX_NOTE, what="note", public="La nota está vacía o es demasiado larga.")
    conversation = await visible_conversation(session, principal, conversation_id)
    return await _event(
        session, conversation, "note", now=now, author=principal.email, agent_id=principal.agent_id, text=body
    )


def _move(conversation: Conversation, mode: str, **fields: Any) -> None:
    """Put the conversation in `mode` and set `fields`; an offer to an agent, if any, lapses."""
    conversation.mode = mode
    conversation.offered_to_id = None
    conversation.offered_at = None
    for name, value in fields.items():
        setattr(conversation, name, value)


def _may_move(principal: Principal, conversation: Conversation) -> None:
    """Transfers and hand-backs: staff of the tier of a queued chat, or whoever may handle a live one."""
    if conversation.mode == "queued":
        if not principal.may_work_tier(conversation.tier or ""):
            raise NotYours("queued chat of another tier", public="No tiene permiso para esta acción.")
    else:
        must_handle(principal, conversation)


async def _leave_queue_or_agent(conversation: Conversation) -> tuple[set[str], set[int]]:
    tiers = {conversation.tier} if conversation.mode == "queued" and conversation.tier else set()
    agents = {conversation.agent_id} if conversation.mode == "human" and conversation.agent_id else set()
    return tiers, agents


async def transfer(
    *,
    session: AsyncSession,
    conversation_id: str,
    principal: Principal,
    tier: Any,
    reason: Any,
    now: datetime,
    default_wait_seconds: int,
) -> Change:
    """Move the chat to another tier's queue (reason required, kept internal)."""
    if tier not in TIERS:
        raise InvalidInput("tier must be L1, L2 or L3", public="El nivel de soporte no es válido.")
    why = _bounded_text(reason, limit=MAX_REASON, what="reason", public="Indique el motivo de la transferencia.")
    conversation = await visible_conversation(session, principal, conversation_id, lock=True)
    _may_move(principal, conversation)
    if conversation.tier == tier and conversation.mode == "queued":
        raise LiveChatRefused("chat already waits in that tier", public="La conversación ya está en esa cola.")
    tiers, agents = await _leave_queue_or_agent(conversation)
    if conversation.tier:
        tiers.add(conversation.tier)  # the queue it left
    _move(conversation, "queued", tier=tier, queued_at=now, claimed_at=None, agent=None, handoff_reason=why)
    await session.flush()
    await _event(
        session, conversation, "transferred", now=now, author=principal.email, agent_id=principal.agent_id, text=why
    )
    place = await queue_place(session, conversation, default_wait_seconds=default_wait_seconds)
    text = f"Su conversación pasa a {tier_label(tier)}. " + queue_notice(tier=tier)
    notice = await _notice(session, conversation, text)
    return Change(
        conversation,
        notices=[notice],
        customer_events=[("handoff", {"tier": tier, "position": place.position, "eta_seconds": place.eta_seconds})],
        tiers=tiers | {tier},
        agent_ids=agents,
    )


async def hand_back(*, session: AsyncSession, conversation_id: str, principal: Principal, now: datetime) -> Change:
    """The assistant answers again from the next customer message."""
    conversation = await visible_conversation(session, principal, conversation_id, lock=True)
    _may_move(principal, conversation)
    tiers, agents = await _leave_queue_or_agent(conversation)
    _move(conversation, "bot", agent=None)
    await session.flush()
    await _event(session, conversation, "handed_back", now=now, author=principal.email, agent_id=principal.agent_id)
    notice = await _notice(
        session,
        conversation,
        "Le vuelve a atender el asistente virtual de Promptlink. Puede escribir su consulta cuando quiera.",
    )
    return Change(
        conversation,
        notices=[notice],
        customer_events=[("state", {"mode": "bot", "tier": None, "agent": None})],
        tiers=tiers,
        agent_ids=agents,
    )


RATING_QUESTION = (
    "La conversación ha terminado. ¿Cómo calificaría la atención recibida, de 1 (mala) a 5 (excelente)? "
    "Si lo desea, puede dejar también un comentario."
)


def _resolution(principal: Principal, conversation: Conversation, resolution: Any) -> str:
    """What closing records: a customer's optional comment, or the resolution staff must give."""
    if principal.role == "customer":
        return _bounded_text(
            resolution,
            limit=MAX_RESOLUTION,
            what="resolution",
            public="El comentario es demasiado largo.",
            required=False,
        )
    must_handle(principal, conversation)
    return _bounded_text(
        resolution, limit=MAX_RESOLUTION, what="resolution", public="Indique la resolución de la conversación."
    )


async def close(
    *,
    session: AsyncSession,
    conversation_id: str,
    principal: Principal,
    resolution: Any,
    now: datetime,
) -> Change:
    """End the chat. Staff give a resolution; a customer may end their own chat at any time.

    The customer is then asked for a satisfaction rating (see `rate`).
    """
    # A customer closes only its own chat (its socket, or its identity over REST): issue #13 F1.
    conversation = await visible_conversation(session, principal, conversation_id, lock=True)
    text = _resolution(principal, conversation, resolution)
    by_customer = principal.role == "customer"
    if by_customer and conversation.mode == "closed":
        return Change(conversation)
    tiers, agents = await _leave_queue_or_agent(conversation)
    kept = text or conversation.resolution
    _move(conversation, "closed", closed_at=now, resolution=kept, rating=None, rating_comment=None, rated_at=None)
    await session.flush()
    author = "customer" if by_customer else principal.email
    await _event(session, conversation, "closed", now=now, author=author, agent_id=principal.agent_id, text=text)
    notice = await _notice(session, conversation, RATING_QUESTION)
    return Change(
        conversation,
        notices=[notice],
        customer_events=[("closed", {"rating_requested": True, "by": "customer" if by_customer else "agent"})],
        tiers=tiers,
        agent_ids=agents,
    )


async def rate(*, session: AsyncSession, conversation_id: str, score: Any, comment: Any, now: datetime) -> Change:
    """The customer's satisfaction answer (1–5 and an optional comment) for a closed chat."""
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise InvalidInput("score must be an integer from 1 to 5", public="Elija una calificación de 1 a 5.")
    remark = _bounded_text(
        comment,
        limit=MAX_COMMENT,
        what="comment",
        public=f"El comentario es demasiado largo (máximo {MAX_COMMENT} caracteres).",
        required=False,
    )
    conversation = await lock_conversation(session, conversation_id)
    if conversation.mode != "closed":
        raise LiveChatRefused("only a closed conversation is rated", public="La conversación aún no ha terminado.")
    if conversation.rated_at is not None:
        raise LiveChatRefused("conversation already rated", public="Ya recibimos su calificación. ¡Gracias!")
    conversation.rating = score
    conversation.rating_comment = remark or None
    conversation.rated_at = now
    await _event(session, conversation, "rated", now=now, author="customer", value=score, text=remark)
    notice = await _notice(session, conversation, "¡Gracias por su calificación! Nos ayuda a mejorar.")
    return Change(conversation, notices=[notice], customer_events=[("rated", {"score": score})])


async def reopen_for_assistant(*, session: AsyncSession, conversation: Conversation, now: datetime) -> None:
    """A customer writing in a closed chat starts over with the assistant."""
    conversation.mode = "bot"
    await _event(session, conversation, "handed_back", now=now, author="customer")


async def no_agents_notice(
    *, session: AsyncSession, conversation: Conversation, now: datetime, contact_email: str | None
) -> str | None:
    """The Spanish notice when nobody of the tier is online (None when somebody is).

    Tells how and when the customer will be contacted: by e-mail (and this chat) before the
    ticket's next update is due, or as soon as a specialist connects when there is no ticket.
    """
    tier = conversation.tier
    if tier is None or await online_agents(session, tier):
        return None
    await _event(session, conversation, "no_agents", now=now, author="system")
    ticket = await ticket_of(session, conversation)
    where = f"por correo electrónico ({contact_email}) y por este chat" if contact_email else "por este chat"
    text = f"En este momento no hay especialistas de {tier_label(tier)} conectados. "
    if ticket is not None and ticket.next_update_due is not None:
        zone = conversation.customer.timezone if conversation.customer else "UTC"
        due = datetime_in_words(ticket.next_update_due, zone)
        text += (
            f"Su caso queda registrado en el tiquete {ticket.number}, asignado a {tier_label(tier)}. "
            f"Le contactaremos {where} a más tardar el {due} (hora de {zone_in_words(zone)}), "
            "o antes en cuanto un especialista se conecte."
        ) + cadence_sentence(ticket)
    else:
        text += (
            f"Su conversación queda en la cola de {tier_label(tier)} y le contactaremos {where} "
            "en cuanto un especialista se conecte."
        )
    return text


async def on_call_recipients(session: AsyncSession) -> list[Agent]:
    """Who is alerted about a P1 with nobody online: on-call L3 agents, else every active L3 agent."""
    rows = list(await session.scalars(select(Agent).where(Agent.active.is_(True))))
    level3 = [a for a in rows if "L3" in a.tier_list]
    on_call = [a for a in level3 if a.on_call]
    return on_call or level3


async def agent_chats(session: AsyncSession, agent_id: int) -> Sequence[Conversation]:
    rows = await session.scalars(
        select(Conversation)
        .where(Conversation.mode == "human", Conversation.agent_id == agent_id)
        .order_by(Conversation.claimed_at)
    )
    return list(rows)


async def least_busy_agent(session: AsyncSession, tier: str) -> Agent | None:
    """The online agent of `tier` with the fewest chats and a free seat (ties: lowest id)."""
    best: tuple[int, int] | None = None
    chosen = None
    for agent in await online_agents(session, tier):
        load = await active_chats(session, agent.id)
        if load >= agent.capacity:
            continue
        if best is None or (load, agent.id) < best:
            best, chosen = (load, agent.id), agent
    return chosen


async def ticket_of(session: AsyncSession, conversation: Conversation) -> Ticket | None:
    """The ticket the conversation was handed off with, if any."""
    if not conversation.ticket_number:
        return None
    ticket: Ticket | None = await session.scalar(select(Ticket).where(Ticket.number == conversation.ticket_number))
    return ticket


@dataclass
class ConversationRecord:
    """A conversation as the console opens it."""

    conversation: Conversation
    messages: Sequence[Message]  # the transcript, in `seq` order
    events: Sequence[ConversationEvent]  # the internal log (queued, claimed, notes, ...)
    ticket: Ticket | None
    contracts: Sequence[Contract]  # the customer's
    author_names: dict[str, str] = field(default_factory=dict)  # staff e-mail -> name, for the log


async def conversation_record(session: AsyncSession, principal: Principal, conversation_id: str) -> ConversationRecord:
    """The conversation if the caller may see it, with its transcript, log, ticket and the customer's contracts."""
    conversation = await visible_conversation(session, principal, conversation_id)
    messages = await messages_after(session=session, conversation_id=conversation.id, last_seq=0, limit=5000)
    events = list(
        await session.scalars(
            select(ConversationEvent)
            .where(ConversationEvent.conversation_id == conversation.id)
            .order_by(ConversationEvent.id)
        )
    )
    customer = conversation.customer
    return ConversationRecord(
        conversation=conversation,
        messages=messages,
        events=events,
        ticket=await ticket_of(session, conversation),
        contracts=list(await customer.awaitable_attrs.contracts) if customer else [],
        author_names=await staff_names(session=session, emails=(e.author for e in events)),
    )


async def visible_agents(session: AsyncSession, principal: Principal) -> list[tuple[Agent, int]]:
    """Active staff with how many live chats each has: all of them for supervisors and admins, the
    agents sharing a tier with the caller otherwise."""
    agents = await session.scalars(select(Agent).where(Agent.active.is_(True)).order_by(Agent.id))
    return [
        (agent, await active_chats(session, agent.id))
        for agent in list(agents)
        if principal.sees_all_tiers or set(agent.tier_list) & set(principal.tiers)
    ]
