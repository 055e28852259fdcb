"""Incident intake: a form that asks only what is missing, then one ticket per submission."""

from __future__ import annotations

import hashlib
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .backend import BackendError, BackendUnavailable, backend
from .forms_common import VerificationMixin, bounded_text, extract_yes_no, verification_slots
from .identity import Customer, conversation_id, identity_of

INTENT_TYPES = {
    "report_network_outage": "network_outage",
    "report_software_bug": "software_bug",
    "report_hardware_failure": "hardware_failure",
    "request_enhancement": "enhancement",
    "request_configuration_help": "configuration",
}
# What the form asks, per kind of request, after identity (and before confirmation).
QUESTIONS: Dict[str, List[str]] = {
    "network_outage": [
        "description",
        "device",
        "since",
        "production_down",
        "most_operations_proceed",
        "solution_available",
    ],
    "software_bug": [
        "description",
        "device",
        "version",
        "error_message",
        "since",
        "production_down",
        "most_operations_proceed",
        "solution_available",
    ],
    "hardware_failure": [
        "description",
        "device",
        "serial_number",
        "production_down",
        "most_operations_proceed",
        "solution_available",
    ],
    "enhancement": ["description"],
    "configuration": ["description", "device"],
}
FORM_SLOTS = sorted({s for slots in QUESTIONS.values() for s in slots} | {"incident_confirmed", "correct_field"})
TYPE_NAMES = {
    "network_outage": "falla de red",
    "software_bug": "falla de software",
    "hardware_failure": "falla de hardware",
    "enhancement": "solicitud de mejora",
    "configuration": "ayuda de configuración",
}
# Button labels for «which answer do you want to correct?», and the words customers type for each.
FIELD_LABELS = {
    "description": "Descripción",
    "device": "Equipo",
    "since": "Desde cuándo",
    "version": "Versión",
    "error_message": "Mensaje de error",
    "serial_number": "Número de serie",
    "production_down": "Producción caída",
    "most_operations_proceed": "Operaciones",
    "solution_available": "Solución provisional",
}
FIELD_WORDS = {
    "description": ("descripcion", "descripción", "que ocurre", "problema"),
    "device": ("equipo", "producto", "dispositivo"),
    "since": ("desde", "cuando", "fecha", "hora"),
    "version": ("version", "versión"),
    "error_message": ("error", "mensaje"),
    "serial_number": ("serie", "serial"),
    "production_down": ("produccion", "producción", "caida", "caída"),
    "most_operations_proceed": ("operaciones",),
    "solution_available": ("solucion", "solución", "provisional", "alternativa"),
}
TIER_NAMES = {"L1": "Soporte de Nivel 1", "L2": "Soporte de Nivel 2", "L3": "Soporte de Nivel 3"}
CADENCE = {1: "cada dos horas", 2: "al final de cada día", 3: "al final de cada día", 4: "cada semana"}
MIN_WORDS_FOR_DESCRIPTION = 5


class ActionStartIncident(Action):
    """Begin a request: remember its kind, and keep what the first message already said."""

    def name(self) -> Text:
        return "action_start_incident"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        kind = INTENT_TYPES.get(str(intent), "network_outage")
        text = bounded_text(tracker.latest_message.get("text"))
        events: List[EventType] = [SlotSet(slot, None) for slot in FORM_SLOTS]
        events.append(SlotSet("incident_type", kind))
        events.append(SlotSet("incident_label", TYPE_NAMES[kind]))
        if len(text.split()) >= MIN_WORDS_FOR_DESCRIPTION and not text.startswith("/"):
            events.append(SlotSet("description", text))
        for entity in ("device", "since", "version", "serial_number"):
            value = next(tracker.get_latest_entity_values(entity), None)
            if value:
                events.append(SlotSet(entity, bounded_text(value, 100)))
        return events


class ValidateIncidentForm(VerificationMixin, FormValidationAction):
    def name(self) -> Text:
        return "validate_incident_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        kind = tracker.get_slot("incident_type") or "network_outage"
        questions = list(QUESTIONS.get(kind, QUESTIONS["network_outage"]))
        if tracker.get_slot("production_down") is True and "most_operations_proceed" in questions:
            questions.remove("most_operations_proceed")  # production is down: nothing proceeds
        slots = verification_slots(tracker) + questions + ["incident_confirmed"]
        if tracker.get_slot("incident_confirmed") is False:
            slots.insert(slots.index("incident_confirmed"), "correct_field")
        return slots

    async def extract_production_down(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return extract_yes_no("production_down", tracker)

    async def extract_most_operations_proceed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return extract_yes_no("most_operations_proceed", tracker)

    async def extract_solution_available(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return extract_yes_no("solution_available", tracker)

    async def extract_incident_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return extract_yes_no("incident_confirmed", tracker)

    async def validate_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        text = bounded_text(value)
        if len(text) < 3:
            dispatcher.utter_message(response="utter_description_too_short")
            return {"description": None}
        return {"description": text}

    async def validate_device(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return {"device": bounded_text(value, 100) or None}

    async def validate_correct_field(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        field = str(value or "").strip()
        kind = tracker.get_slot("incident_type") or "network_outage"
        if field not in QUESTIONS.get(kind, []):
            dispatcher.utter_message(response="utter_correct_field_invalid")
            return {"correct_field": None}
        # Forget the answer to correct and the confirmation: the form asks both again.
        result: Dict[Text, Any] = {"correct_field": None, field: None, "incident_confirmed": None}
        if field == "production_down":
            result["most_operations_proceed"] = None
        return result


def field_named(text: str, fields: List[str]) -> Optional[str]:
    """The form field a customer means: a slot name (button payload) or a word such as «equipo»."""
    value = text.strip().lower()
    if value in fields:
        return value
    for field in fields:
        if any(word in value for word in FIELD_WORDS.get(field, ())) or value == FIELD_LABELS[field].lower():
            return field
    return None


class ActionAskCorrectField(Action):
    """Ask which answer to correct, offering only the fields this kind of request has."""

    def name(self) -> Text:
        return "action_ask_incident_form_correct_field"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        kind = tracker.get_slot("incident_type") or "network_outage"
        fields = [f for f in QUESTIONS.get(kind, []) if tracker.get_slot(f) is not None]
        buttons = [{"title": FIELD_LABELS[f], "payload": f'/inform{{"correct_field":"{f}"}}'} for f in fields]
        dispatcher.utter_message(response="utter_ask_incident_form_correct_field", buttons=buttons)
        return []


def incident_facts(tracker: Tracker) -> Dict[str, bool]:
    """The seed's priority questions as structured facts for the backend's classifier."""
    kind = tracker.get_slot("incident_type")
    if kind in ("enhancement", "configuration"):
        return {"information_request": True}
    down = tracker.get_slot("production_down") is True
    proceed = tracker.get_slot("most_operations_proceed")
    return {
        "production_down": down,
        "severely_damaged": not down and proceed is False,
        "damaged": not down and proceed is True,
        "most_operations_proceed": not down and proceed is not False,
        "solution_available": tracker.get_slot("solution_available") is True,
    }


def submission_key(tracker: Tracker) -> str:
    """One Idempotency-Key per form submission: the conversation and when this form began."""
    started = next(
        (
            e.get("timestamp")
            for e in reversed(tracker.events)
            if e.get("event") == "active_loop" and e.get("name") == "incident_form"
        ),
        None,
    )
    raw = f"{conversation_id(tracker)}|{started}|{tracker.get_slot('incident_type')}"
    return "chat-" + hashlib.sha256(raw.encode()).hexdigest()[:40]


def ticket_body(tracker: Tracker, customer: Customer) -> Dict[str, Any]:
    kind = str(tracker.get_slot("incident_type") or "network_outage")
    details = [
        f"{label}: {tracker.get_slot(slot)}"
        for slot, label in (
            ("device", "Equipo o producto"),
            ("since", "Desde"),
            ("version", "Versión"),
            ("error_message", "Mensaje de error"),
            ("serial_number", "Número de serie"),
        )
        if tracker.get_slot(slot)
    ]
    description = str(tracker.get_slot("description") or "")
    title = description if len(description) <= 120 else description[:117] + "..."
    return {
        "customer": customer.customer,
        "contact": customer.contact,
        "channel": "chat",
        "type": kind,
        "title": f"{TYPE_NAMES.get(kind, kind).capitalize()}: {title}",
        "description": "\n".join([description, *details]),
        "facts": incident_facts(tracker),
        "conversation_id": conversation_id(tracker),
    }


class ActionSubmitIncident(Action):
    """Create the ticket and tell the customer its number, priority, tier and update cadence."""

    def name(self) -> Text:
        return "action_submit_incident"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        customer = identity_of(tracker)
        reset: List[EventType] = [SlotSet(slot, None) for slot in FORM_SLOTS]
        if customer is None:
            dispatcher.utter_message(response="utter_identity_required")
            return reset
        try:
            ticket = await backend().create_ticket(
                contact=customer.contact, body=ticket_body(tracker, customer), idempotency_key=submission_key(tracker)
            )
        except BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []  # keep the answers: the customer can try again
        except BackendError:
            dispatcher.utter_message(response="utter_ticket_failed")
            return reset
        priority = int(ticket["priority"])
        dispatcher.utter_message(
            response="utter_ticket_created",
            number=ticket["number"],
            priority=priority,
            tier_name=TIER_NAMES.get(ticket["tier"], ticket["tier"]),
            cadence=CADENCE[priority],
        )
        if not ticket.get("covered", True) and ticket.get("coverage_note"):
            dispatcher.utter_message(response="utter_ticket_not_covered", note=ticket["coverage_note"])
        rma = _rma_number(ticket)
        if rma:
            dispatcher.utter_message(response="utter_rma_requested", rma=rma)
        if ticket.get("type") == "software_bug":
            dispatcher.utter_message(response="utter_software_fault_tracked")
        events = reset + [SlotSet("last_ticket", ticket["number"])]
        if priority == 1:
            events += await hand_off(
                dispatcher, tracker, tier=ticket["tier"], reason="Prioridad 1", ticket=ticket["number"]
            )
        return events


def _rma_number(ticket: Dict[str, Any]) -> Optional[str]:
    for event in ticket.get("history") or []:
        if event.get("kind") == "rma" and isinstance(event.get("data"), dict):
            return str(event["data"].get("rma") or "") or None
    return None


async def hand_off(
    dispatcher: CollectingDispatcher, tracker: Tracker, *, tier: str, reason: str, ticket: Optional[str]
) -> List[EventType]:
    """Queue the conversation for a person of `tier` and say so."""
    try:
        result = await backend().handoff(
            conversation_id=conversation_id(tracker), tier=tier, reason=reason, ticket=ticket
        )
    except (BackendUnavailable, BackendError):
        dispatcher.utter_message(response="utter_handoff_failed")
        return []
    # The backend tells the queue position and wait in its own system message.
    dispatcher.utter_message(
        response="utter_handoff_queued", tier_name=TIER_NAMES.get(str(result.get("tier", tier)), tier)
    )
    return [SlotSet("handed_off", True)]
