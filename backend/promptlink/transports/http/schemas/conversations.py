"""Request and response models of `/api/v1/conversations`, `/api/v1/queues/chats` and `/api/v1/agents`
(chats handed to people, and the people who take them)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, WithJsonSchema

from promptlink.transports.http.api import QueryModel, RequestModel, ResponseModel
from promptlink.transports.http.schemas.queues import ContractOut

# The request fields are checked by `services.handoff` and `services.agent_chat`, whose Spanish
# messages («El nivel de soporte no es válido.», «El motivo no es válido.», …) are the tested ones:
# the models document them and pass them on as given.

Tier = Annotated[Any, WithJsonSchema({"type": "string", "enum": ["L1", "L2", "L3"]})]
HandoffReason = Annotated[Any, WithJsonSchema({"type": "string", "maxLength": 300, "nullable": True})]
TicketNumber = Annotated[Any, WithJsonSchema({"type": "string", "maxLength": 32, "nullable": True})]
TransferReason = Annotated[Any, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 300})]
Resolution = Annotated[Any, WithJsonSchema({"type": "string", "maxLength": 2000, "nullable": True})]
NoteText = Annotated[Any, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 4000})]
Presence = Annotated[Any, WithJsonSchema({"type": "string", "enum": ["online", "away", "offline"]})]
AgentId = Annotated[Any, WithJsonSchema({"type": "integer", "minimum": 1, "maximum": 2**31})]


class HandoffIn(RequestModel):
    tier: Tier = Field(None, description="The level that takes the chat")
    reason: HandoffReason = Field("", description="Why (internal; staff see it in the queue)")
    ticket: TicketNumber = Field(None, description="The number of the ticket the chat is about, or null")


class TransferIn(RequestModel):
    tier: Tier = Field(None, description="The level whose queue the chat moves to")
    reason: TransferReason = Field(None, description="Why (1–300 characters, internal)")


class CloseIn(RequestModel):
    resolution: Resolution = Field(
        None, description="How it was resolved (1–2000, required of staff); a customer's optional comment"
    )


class NoteIn(RequestModel):
    text: NoteText = Field(None, description="The note (1–4000 characters)")


class PresenceIn(RequestModel):
    presence: Presence = Field(None, description="online, away or offline")


class ConversationsQuery(QueryModel):
    # Read (and range-checked) for supervisors and admins only; an agent's value is ignored.
    agent_id: AgentId = Field(None, description="Another agent's id (supervisors and admins)")


class HistoryQuery(QueryModel):
    status: Literal["recent", "closed"] = Field(
        "closed", description="`recent`: chats the caller took; `closed`: closed chats the caller may read"
    )
    q: str | None = Field(
        None,
        max_length=100,
        description="Customer name or code, contact name, ticket number or message text contains (≤ 100; % and _ "
        "literal)",
    )
    limit: int = Field(20, ge=1, le=50, description="How many (1–50)")
    offset: int = Field(0, ge=0, le=100_000, description="How many to skip")


class HandoffPlace(ResponseModel):
    conversation_id: str
    mode: str = Field(description="`queued`")
    tier: str
    position: int = Field(description="1 is first in line")
    eta_seconds: int = Field(description="Estimated wait: the tier's recent average wait times the position")


class ConversationSummary(ResponseModel):
    """A conversation's state as the console shows it (no messages)."""

    conversation_id: str
    mode: str = Field(description="bot, queued, human or closed")
    tier: str | None
    agent_id: int | None
    agent_name: str | None
    customer: str | None = Field(description="Customer code")
    customer_name: str | None
    contact: str | None = Field(description="The contact's e-mail address")
    name: str | None = Field(description="The contact's name")
    ticket: str | None
    reason: str | None = Field(description="Why it was handed off (internal)")
    queued_at: str | None
    claimed_at: str | None
    closed_at: str | None
    resolution: str | None
    rating: int | None = Field(description="The customer's satisfaction, 1–5")
    rating_comment: str | None
    last_seq: int


class QueuedChatOut(ResponseModel):
    conversation_id: str
    tier: str
    position: int
    customer: str | None
    customer_name: str | None
    contact: str | None
    name: str | None
    ticket: str | None
    reason: str | None
    queued_at: str | None
    waiting_seconds: int
    priority: int | None = Field(None, description="The ticket's priority (1–4), if the chat has a ticket")
    last_message: str | None = Field(
        None, description="The customer's last message, cut to 140 characters (plain text; escape it)"
    )


class ChatQueueOut(ResponseModel):
    tier: str
    total: int
    conversations: list[QueuedChatOut] = Field(description="First in line first")


class ChatQueues(ResponseModel):
    now: str = Field(description="The server's time (ISO 8601) the queues were read at")
    queues: list[ChatQueueOut]


class ConversationCustomer(ResponseModel):
    code: str
    name: str
    timezone: str
    contracts: list[ContractOut]


class ConversationContact(ResponseModel):
    email: str
    name: str


class MessageOut(ResponseModel):
    """A `message` of the chat protocol; a customer's carries the assistant's reading of it."""

    conversation_id: str
    seq: int
    role: str = Field(description="customer, bot, agent or system")
    text: str
    created_at: str
    buttons: list[dict[str, Any]] | None = None
    author_name: str | None = None
    intent: str | None = None
    confidence: float | None = None


class ConversationEventOut(ResponseModel):
    id: int
    kind: str = Field(description="queued, claimed, transferred, handed_back, closed, rated, note, …")
    tier: str | None
    agent_id: int | None
    author: str = Field(description="The author's e-mail, or `customer`/`system`")
    author_name: str | None = Field(None, description="The author's name when staff wrote it")
    text: str
    value: int | None
    created_at: str


class ConversationDetail(ResponseModel):
    conversation: ConversationSummary
    customer: ConversationCustomer | None
    contact: ConversationContact | None
    ticket: dict[str, Any] | None = Field(description="The ticket as `GET /tickets/{number}` shows it to staff")
    messages: list[MessageOut] = Field(description="The whole transcript, in `seq` order")
    events: list[ConversationEventOut] = Field(description="The internal log")


class ConversationList(ResponseModel):
    conversations: list[ConversationSummary]


class HistoryItemOut(ConversationSummary):
    last_message: str | None = Field(description="The customer's last message, cut to 140 characters")


class ConversationHistory(ResponseModel):
    conversations: list[HistoryItemOut] = Field(description="Most recent first")
    total: int = Field(description="How many match (all pages)")
    limit: int
    offset: int


class NoteOut(ConversationEventOut):
    conversation_id: str


class PresenceOut(ResponseModel):
    presence: str
    capacity: int = Field(description="How many chats at once")


class AgentOut(ResponseModel):
    id: int
    name: str
    role: str
    tiers: list[str]
    presence: str
    capacity: int
    on_call: bool
    active_chats: int


class AgentList(ResponseModel):
    agents: list[AgentOut]
