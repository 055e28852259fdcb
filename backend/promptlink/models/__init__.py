"""ORM models; importing this package registers every table on `Base.metadata`."""

from promptlink.models.admin import AuditLog, ModelActivation, ModelVersion, ReviewDecision
from promptlink.models.agent import Agent
from promptlink.models.alarm import Alarm, AlarmNotice
from promptlink.models.attachment import Attachment
from promptlink.models.base import Base
from promptlink.models.bug import Bug, BugEvent, BugTicketLink
from promptlink.models.conversation import Conversation, ConversationEvent, Message
from promptlink.models.course import TrainingRequest
from promptlink.models.customer import Contact, Contract, Customer, Device
from promptlink.models.deployment import DeploymentPlan, DeploymentStageChange
from promptlink.models.lease import LeaseRecord
from promptlink.models.outbox import OutboxItem
from promptlink.models.snmp_journal import SnmpJournalCursor
from promptlink.models.ticket import Rma, Ticket, TicketEvent
from promptlink.models.verification import Verification

__all__ = [
    "Agent",
    "Alarm",
    "AlarmNotice",
    "Attachment",
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
    "LeaseRecord",
    "Message",
    "ModelActivation",
    "ModelVersion",
    "OutboxItem",
    "ReviewDecision",
    "Rma",
    "SnmpJournalCursor",
    "Ticket",
    "TicketEvent",
    "TrainingRequest",
    "Verification",
]
