"""ORM models; importing this package registers every table on `Base.metadata`."""

from .agent import Agent
from .base import Base
from .conversation import Conversation, Message
from .customer import Contact, Contract, Customer, Device
from .deployment import DeploymentPlan, DeploymentStageChange

__all__ = [
    "Agent",
    "Base",
    "Contact",
    "Contract",
    "Conversation",
    "Customer",
    "DeploymentPlan",
    "DeploymentStageChange",
    "Device",
    "Message",
]
