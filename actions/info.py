"""Information answers that need configuration (the seed leaves contact details blank)."""

from __future__ import annotations

import os
from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

DEFAULT_SUPPORT_EMAIL = "soporte@promptlink.example"


def support_email() -> str:
    """The support address is configuration (PROMPTLINK_SUPPORT_EMAIL), never invented."""
    return os.environ.get("PROMPTLINK_SUPPORT_EMAIL", DEFAULT_SUPPORT_EMAIL)


class ActionContactChannels(Action):
    def name(self) -> Text:
        return "action_contact_channels"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_contact_channels", support_email=support_email())
        return []
