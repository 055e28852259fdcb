"""Information answers that need configuration (docs/support-plan.md#what-the-plan-leaves-out: no e-mail address,
telephone number or price)."""

from __future__ import annotations

import os
import re
from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .answers import plain
from .counts import COURSE_BOOKING  # the fallback books the same openings

DEFAULT_SUPPORT_EMAIL = "soporte@promptlink.example"
# A demo value: the support plan gives no telephone number (configuration, never invented).
DEFAULT_SUPPORT_PHONE = "+57 601 555 0100"


def support_email() -> str:
    """The support address is configuration (PROMPTLINK_SUPPORT_EMAIL), never invented."""
    return os.environ.get("PROMPTLINK_SUPPORT_EMAIL", DEFAULT_SUPPORT_EMAIL)


def support_phone() -> str:
    """The support telephone number is configuration (PROMPTLINK_SUPPORT_PHONE; empty: none is given)."""
    return os.environ.get("PROMPTLINK_SUPPORT_PHONE", DEFAULT_SUPPORT_PHONE).strip()


def _utter_with_channels(dispatcher: CollectingDispatcher, response: str) -> None:
    """`response` filled with the configured address, and the number when one is configured."""
    phone = support_phone()
    if phone:
        dispatcher.utter_message(response=response, support_email=support_email(), support_phone=phone)
    else:
        dispatcher.utter_message(response=f"{response}_without_phone", support_email=support_email())


class ActionContactChannels(Action):
    def name(self) -> Text:
        return "action_contact_channels"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        _utter_with_channels(dispatcher, "utter_contact_channels")
        return []


# «¿Cuánto cuesta…?», «precio», «tarifas», «¿se cobra aparte?», «¿es gratis?», «una cotización» (plain text).
PRICE_WORDS = re.compile(
    r"\b(?:precios?|tarifas?|costos?|coste|cotiz\w*|gratis|gratuit[oa]s?|(?:se|me|nos)\s+cobr\w*|cobran"
    r"|cuanto(?!\s+(?:tiempo|tarda))(?:\s+\w+){0,3}?\s+(?:cuesta|cuestan|costaria|costarian|vale|valen|sale|salen|cobran|cobra|pago"
    r"|pagamos|pagaria|pagariamos|hay que pagar))\b"
)
# What Promptlink sells: a price question off this list («¿cuánto cuesta un iPhone?») stays off-topic.
PRICE_TOPICS = re.compile(
    r"\b(?:soporte|contratos?|plan|planes|cursos?|capacitacion\w*|hardware|equipos?|mantenimiento|despliegue"
    r"|implementacion|instalacion|tiquetes?|tickets?|servicios?|licencias?|promptlink|reempla[zc]\w*|sustitu\w*"
    r"|visitas?|ingenieros?|renova\w*|configuracion|actualizacion\w*|ustedes|sus)\b"
)
# The plan's answers that action_plan_information gives, by intent.
PLAN_ANSWERS = {
    "ask_support_plan": "utter_support_plan",
    "ask_hardware_coverage": "utter_hardware_coverage",
    "ask_deployment_plan": "utter_deployment_plan",
}


def asks_price(text: str, intent: str = "") -> bool:
    """Whether the message asks what something costs. The classifier has no intent for prices (the plan gives
    none): such questions land on the plan's intents, on the fallback or off-topic, and are told apart here."""
    words = plain(text)
    if not PRICE_WORDS.search(words):
        return False
    return intent != "out_of_scope" or bool(PRICE_TOPICS.search(words))


def utter_price_info(dispatcher: CollectingDispatcher) -> None:
    """The plan states no prices: none is given, the customer is pointed to the configured channels."""
    _utter_with_channels(dispatcher, "utter_price_info")


class ActionPlanInformation(Action):
    """The support plan, hardware coverage or deployment plan; asked what it costs, first that no price is given."""

    def name(self) -> Text:
        return "action_plan_information"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        intent = str((tracker.latest_message.get("intent") or {}).get("name") or "")
        if asks_price(str(tracker.latest_message.get("text") or ""), intent):
            # «¿el soporte en línea se cobra aparte?»: no price, but what the contract includes answers it too.
            utter_price_info(dispatcher)
        dispatcher.utter_message(response=PLAN_ANSWERS.get(intent, "utter_support_plan"))
        return []


class ActionTrainingInfo(Action):
    """What the courses are; a message that asks for one («necesito un curso para 5 personas…») books it."""

    def name(self) -> Text:
        return "action_training_info"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        text = str(tracker.latest_message.get("text") or "")
        if not tracker.active_loop.get("name") and COURSE_BOOKING.search(plain(text)):
            return [FollowupAction("training_form")]
        if asks_price(text, "ask_training"):
            utter_price_info(dispatcher)
            if tracker.active_loop.get("name") == "training_form":
                return []  # booking a course already: what a course is would only repeat it before the question
        dispatcher.utter_message(response="utter_training_info")
        return []
