"""The JSON of `/api/v1/conversations`, `/api/v1/queues/chats` and `/api/v1/agents` (shapes in
`schemas/conversations.py`). A conversation's summary and a queued chat are built by
`chat/views.py`, which the `/agent` socket events share."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from promptlink.chat.views import conversation_summary, queued_chat
from promptlink.models import Agent, Contract, ConversationEvent, Message
from promptlink.services.agent_chat import ConversationRecord
from promptlink.services.conversation_history import HistoryPage
from promptlink.services.handoff import QueuedChat, QueuePlace


def handoff_place(place: QueuePlace) -> dict[str, Any]:
    return {
        "conversation_id": place.conversation_id,
        "mode": place.mode,
        "tier": place.tier,
        "position": place.position,
        "eta_seconds": place.eta_seconds,
    }


def chat_queues(queues: dict[str, list[QueuedChat]], *, now: datetime) -> dict[str, Any]:
    return {
        "now": now.isoformat(),
        "queues": [
            {"tier": tier, "total": len(items), "conversations": [queued_chat(item) for item in items]}
            for tier, items in queues.items()
        ],
    }


def _contract(contract: Contract) -> dict[str, Any]:
    return {"kind": contract.kind, "starts_on": contract.starts_on.isoformat(), "ends_on": contract.ends_on.isoformat()}


def _message(message: Message) -> dict[str, Any]:
    """A transcript line; a customer's says what the assistant read in it."""
    if message.role != "customer" or message.intent is None:
        return message.to_event()
    return message.to_event() | {"intent": message.intent, "confidence": message.confidence}


def _event(event: ConversationEvent, names: dict[str, str]) -> dict[str, Any]:
    data = event.to_json()
    data["author_name"] = names.get(event.author)
    return data


def conversation_detail(record: ConversationRecord, *, ticket: dict[str, Any] | None) -> dict[str, Any]:
    """The console's view of a conversation; `ticket` is its ticket's JSON (staff view), if any."""
    conversation = record.conversation
    customer, contact = conversation.customer, conversation.contact
    return {
        "conversation": conversation_summary(conversation),
        "customer": {
            "code": customer.code,
            "name": customer.name,
            "timezone": customer.timezone,
            "contracts": [_contract(c) for c in record.contracts],
        }
        if customer
        else None,
        "contact": {"email": contact.email, "name": contact.name} if contact else None,
        "ticket": ticket,
        "messages": [_message(m) for m in record.messages],
        "events": [_event(e, record.author_names) for e in record.events],
    }


def conversation_list(conversations: Any) -> dict[str, Any]:
    return {"conversations": [conversation_summary(c) for c in conversations]}


def conversation_history(page: HistoryPage, *, limit: int, offset: int) -> dict[str, Any]:
    return {
        "conversations": [
            conversation_summary(item.conversation) | {"last_message": item.last_message} for item in page.items
        ],
        "total": page.total,
        "limit": limit,
        "offset": offset,
    }


def presence(agent: Agent) -> dict[str, Any]:
    return {"presence": agent.presence, "capacity": agent.capacity}


def agent_list(agents: list[tuple[Agent, int]]) -> dict[str, Any]:
    return {
        "agents": [
            {
                "id": agent.id,
                "name": agent.name,
                "role": agent.role,
                "tiers": agent.tier_list,
                "presence": agent.presence,
                "capacity": agent.capacity,
                "on_call": agent.on_call,
                "active_chats": active,
            }
            for agent, active in agents
        ]
    }
