"""Nobody of the tier online: what the widget offers the customer (issue #15).

Presence-based (an agent is available when `online`, see `agent_chat.online_agents`): the
customer is told so plainly and may leave their details, which is the ticket already opened
for the chat, with the update cadence of its priority (docs/support-plan.md#update-cadence).
"""

from __future__ import annotations

from typing import Any

from promptlink.models import Conversation, Ticket
from promptlink.vocabulary import CADENCE_TEXT, TIER_NAMES


def unavailable_offer(conversation: Conversation, ticket: Ticket | None) -> dict[str, Any]:
    """The `no_agents` event of the chat protocol: {tier, ticket, priority, cadence, text}."""
    tier = conversation.tier or "L1"
    text = f"Ahora no hay especialistas de {TIER_NAMES[tier]} conectados."
    data: dict[str, Any] = {"tier": tier, "ticket": None, "priority": None, "cadence": None}
    if ticket is not None and ticket.priority in CADENCE_TEXT:
        cadence = CADENCE_TEXT[ticket.priority]
        data.update(ticket=ticket.number, priority=ticket.priority, cadence=cadence)
        text += (
            f" Puede dejarnos sus datos: su caso ya está registrado en el tiquete {ticket.number} "
            f"(prioridad P{ticket.priority}) y le informaremos {cadence} hasta su resolución, "
            "por correo electrónico y por este chat. También puede seguir esperando."
        )
    else:
        text += " Puede seguir esperando: le atenderá el primer especialista que se conecte."
    data["text"] = text
    return data


def cadence_sentence(ticket: Ticket | None) -> str:
    """« Le informaremos … hasta su resolución.» for the notice stored in the chat ('' without a ticket)."""
    if ticket is None or ticket.priority not in CADENCE_TEXT:
        return ""
    return f" Después le informaremos {CADENCE_TEXT[ticket.priority]} hasta su resolución."
