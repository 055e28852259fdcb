"""Request and response models of `/api/v1/tickets` (the incident system).

The intake's fields (`TicketIn`) are checked by `services.intake` and `services.tickets`, whose
messages are the tested ones («serial must be a string», «since is not an ISO 8601 …»): the
model lets any value through to them and documents what they accept.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from pydantic import ConfigDict, Field

from promptlink.services.ticket_rules import IncidentFacts
from promptlink.services.tickets import (
    MAX_DEVICE_TEXT,
    MAX_ERROR_MESSAGE,
    MAX_SERIAL,
    MAX_TEXT,
    MAX_TITLE,
    MAX_VERSION,
)
from promptlink.transports.http.api import RequestModel, ResponseModel
from promptlink.transports.http.schemas.common import EventOut, PageQuery, checked
from promptlink.vocabulary import CHANNELS, STATUSES, TIERS, TYPES

FACTS = [f.name for f in fields(IncidentFacts)]  # the priority questions


class TicketIn(RequestModel):
    """A new incident as a channel reports it (create and preview)."""

    customer: str | None = Field(
        None,
        description="Customer code (staff and the bare service token; a customer "
        "files for its own company and this is ignored)",
    )
    contact: str | None = Field(None, description="The reporting contact's e-mail (as `customer`)")
    channel: str | None = Field(None, description=f"One of {', '.join(CHANNELS)}; a customer's is `chat` or `api`")
    type: str | None = Field(None, description=f"One of {', '.join(TYPES)} (default information)")
    title: Any = checked("The incident in a line (may be left out in a preview)", type="string", maxLength=MAX_TITLE)
    description: Any = checked("What happens", type="string", maxLength=MAX_TEXT)
    facts: Any = checked(
        "The priority questions (docs/support-plan.md#priorities), each true or false",
        type="object",
        properties={name: {"type": "boolean"} for name in FACTS},
        additionalProperties=False,
    )
    complex: Any = checked("A complex case (routed higher)", type="boolean")
    device: Any = checked(
        "A registered device of the customer, as the customer names it", type="string", maxLength=MAX_DEVICE_TEXT
    )
    device_text: Any = checked("The equipment in the customer's words", type="string", maxLength=MAX_DEVICE_TEXT)
    serial: Any = checked("Serial number", type="string", maxLength=MAX_SERIAL)
    version: Any = checked("Software version", type="string", maxLength=MAX_VERSION)
    error_message: Any = checked("The error message seen", type="string", maxLength=MAX_ERROR_MESSAGE)
    since: Any = checked(
        "Since when: ISO 8601 with a UTC offset or Z, not in the future", type="string", format="date-time"
    )
    related_ticket: Any = checked(
        "A ticket number of the same customer (e.g. its SNMP alarm's ticket)", type="string", maxLength=32
    )
    conversation_id: Any = checked("The caller's own chat, for updates (customers and the service)", type="string")


class TextIn(RequestModel):
    text: Any = checked("The text", type="string", maxLength=MAX_TEXT)


class CommentIn(TextIn):
    channel: Any = checked("`chat` when the assistant relays it, else `api`", type="string", enum=["chat", "api"])


class TicketPatch(RequestModel):
    """Any of: a priority override or a transfer (each with its `reason`), a status, an assignee."""

    model_config = ConfigDict(extra="forbid")

    priority: Any = checked("1–4: an override (with `reason`)", type="integer", minimum=1, maximum=4)
    tier: Any = checked("A transfer (with `reason`)", type="string", enum=list(TIERS))
    reason: Any = checked("Why (required with `priority` or `tier`; logged)", type="string", maxLength=MAX_TEXT)
    status: Any = checked("The new status", type="string", enum=list(STATUSES))
    resolution: Any = checked("How it was solved (with `status`)", type="string", maxLength=MAX_TEXT)
    assignee: Any = checked("An agent's e-mail, or null to unassign", type="string")


class TicketListQuery(PageQuery):
    status: str | None = Field(None, description=f"Comma list of statuses ({', '.join(STATUSES)})")
    tier: str | None = Field(None, description="One tier (L1, L2, L3)")
    priority: int = Field(0, ge=0, le=4, description="1–4; 0 or absent: any")
    customer: str | None = Field(None, description="Customer code (staff only)")
    q: str | None = Field(None, description="Number, title or text contains (first 100 characters; % and _ literal)")
    overdue: str | None = Field(None, description="`1`: only tickets whose next update is past due")
    mine: str | None = Field(None, description="`1`: the caller's assigned tickets (agents), in any tier")


class RmaLink(ResponseModel):
    number: str | None
    serial: str
    device: str | None
    status: str


class BugLink(ResponseModel):
    key: str | None
    product: str
    version: str | None
    state: str


class TicketOut(ResponseModel):
    """A ticket; staff also get `priority_reason`, `facts`, `verified`, `assignee_id`, `breach_count`."""

    number: str | None
    title: str
    description: str
    channel: str
    type: str
    priority: int
    tier: str
    status: str
    customer: str | None = Field(description="Customer code")
    customer_name: str | None
    contact: str | None = Field(description="The contact's e-mail, or the unverified reporter's")
    device: str | None = Field(description="The registered device's name")
    device_text: str | None = Field(description="The equipment in the customer's words, when not registered")
    serial: str | None
    version: str | None
    error_message: str | None
    since: str | None = Field(description="ISO 8601, UTC")
    related_ticket: str | None = Field(description="Number of the related ticket")
    conversation_id: str | None
    covered: bool
    coverage_note: str
    next_update_due: str | None
    last_update_at: str | None
    created_at: str
    updated_at: str
    rma: RmaLink | None = Field(None, description="Present when a hardware replacement was opened")
    bug: BugLink | None = Field(None, description="Present when a bug is linked")
    priority_reason: str | None = Field(None, description="Staff only")
    facts: dict[str, Any] | None = Field(None, description="Staff only")
    verified: bool | None = Field(None, description="Staff only")
    assignee_id: int | None = Field(None, description="Staff only")
    breach_count: int | None = Field(None, description="Staff only")


class AssigneeOut(ResponseModel):
    email: str
    name: str


class TicketDetailOut(TicketOut):
    history: list[EventOut] = Field(description="Customers see the public entries only")
    assignee: AssigneeOut | None = Field(None, description="Staff only, when assigned")


class TicketList(ResponseModel):
    items: list[TicketOut]
    total: int


class DuplicateOut(ResponseModel):
    number: str | None
    title: str
    priority: int
    status: str
    status_name: str
    channel: str
    device: str | None
    created_at: str


class PreviewOut(ResponseModel):
    priority: int
    priority_reason: str
    tier: str
    tier_name: str
    routing_rule: str
    routing_reason: str
    device: str | None
    device_text: str | None
    covered: bool
    coverage_note: str
    duplicates: list[DuplicateOut] = Field(description="Up to 3 of the customer's open tickets on the same device")


class EventCreated(ResponseModel):
    event: EventOut


class UpdatePosted(ResponseModel):
    event: EventOut
    ticket: TicketOut


class TicketChanged(ResponseModel):
    ticket: TicketOut
    events: list[EventOut]
