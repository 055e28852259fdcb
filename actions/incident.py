"""Incident intake: a form that reads every message whole and asks only what is still missing.

Each customer turn is read for everything it states (`understanding.understand`): a fact
given in passing fills its slot, a correction («no, el equipo es cmts-bog-02») changes the
field it names and is acknowledged, and a yes/no question takes only a yes/no meaning.
What cannot be read is never stored as the answer to the pending question: the question
is asked once more, and after two such turns in a row a person is offered.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .backend import BackendError, backend
from .counts import COURSE_BOOKING
from .forms_common import (
    ACTIVATION,
    ANSWER,
    STALE,
    VerificationMixin,
    bounded_text,
    customer_code_said,
    email_with_code,
    turn_of,
    verification_slots,
)
from .identity import customer_code_in, identity_of
from .incident_submit import ActionAskCorrectField, ActionSubmitIncident, field_named, hand_off
from .info import asks_price, utter_price_info
from .intake import (
    FIELD_LABELS,
    FORM_SLOTS,
    INTENT_TYPES,
    YES_NO,
    CustomerContext,
    answer_in_words,
    customer_context,
    given,
    questions_for,
    resolve_device,
    ticket_body,
)
from .understanding import (
    HEDGE,
    NOT_GIVEN,
    YES_START,
    Understanding,
    clean_device_answer,
    clean_error_answer,
    detect_kind,
    find_version,
    looks_temporal,
    named_kind,
    part_failed,
    plain,
    understand,
)
from .vocabulary import TYPE_NAMES

__all__ = [
    "ActionStartIncident",
    "ValidateIncidentForm",
    "ActionAskCorrectField",
    "ActionSubmitIncident",
    "hand_off",
    "ticket_body",
]

MIN_WORDS_FOR_DESCRIPTION = 5
# The free-text questions that «no sé» answers (stored as not given).
MAY_BE_UNKNOWN = ("since", "version", "error_message", "serial_number")
# The form's questions whose answer is the customer's own words (the yes/no ones are YES_NO).
ASKED_AGAIN = ("description", "device", *MAY_BE_UNKNOWN)
# Intents that are questions or requests of their own: the form lets the rules answer them.
DIGRESSIONS = {
    "stop",
    "request_human",
    "ask_priority_levels",
    "ask_update_frequency",
    "ask_support_plan",
    "ask_hardware_coverage",
    "ask_contact_channels",
    "ask_team",
    "ask_training",
    "ask_deployment_plan",
    "ask_deployment_status",
    "ask_ticket_status",
    "ask_network_alarms",
    "bot_challenge",
    "greet",
    "thank",
    "goodbye",
    "out_of_scope",
}
ANNOUNCEMENT = re.compile(
    r"^(?:(?:hola|buenas|buenos dias|buenas tardes)\W+)?(?:tengo|quiero|quisiera|necesito|queria|vengo a)\s+"
    r"(?:una?|reportar|abrir|hacer|pedir|solicitar|registrar|poner|levantar)\b"
)
DONT_KNOW = re.compile(
    r"^" + HEDGE + r"(?:no se|no lo se|ni idea|no sabria|no estoy segur[oa]|no recuerdo|no me acuerdo|desconozco|"
    r"no tengo idea)\b"
)
QUESTION_START = ("que ", "como ", "cual ", "cuando ", "cada ", "quien ", "donde ", "por que ", "cuanto ")
# The form's questions a «sí» answers.
YES_NO_QUESTIONS = (*YES_NO, "incident_confirmed", "duplicate_decision")
# Words of leaving the form («sí, mejor cancelemos», «sí, déjelo así»): a «sí» before them is no answer.
LEAVING = re.compile(
    r"\b(?:cancel\w*|olvid\w*|anul\w*|abort\w*|suspend\w*|basta|detente|dej(?:a|e|alo|elo|emos|emoslo)|"
    r"no (?:sigas|sigamos|continues|continuemos)|no quiero (?:seguir|continuar)|"
    r"ya no (?:quiero|hace falta|lo necesito)|no hace falta|me arrepenti|salgamos|salir)\b"
)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _kind_of(tracker: Tracker) -> Optional[str]:
    text = str(tracker.latest_message.get("text") or "")
    named = named_kind(text)  # «tenemos una falla en el software…» says it outright, whatever the intent
    if named:
        return named
    intent = str((tracker.latest_message.get("intent") or {}).get("name") or "")
    if INTENT_TYPES.get(intent) == "network_outage" and part_failed(text):
        return "hardware_failure"  # «se fastidió el abanico de la olt»: a part failed, nothing of the network is said
    if intent in INTENT_TYPES:
        return INTENT_TYPES[intent]
    return detect_kind(text)


class ActionStartIncident(Action):
    """Begin a request: its kind (from the intent, or the words), and whatever the first message said."""

    def name(self) -> Text:
        return "action_start_incident"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        text = bounded_text(tracker.latest_message.get("text"))
        kind = _kind_of(tracker)
        if kind is None and COURSE_BOOKING.search(plain(text)):
            return [FollowupAction("training_form")]  # «necesito capacitar a once personas»: a course, not a fault
        events: List[EventType] = [SlotSet(slot, None) for slot in FORM_SLOTS]
        events.append(SlotSet("incident_type", kind))
        events.append(SlotSet("incident_label", TYPE_NAMES[kind] if kind else None))
        context = await customer_context(identity_of(tracker))
        found = understand(text, devices=context.devices, now=_now(), tz=context.timezone)
        # A short opening is the description when it states something («se cayó el cmts-bog-01»);
        # an announcement («tengo una idea para mejorar el sistema») is not.
        words = len(text.split())
        announces = bool(ANNOUNCEMENT.match(plain(text))) and not found.values() and words <= 9
        if (
            not text.startswith("/")
            and not announces
            and (words >= MIN_WORDS_FOR_DESCRIPTION or (words >= 3 and (found.values() or detect_kind(text))))
        ):
            events.append(SlotSet("description", text))
        for slot, value in found.values().items():
            events.append(SlotSet(slot, value))
        code = customer_code_in(text) if verification_slots(tracker) else None
        if code:
            events.append(SlotSet("customer_code", code))  # «soy Luis de CABLEANDINA»
        # The rules start the form after this action; a message the classifier did not place
        # (read here as a problem report by its words) reaches this action without such a rule.
        events.append(FollowupAction("incident_form"))
        return events


class ValidateIncidentForm(VerificationMixin, FormValidationAction):
    def name(self) -> Text:
        return "validate_incident_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        slots = verification_slots(tracker)
        if tracker.get_slot("incident_type") is None:
            return slots + ["incident_type", "incident_confirmed"]
        questions = questions_for(tracker)
        if _has_duplicate(tracker):
            # Offer the open ticket as soon as the device is known, before the remaining questions.
            at = questions.index("device") + 1 if "device" in questions else len(questions)
            questions.insert(at, "duplicate_decision")
            if tracker.get_slot("duplicate_decision") is True:
                return slots + questions[: at + 1]  # the information goes to the open ticket
        slots += questions
        if tracker.get_slot("incident_confirmed") is False:
            slots.append("correct_field")
        return slots + ["incident_confirmed"]

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """As rasa-sdk's, but bookkeeping slots outside the required list (kind, open ticket…) are kept too."""
        extraction = await self.get_extraction_events(dispatcher, tracker, domain)
        tracker.add_slots(extraction)
        validation = await self._extract_validation_events(dispatcher, tracker, domain)
        validated = {e.get("name") for e in validation}
        return [e for e in extraction if e.get("name") not in validated] + validation

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Read the customer's latest message whole (only right after it, not after a digression)."""
        # With no form active yet, the message is the one that opens it.
        stage = turn_of(tracker, "incident_form") if tracker.active_loop.get("name") else ACTIVATION
        if stage == STALE:
            return []
        customer = identity_of(tracker)
        if verification_slots(tracker) and tracker.get_slot("requested_slot") in (
            "customer_code",
            "contact_email",
            "otp_code",
        ):
            # The verification steps read their own answers (a code the classifier misread included).
            said = customer_code_said(tracker, answering=stage == ANSWER)
            if stage == ANSWER:
                said.update(email_with_code(tracker))
            return [SlotSet(slot, value) for slot, value in said.items()]
        context = await customer_context(customer)
        turn = IntakeTurn(tracker, dispatcher, context, answering=stage == ANSWER)
        changes = turn.read()
        if changes is None:
            return []  # a question or request of its own: the rules answer it, then the form goes on
        changes.update(await self._duplicate_check(tracker, changes, context))
        return [SlotSet(slot, value) for slot, value in changes.items()]

    async def _duplicate_check(
        self, tracker: Tracker, changes: Dict[str, Any], context: CustomerContext
    ) -> Dict[str, Any]:
        """Look for an open ticket of the company for the same device once the device is known."""
        customer = identity_of(tracker)
        device = changes.get("device", tracker.get_slot("device"))
        if customer is None or given(device) is None or tracker.get_slot("incident_type") is None:
            return {}
        if "device" not in changes and tracker.get_slot("duplicate_ticket") is not None:
            return {}
        registered, written = resolve_device(device, context)
        body = {"type": tracker.get_slot("incident_type"), "title": "preview", "channel": "chat"}
        body.update({"device": registered} if registered else {"device_text": written})
        try:
            preview = await backend().preview_ticket(contact=customer.contact, body=body)
        except BackendError:
            return {"duplicate_ticket": "none"}
        duplicates = preview.get("duplicates") or []
        if not duplicates:
            return {"duplicate_ticket": "none", "duplicate_decision": None}
        first = duplicates[0]
        return {"duplicate_ticket": json.dumps(first, ensure_ascii=False), "duplicate_decision": None}


# A device named as the way around the fault («desviando el tráfico por el cmts-bog-01»).
ROUTED_VIA = re.compile(
    r"\b(?:desvi\w*|redirig\w*|redirecc\w*|enrut\w*|pasando|usando|respaldo|conmutamos|movimos|migramos)\b"
    r"[^.;]*\b(?:por|a|al|hacia|con|en)\b"
)

def _has_duplicate(tracker: Tracker) -> bool:
    value = tracker.get_slot("duplicate_ticket")
    return bool(value) and value != "none"


class IntakeTurn:
    """One customer message inside the intake form, and the slot changes it makes."""

    def __init__(
        self, tracker: Tracker, dispatcher: CollectingDispatcher, context: CustomerContext, *, answering: bool = True
    ) -> None:
        self.tracker = tracker
        self.answering = answering
        self.dispatcher = dispatcher
        self.context = context
        message = tracker.latest_message
        self.text = bounded_text(message.get("text"))
        self.intent = str((message.get("intent") or {}).get("name") or "")
        # Not answering (the opening, or a reply to «¿Desea continuar?»): read it for facts only.
        self.requested: Optional[str] = tracker.get_slot("requested_slot") if answering else None
        self.changes: Dict[str, Any] = {}
        self.corrected: List[str] = []
        self.noted: List[str] = []  # slots filled in passing, while another question was pending
        self.handled = False

    def slot(self, name: str) -> Any:
        return self.changes[name] if name in self.changes else self.tracker.get_slot(name)

    def read(self) -> Optional[Dict[str, Any]]:
        """The slot changes of this turn; None lets the form's rules handle the message."""
        if not self.text:
            return None
        if self.text.startswith("/"):
            return self._payload() if self.answering else {}
        heard = understand(
            self.text, devices=self.context.devices, now=_now(), tz=self.context.timezone, requested=self.requested
        )
        if self._is_digression(heard):
            return None
        if self.answering and self._asks_price(heard):
            utter_price_info(self.dispatcher)  # the plan gives no prices; then the pending question again
            self.handled = True
            return self._finish(heard)
        self._facts_in_passing(heard)
        if not self.answering:
            return self.changes
        self._answer(heard)
        return self._finish(heard)

    # -- kinds of message ------------------------------------------------------------

    def _payload(self) -> Optional[Dict[str, Any]]:
        """Buttons: /affirm, /deny, /report_…, /inform{"correct_field": …}."""
        if self.intent in INTENT_TYPES and self.requested == "incident_type":
            self._set_kind(INTENT_TYPES[self.intent])
            return self.changes
        if self.intent in ("affirm", "deny"):
            answer = self.intent == "affirm"
            if self.requested in (*YES_NO, "incident_confirmed", "duplicate_decision"):
                self.changes[self.requested] = answer
                return self._finish(Understanding())
            return self._unclear()
        if self.requested == "correct_field":
            entities = self.tracker.latest_message.get("entities") or []
            field = next((e.get("value") for e in entities if e.get("entity") == "correct_field"), None)
            return self._choose_field(str(field or ""), Understanding())
        if self.intent in DIGRESSIONS:
            return None
        return self._unclear()

    def _is_digression(self, heard: Understanding) -> bool:
        if self.intent == "request_human":
            return True
        if self.requested == "correct_field" and field_named(self.text, questions_for(self.tracker)):
            return False  # «el equipo» names a field here, whatever the classifier thinks
        if heard.unknown and self.requested in (*MAY_BE_UNKNOWN, *YES_NO):
            return False  # «no sé» answers the question (read as out_of_scope by the classifier)
        if self.intent not in DIGRESSIONS:
            return False
        states_something = bool(heard.values()) or heard.correction
        if self.intent == "stop":
            return not states_something and not self._says_yes()
        return self._is_question() or not states_something

    def _says_yes(self) -> bool:
        """A leading «sí» to a yes/no question («si, volver a entrar»), whatever the classifier made of the rest."""
        value = plain(self.text)
        return self.requested in YES_NO_QUESTIONS and bool(YES_START.match(value)) and not LEAVING.search(value)

    def _is_question(self) -> bool:
        return "?" in self.text or plain(self.text).startswith(QUESTION_START)

    def _asks_price(self, heard: Understanding) -> bool:
        """A question of what something costs that the classifier did not place, stating nothing of the case."""
        return self._is_question() and not heard.values() and asks_price(self.text, self.intent)

    def _facts_in_passing(self, heard: Understanding) -> None:
        """Every fact stated fills its slot when empty; a correction (or a named field) replaces it."""
        # At the card, a stated priority fact replaces the shown one («sí tenemos una alternativa»);
        # a detail mentioned in passing («…desviando por el cmts-bog-01») does not replace the device.
        at_card = self.requested in ("incident_confirmed", "correct_field")
        for slot, value in heard.values().items():
            replace = heard.correction or (at_card and slot in YES_NO)
            if slot == self.requested:
                continue  # the answer to the pending question is decided in _answer
            if slot == "version" and self.slot("incident_type") not in ("software_bug", None):
                if heard.named_field != "version":
                    continue
            current = self.slot(slot)
            if slot == "device" and current is not None and heard.named_field != "device":
                if ROUTED_VIA.search(plain(self.text)):
                    continue  # «desviando el tráfico por el cmts-bog-01»: the alternative, not the faulty device
            if current is None:
                self.changes[slot] = value
                self.noted.append(slot)
            elif current != value and (replace or heard.named_field == slot):
                self.changes[slot] = value
                self.corrected.append(slot)
        if heard.production_down is True and self.slot("most_operations_proceed") is not None:
            self.changes["most_operations_proceed"] = None
        if self.slot("incident_type") is None and self.requested == "incident_type" and heard.kind:
            self._set_kind(heard.kind)
        named = named_kind(self.text) if heard.correction else None
        if named and self.slot("incident_type") not in (None, named):
            self._set_kind(named)  # «en realidad no es la red: es el software de gestión»
            self.corrected.append("incident_type")

    def _answer(self, heard: Understanding) -> None:
        """The answer to the pending question, when the message gives one of its kind."""
        asked = self.requested
        if asked is None or asked in self.changes:
            return
        if asked == "incident_type":
            kind = INTENT_TYPES.get(self.intent) or heard.kind
            if kind:
                self._set_kind(kind)
        elif asked in YES_NO:
            value = getattr(heard, asked)
            if value is None and DONT_KNOW.match(plain(self.text)):
                return  # «no sé» is not a «no» («ninguna» is): the question is asked again
            if value is None and heard.answer is not None and not heard.correction:
                value = heard.answer
            if value is None and self.intent in ("affirm", "deny") and not heard.correction:
                value = self.intent == "affirm"
            if value is not None:
                self._set(asked, value)
        elif asked in ("incident_confirmed", "duplicate_decision"):
            if self.corrected or (heard.correction and heard.values()):
                return  # a correction at the confirmation: the card is shown again
            answer = heard.answer if heard.answer is not None else _yes_no_intent(self.intent)
            if answer is not None:
                self.changes[asked] = answer
        elif asked == "correct_field":
            field = field_named(self.text, questions_for(self.tracker)) or heard.named_field
            self._choose_field(field or "", heard)
        else:
            self._free_text(asked, heard)

    def _free_text(self, asked: str, heard: Understanding) -> None:
        """description, device, since, version, error_message, serial_number."""
        value = getattr(heard, asked, None) if asked != "description" else None
        if value is not None:
            self._set(asked, value)
            return
        others = {k for k in heard.values() if k != asked}
        if heard.correction and others and asked != "description":
            return  # it corrects another field: not an answer to this one
        if heard.unknown and asked in MAY_BE_UNKNOWN:
            self._set(asked, NOT_GIVEN)
            return
        text = self.text
        if asked == "description":
            if len(text) >= 3 and heard.answer is None:
                self._set(asked, text)
        elif asked == "device":
            if heard.device_candidates:
                self.dispatcher.utter_message(
                    response="utter_device_ambiguous", candidates=", ".join(heard.device_candidates)
                )
                self.handled = True  # the form asks again, with the devices as buttons
                return
            if heard.answer is None and not others and len(plain(text)) >= 2:
                self._set(asked, clean_device_answer(text))
        elif asked == "since":
            if looks_temporal(text) and not others:
                self._set(asked, text[:200])
        elif asked == "version":
            version = find_version(text, asked=True)
            if version:
                self._set(asked, version)
        elif asked == "error_message":
            if heard.answer is False and len(plain(text).split()) <= 3:
                self._set(asked, NOT_GIVEN)
            elif not (heard.correction and others) and len(text) >= 2 and heard.answer is None:
                self._set(asked, clean_error_answer(text))
        elif asked == "serial_number":
            token = next((w for w in text.replace(",", " ").split() if any(c.isdigit() for c in w)), None)
            if token and len(token) >= 4:
                self._set(asked, token.strip(".;:").upper()[:100])

    def _choose_field(self, field: str, heard: Understanding) -> Dict[str, Any]:
        questions = questions_for(self.tracker)
        if field not in questions:
            self.dispatcher.utter_message(response="utter_correct_field_invalid")
            self.changes["correct_field"] = None
            return self.changes
        value = getattr(heard, field, None) if field != "description" else None
        self.changes.update({"correct_field": None, "incident_confirmed": None})
        if value is not None and value != self.tracker.get_slot(field):
            self.changes[field] = value
            self.corrected.append(field)
        else:
            # Ask that field again: forget its answer (and what depends on it).
            self.changes[field] = None
            if field == "production_down":
                self.changes["most_operations_proceed"] = None
            if field == "device":
                self.changes["duplicate_ticket"] = None
        return self.changes

    def _set(self, slot: str, value: Any) -> None:
        if slot == "device":
            value = str(value)[:100]
        self.changes[slot] = value
        if slot == "production_down" and value is True:
            self.changes["most_operations_proceed"] = None

    def _set_kind(self, kind: str) -> None:
        self.changes["incident_type"] = kind
        self.changes["incident_label"] = TYPE_NAMES[kind]

    def _unclear(self) -> Dict[str, Any]:
        count = int(self.tracker.get_slot("intake_unclear") or 0) + 1
        if count >= 2:
            self.dispatcher.utter_message(response="utter_intake_offer_human")
        else:
            self.dispatcher.utter_message(response="utter_intake_unclear")
        # A slot change keeps the form running: it asks its question again (with its buttons).
        return {"intake_unclear": float(count)}

    def _finish(self, heard: Understanding) -> Dict[str, Any]:
        meaningful = {k: v for k, v in self.changes.items() if k != "intake_unclear"}
        if self.handled and not meaningful:
            return {"intake_unclear": 0.0}
        if not meaningful:
            return self._unclear()
        self.changes["intake_unclear"] = None
        if self.corrected:
            self._acknowledge(self.corrected, "utter_correction_noted")
        elif (
            self.noted
            and not self.handled
            and self.requested in (*ASKED_AGAIN, *YES_NO)
            and self.requested not in self.changes
        ):
            # The pending question comes again: say first that what the customer did tell was kept
            # («sí, la producción está caída» to «¿Desde cuándo ocurre?»), or it reads as ignored
            # (`handled`: «varios equipos así: …» already says why the question comes again).
            self._acknowledge(self.noted, "utter_fact_noted")
        return self.changes

    def _acknowledge(self, slots: List[str], response: str) -> None:
        parts = []
        for slot in dict.fromkeys(slots):
            value = self.changes.get(slot)
            if slot == "incident_type":
                parts.append(f"tipo: {TYPE_NAMES[str(value)]}")
                continue
            shown = answer_in_words(slot, value, self.context, mark_unregistered=False)
            parts.append(f"{FIELD_LABELS[slot].lower()}: {shown}")
        self.dispatcher.utter_message(response=response, changes="; ".join(parts))


def _yes_no_intent(intent: str) -> Optional[bool]:
    return True if intent == "affirm" else False if intent == "deny" else None
