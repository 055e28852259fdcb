"""Greeting that addresses the customer by first name when the channel knows it."""

from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

# A first name longer than this is not a name; cut it so a response stays short.
MAX_NAME_LENGTH = 60


def first_name_from_metadata(metadata: Optional[Dict[str, Any]]) -> Optional[str]:
    """Return the first word of the `name` in the message metadata, if usable.

    The backend's input channel forwards the verified widget identity as message
    metadata; anything else (missing, blank, not a string) means "unknown".
    """
    if not isinstance(metadata, dict):
        return None
    name = metadata.get("name")
    if not isinstance(name, str):
        return None
    words = name.split()
    if not words:
        return None
    return words[0][:MAX_NAME_LENGTH]


class ActionGreet(Action):
    """Greets the customer, by first name when the message metadata carries one."""

    def name(self) -> str:
        """Return the action's name as used in the domain and rules."""
        return "action_greet"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        """Send `utter_greet_named` with the first name, else `utter_greet`."""
        metadata = (tracker.latest_message or {}).get("metadata")
        first_name = first_name_from_metadata(metadata)
        if first_name:
            dispatcher.utter_message(response="utter_greet_named", name=first_name)
        else:
            dispatcher.utter_message(response="utter_greet")
        return []
