"""The JSON of `/api/v1/tickets` (shapes in `schemas/tickets.py`); `ticket_json` is also a ticket
in other resources' answers (queues, conversations)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Ticket, TicketEvent
from promptlink.services.intake import Preview
from promptlink.services.ticket_links import TicketLinks, ticket_links
from promptlink.services.ticket_queries import TicketDetail, TicketPage
from promptlink.vocabulary import STATUS_NAMES, TIER_NAMES


def ticket_json(ticket: Ticket, *, staff: bool, links: TicketLinks) -> dict[str, Any]:
    """A ticket as the API shows it; `staff` adds the internal fields (customers see their own tickets)."""
    data: dict[str, Any] = {
        "number": ticket.number,
        "title": ticket.title,
        "description": ticket.description,
        "channel": ticket.channel,
        "type": ticket.type,
        "priority": ticket.priority,
        "tier": ticket.tier,
        "status": ticket.status,
        "customer": ticket.customer.code if ticket.customer else None,
        "customer_name": ticket.customer.name if ticket.customer else None,
        "contact": ticket.contact.email if ticket.contact else ticket.reporter_email,
        "device": ticket.device.name if ticket.device else None,
        "device_text": ticket.device_text,
        "serial": ticket.serial,
        "version": ticket.version,
        "error_message": ticket.error_message,
        "since": ticket.since.astimezone(UTC).isoformat() if ticket.since else None,
        "related_ticket": links.related_number,
        "conversation_id": ticket.conversation_id,
        "covered": ticket.covered,
        "coverage_note": ticket.coverage_note,
        "next_update_due": ticket.next_update_due.isoformat() if ticket.next_update_due else None,
        "last_update_at": ticket.last_update_at.isoformat() if ticket.last_update_at else None,
        "created_at": ticket.created_at.isoformat(),
        "updated_at": ticket.updated_at.isoformat(),
    }
    if links.rma is not None:
        rma = links.rma
        data["rma"] = {"number": rma.number, "serial": rma.serial, "device": links.rma_device, "status": rma.status}
    if links.bug is not None:
        bug = links.bug
        data["bug"] = {"key": bug.key, "product": bug.product, "version": bug.version, "state": bug.state}
    if staff:
        data.update(
            priority_reason=ticket.priority_reason,
            facts=ticket.facts,
            verified=ticket.verified,
            assignee_id=ticket.assignee_id,
            breach_count=ticket.breach_count,
        )
    return data


async def tickets_json(session: AsyncSession, tickets: Sequence[Ticket], *, staff: bool) -> list[dict[str, Any]]:
    """`ticket_json` of each ticket, their links (related ticket, RMA, bug) read in a few queries."""
    links = await ticket_links(session=session, tickets=tickets)
    return [ticket_json(t, staff=staff, links=links[t.id]) for t in tickets]


def ticket_page(page: TicketPage, *, staff: bool) -> dict[str, Any]:
    return {"items": [ticket_json(t, staff=staff, links=page.links[t.id]) for t in page.items], "total": page.total}


def _history_entry(event: TicketEvent, names: dict[str, str]) -> dict[str, Any]:
    """A history entry; staff also read the author's name (the entry keeps the e-mail)."""
    entry = event.to_dict()
    if event.author in names:
        entry["author_name"] = names[event.author]
    return entry


def ticket_detail(detail: TicketDetail) -> dict[str, Any]:
    """The ticket with its history and, for staff, its assignee."""
    ticket = detail.ticket
    data = ticket_json(ticket, staff=detail.staff, links=detail.links)
    data["history"] = [_history_entry(e, detail.author_names) for e in detail.history]
    if detail.staff and ticket.assignee_id:
        agent = detail.assignee
        data["assignee"] = {"email": agent.email, "name": agent.name} if agent else None
    return data


def event_created(event: TicketEvent) -> dict[str, Any]:
    return {"event": event.to_dict()}


def update_posted(event: TicketEvent, ticket: Ticket, links: TicketLinks) -> dict[str, Any]:
    return {"event": event.to_dict(), "ticket": ticket_json(ticket, staff=True, links=links)}


def ticket_changed(ticket: Ticket, links: TicketLinks, events: list[TicketEvent]) -> dict[str, Any]:
    return {"ticket": ticket_json(ticket, staff=True, links=links), "events": [e.to_dict() for e in events]}


def preview(found: Preview) -> dict[str, Any]:
    return {
        "priority": found.priority,
        "priority_reason": found.priority_reason,
        "tier": found.tier,
        "tier_name": TIER_NAMES[found.tier],
        "routing_rule": found.routing_rule,
        "routing_reason": found.routing_reason,
        "device": found.device.name if found.device else None,
        "device_text": found.device_text,
        "covered": found.covered,
        "coverage_note": found.coverage_note,
        "duplicates": [
            {
                "number": t.number,
                "title": t.title,
                "priority": t.priority,
                "status": t.status,
                "status_name": STATUS_NAMES[t.status],
                "channel": t.channel,
                "device": t.device.name if t.device else t.device_text,
                "created_at": t.created_at.isoformat(),
            }
            for t in found.duplicates
        ],
    }
