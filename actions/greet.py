"""Greeting that addresses the customer by first name when the channel knows it."""

import re
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from .answers import plain

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


# A bare call for help, the whole message (plain text): «ayuda», «¡Necesito ayuda!», «auxilio, por favor». The
# classifier learnt «gracias por la ayuda» as thanks and may call such a message `thank`; it asks what the assistant
# can do, so it is greeted. Anything more («ayuda con la OLT») is not a bare call.
HELP_CALL = re.compile(
    r"(?:(?:hola|buenas|buenos dias|buenas tardes|buenas noches|oiga|oigan|disculpe|por favor|porfa)\s+)*"
    r"(?:(?:necesito|necesitamos|requiero|requerimos|quiero|queremos|pido|solicito)\s+)?"
    r"(?:una\s+|un\s+poco\s+de\s+|de\s+)?(?:ayuda|auxilio|socorro|help|asistencia)"
    r"(?:\s+(?:por favor|porfa|porfavor|urgente|please|plis|aqui|aca))*"
)


def is_help_call(text: str) -> bool:
    """Whether the whole message is a call for help and nothing else."""
    return bool(HELP_CALL.fullmatch(plain(text)))


class ActionAnswerThanks(Action):
    """«Con mucho gusto…» to thanks; a bare call for help classified as thanks is greeted instead."""

    def name(self) -> str:
        """Return the action's name as used in the domain and rules."""
        return "action_answer_thanks"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        """`utter_you_are_welcome`, or the greeting for a bare call for help outside a form."""
        text = str((tracker.latest_message or {}).get("text") or "")
        if is_help_call(text) and not (tracker.active_loop or {}).get("name"):
            return await ActionGreet().run(dispatcher, tracker, domain)
        dispatcher.utter_message(response="utter_you_are_welcome")
        return []
