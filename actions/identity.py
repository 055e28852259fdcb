"""Who the customer is: the widget identity (message metadata) or an e-mail verification."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

from rasa_sdk import Tracker

VERIFICATION_SLOTS = ["customer_code", "contact_email", "otp_code"]


@dataclass(frozen=True)
class Customer:
    contact: str
    customer: str
    name: str


def identity_of(tracker: Tracker) -> Optional[Customer]:
    """The identified contact: from the backend's metadata, else from a verification."""
    metadata: Dict[str, Any] = tracker.latest_message.get("metadata") or {}
    if isinstance(metadata.get("contact"), str) and isinstance(metadata.get("customer"), str):
        return Customer(metadata["contact"], metadata["customer"], str(metadata.get("name") or ""))
    if tracker.get_slot("verified") and tracker.get_slot("verified_contact"):
        return Customer(
            str(tracker.get_slot("verified_contact")),
            str(tracker.get_slot("verified_customer") or ""),
            str(tracker.get_slot("verified_name") or ""),
        )
    return None


def conversation_id(tracker: Tracker) -> str:
    """The backend's conversation id (the backend uses it as Rasa's sender id)."""
    metadata: Dict[str, Any] = tracker.latest_message.get("metadata") or {}
    value = metadata.get("conversation_id")
    return str(value) if isinstance(value, str) and value else tracker.sender_id


def first_name(customer: Optional[Customer]) -> str:
    return customer.name.split()[0][:60] if customer and customer.name.strip() else ""
