"""What the support plan decides for a draft, before anything is written: the rows it names
(loaded and checked), its priority, tier and follow-ups, its coverage.

The intake's preview (`services.intake`) and `create_ticket` decide the same way through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Contact, Conversation, Customer, Device, Ticket
from promptlink.services.access import MAX_CONVERSATION_ID, owns_conversation
from promptlink.services.entitlement import entitlement_for
from promptlink.services.errors import InvalidInput
from promptlink.services.ticket_rules import PriorityDecision, RoutingDecision, classify_priority, route_ticket

if TYPE_CHECKING:
    from promptlink.services.tickets import TicketDraft


@dataclass(frozen=True)
class Parties:
    """The rows a draft names, loaded (and checked) once for a preview or a creation."""

    customer: Customer | None
    contact: Contact | None
    device: Device | None
    related: Ticket | None


@dataclass(frozen=True)
class Classification:
    """What the support plan decides for a draft: priority, tier and follow-ups, coverage."""

    priority: PriorityDecision
    routing: RoutingDecision
    covered: bool
    coverage_note: str


async def load_parties(*, session: AsyncSession, draft: TicketDraft) -> Parties:
    """The customer (with its contracts), contact, device and related ticket of `draft`.

    Usually already in the session (the channel looked them up): no query then.
    """
    customer = await session.get(Customer, draft.customer_id) if draft.customer_id is not None else None
    if draft.customer_id is not None and customer is None:
        raise InvalidInput(f"customer {draft.customer_id} does not exist", public="El cliente no existe.")
    if customer is not None:
        await customer.awaitable_attrs.contracts
    contact = await session.get(Contact, draft.contact_id) if draft.contact_id is not None else None
    if draft.contact_id is not None and contact is None:
        raise InvalidInput(f"contact {draft.contact_id} does not exist", public="El contacto no existe.")
    device = await session.get(Device, draft.device_id) if draft.device_id is not None else None
    if draft.device_id is not None and device is None:
        raise InvalidInput(f"device {draft.device_id} does not exist", public="El equipo no existe.")
    if draft.conversation_id is not None:
        # Updates go into this chat: it must be the customer's own (verified or identified) chat, and
        # the contact's when the ticket names one (issue #13 F6; `services.access`).
        conversation = (
            await session.get(Conversation, draft.conversation_id)
            if len(draft.conversation_id) <= MAX_CONVERSATION_ID
            else None
        )
        if conversation is None or not owns_conversation(
            conversation, customer_id=draft.customer_id, contact_id=draft.contact_id
        ):
            raise InvalidInput(
                f"conversation {draft.conversation_id[:64]} not found for this customer",
                public="La conversación no existe.",
            )
    related = None
    if draft.related_ticket_id is not None:
        related = await session.get(Ticket, draft.related_ticket_id)
        # Only a ticket of the same customer: another company's ticket does not exist for it.
        if related is None or customer is None or related.customer_id != customer.id:
            raise InvalidInput(
                f"related ticket {draft.related_ticket_id} not found for this customer",
                public="El tiquete relacionado no existe.",
            )
    return Parties(customer, contact, device, related)


def classify(draft: TicketDraft, customer: Customer | None, *, now: datetime) -> Classification:
    """Priority (rules/priority.yml), tier and follow-ups (rules/routing.yml) and coverage.

    `customer` has its contracts loaded (`load_parties`).
    """
    entitlement = entitlement_for(customer, on=now.date())
    covered, coverage_note = entitlement.covers(draft.type)
    decision = classify_priority(draft.facts)
    routing = route_ticket(
        ticket_type=draft.type,
        priority=decision.priority,
        complex_case=draft.complex_case,
        hardware_covered=entitlement.hardware,
    )
    return Classification(decision, routing, covered, coverage_note)
