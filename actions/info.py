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


# «¿Cada cuánto me informan?», «¿me van a estar dando razón?», «¿con qué frecuencia…?», «¿semanal?» (plain text):
# the update cadence. Such a question often names a priority («si abro un caso de prioridad 2, ¿cada cuánto…?»), and the
# classifier may then say ask_priority_levels: the priorities are not its answer.
CADENCE_WORDS = re.compile(
    r"\b(?:cada\s+cuan(?:to|tas?|do)|con\s+que\s+(?:frecuencia|regularidad)|que\s+tan\s+seguido|periodicidad"
    r"|regularidad|cuantas\s+veces\s+(?:al|por|a\s+la|me|nos)|frecuencia\s+de\s+(?:las\s+)?(?:actualiz|notific|inform|avis)\w*"
    r"|(?:dar|dando|daran|dan|den|darian)(?:\s+\w+)?\s+razon|al\s+tanto|informad[oa]s?"
    r"|(?:me|nos)\s+(?:van\s+a\s+)?(?:estar\s+|seguir\s+)?(?:informando|avisando|actualizando|reportando|contando)"
    r"|(?:dan|dar|daran|envian|mandan|recibo|recibimos|llegan)\s+(?:las\s+)?actualizaciones"
    r"|actualizaciones\s+(?:de(?:l)?\s+(?:estado|caso|tiquete|ticket|avance))|entre\s+una\s+actualizacion"
    r"|tiempos?\s+de\s+actualizacion|diari[oa]|semanal\w*|al\s+final\s+del?\s+(?:cada\s+)?dia"
    r"|cada\s+(?:\w+\s+)?(?:horas?|dias?|semanas?))\b"
)
# What the priorities are («¿qué es una prioridad 1?», «¿cuáles son los niveles?»): asked together with the cadence,
# both answers are given.
PRIORITY_DEFINITION_WORDS = re.compile(
    r"\b(?:que\s+(?:es|son|significa\w*|quiere\s+decir)|niveles|cuales\s+son|diferencia\w*|defin\w*|clasific\w*)\b"
)
PRIORITY_WORDS = re.compile(r"\b(?:prioridad\w*|p[1-4]|niveles|severidad\w*)\b")


def asks_cadence(text: str) -> bool:
    """Whether the message asks how often the customer is kept informed."""
    return bool(CADENCE_WORDS.search(plain(text)))


def asks_what_priorities_are(text: str) -> bool:
    """Whether the message asks what the priorities are (not only names one)."""
    words = plain(text)
    return bool(PRIORITY_DEFINITION_WORDS.search(words) and PRIORITY_WORDS.search(words))


def priority_answers(intent: str, text: str) -> List[str]:
    """The responses for a question the classifier called ask_priority_levels or ask_update_frequency: the priorities,
    the update cadence, or both when both are asked («¿Qué es una prioridad 2 y cada cuánto me informan?»)."""
    cadence = intent == "ask_update_frequency" or asks_cadence(text)
    if not cadence:
        return ["utter_priority_levels"]
    if asks_what_priorities_are(text):
        return ["utter_priority_levels", "utter_update_frequency"]
    return ["utter_update_frequency"]


class ActionPriorityInformation(Action):
    """The four priorities or the update cadence, by what the message asks (see `priority_answers`)."""

    def name(self) -> Text:
        return "action_priority_information"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        intent = str((tracker.latest_message.get("intent") or {}).get("name") or "")
        for response in priority_answers(intent, str(tracker.latest_message.get("text") or "")):
            dispatcher.utter_message(response=response)
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
