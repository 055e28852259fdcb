"""The customer asks for a person (or the assistant offers one after misunderstanding)."""

from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .incident import hand_off


class ActionRequestHandoff(Action):
    """Queue the conversation: the tier of the ticket just opened, else Level 1 (general questions)."""

    def name(self) -> Text:
        return "action_request_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        tier = str(tracker.get_slot("last_ticket_tier") or "L1")
        return await hand_off(
            dispatcher,
            tracker,
            tier=tier,
            reason="El cliente pidió hablar con una persona",
            ticket=tracker.get_slot("last_ticket"),
        )
