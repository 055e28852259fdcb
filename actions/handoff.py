"""The customer asks for a person (or accepts the person the assistant offered)."""

from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .incident import hand_off


async def hand_off_to_person(dispatcher: CollectingDispatcher, tracker: Tracker, *, reason: str) -> List[EventType]:
    """Queue the conversation: the tier of the ticket just opened, else Level 1 (general questions).

    `reason` is internal (the agents read it in the console), never shown to the customer.
    """
    tier = str(tracker.get_slot("last_ticket_tier") or "L1")
    return await hand_off(dispatcher, tracker, tier=tier, reason=reason, ticket=tracker.get_slot("last_ticket"))


class ActionRequestHandoff(Action):
    """The customer asked for a person (typed, or the «Sí, con una persona» button)."""

    def name(self) -> Text:
        return "action_request_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return await hand_off_to_person(dispatcher, tracker, reason="El cliente pidió hablar con una persona")
