"""Information answers that need configuration (docs/support-plan.md#what-the-plan-leaves-out: no e-mail address)."""

from __future__ import annotations

import os
from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .answers import plain
from .counts import COURSE_BOOKING  # the fallback books the same openings

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


class ActionTrainingInfo(Action):
    """What the courses are; a message that asks for one («necesito un curso para 5 personas…») books it."""

    def name(self) -> Text:
        return "action_training_info"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        text = str(tracker.latest_message.get("text") or "")
        if not tracker.active_loop.get("name") and COURSE_BOOKING.search(plain(text)):
            return [FollowupAction("training_form")]
        dispatcher.utter_message(response="utter_training_info")
        return []
