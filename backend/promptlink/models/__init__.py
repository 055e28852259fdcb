"""ORM models; importing this package registers every table on `Base.metadata`."""

from .admin import AuditLog, ModelVersion, ReviewDecision
from .agent import Agent
from .alarm import Alarm
from .base import Base
from .bug import Bug, BugEvent, BugTicketLink
from .conversation import Conversation, ConversationEvent, Message
from .customer import Contact, Contract, Customer, Device
from .deployment import DeploymentPlan, DeploymentStageChange
from .outbox import OutboxItem
from .ticket import Rma, Ticket, TicketEvent
from .training import TrainingRequest
from .verification import Verification

__all__ = [
    "Agent",
    "Alarm",
    "AuditLog",
    "Base",
    "Bug",
    "BugEvent",
    "BugTicketLink",
    "Contact",
    "Contract",
    "Conversation",
    "ConversationEvent",
    "Customer",
    "DeploymentPlan",
    "DeploymentStageChange",
    "Device",
    "Message",
    "ModelVersion",
    "OutboxItem",
    "ReviewDecision",
    "Rma",
    "Ticket",
    "TicketEvent",
    "TrainingRequest",
    "Verification",
]
