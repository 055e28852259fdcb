"""The JSON of a conversation as the console sees it: one builder for the `/agent` socket events
(`conversation`, `hello`) and the `/api/v1/conversations` and `/api/v1/queues/chats` documents."""

from __future__ import annotations

from typing import Any

from promptlink.models import Conversation
from promptlink.services.handoff import QueuedChat


def _who_and_why(conversation: Conversation) -> dict[str, Any]:
    """Customer, contact, ticket and why it was handed off: what every conversation view names."""
    customer, contact = conversation.customer, conversation.contact
    return {
        "customer": customer.code if customer else None,
        "customer_name": customer.name if customer else None,
        "contact": contact.email if contact else None,
        "name": contact.name if contact else None,
        "ticket": conversation.ticket_number,
        "reason": conversation.handoff_reason,
        "queued_at": _iso(conversation.queued_at),
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def conversation_summary(conversation: Conversation) -> dict[str, Any]:
    """What the console shows of a conversation's state (no messages)."""
    return {
        "conversation_id": conversation.id,
        "mode": conversation.mode,
        "tier": conversation.tier,
        "agent_id": conversation.agent_id,
        "agent_name": conversation.agent.name if conversation.agent else None,
        **_who_and_why(conversation),
        "claimed_at": _iso(conversation.claimed_at),
        "closed_at": _iso(conversation.closed_at),
        "resolution": conversation.resolution,
        "rating": conversation.rating,
        "rating_comment": conversation.rating_comment,
        "last_seq": conversation.last_seq,
    }


def queued_chat(item: QueuedChat) -> dict[str, Any]:
    """A conversation waiting in a tier's queue, with its place and how long it has waited."""
    conversation = item.conversation
    return {
        "conversation_id": conversation.id,
        "tier": conversation.tier,
        "position": item.position,
        **_who_and_why(conversation),
        "waiting_seconds": item.waiting_seconds,
        "priority": item.priority,
        "last_message": item.last_message,
    }
