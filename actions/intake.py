"""The incident intake's data: what each kind of request asks, field names, answers in words, the ticket body.

Shared by the form's validation (`incident.py`) and its questions and submission
(`incident_submit.py`). The words a customer reads are in domain.yml, except the
field labels of the confirmation card, which are data here, and the names of request
types, tiers and the update cadence (`vocabulary.py`).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Tracker

from .backend import BackendError, backend
from .identity import Customer, conversation_id
from .spanish import datetime_in_words, parse_datetime
from .understanding import NOT_GIVEN, KnownDevice, match_device, parse_since, squash
from .vocabulary import TYPE_NAMES

INTENT_TYPES = {
    "report_network_outage": "network_outage",
    "report_software_bug": "software_bug",
    "report_hardware_failure": "hardware_failure",
    "request_enhancement": "enhancement",
    "request_configuration_help": "configuration",
}
# What the form asks, per kind of request, after identity (and before confirmation).
QUESTIONS: Dict[str, List[str]] = {
    "network_outage": ["description", "device", "since", "production_down", "most_operations_proceed",
                       "solution_available"],
    "software_bug": ["description", "device", "version", "error_message", "since", "production_down",
                     "most_operations_proceed", "solution_available"],
    "hardware_failure": ["description", "device", "serial_number", "production_down", "most_operations_proceed",
                         "solution_available"],
    "enhancement": ["description"],
    "configuration": ["description", "device"],
}  # fmt: skip
YES_NO = ("production_down", "most_operations_proceed", "solution_available")
FORM_SLOTS = sorted(
    {s for slots in QUESTIONS.values() for s in slots}
    | {"incident_confirmed", "correct_field", "duplicate_ticket", "duplicate_decision", "intake_unclear"}
)
FIELD_LABELS = {
    "description": "Descripción",
    "device": "Equipo",
    "since": "Desde cuándo",
    "version": "Versión",
    "error_message": "Mensaje de error",
    "serial_number": "Número de serie",
    "production_down": "Producción caída",
    "most_operations_proceed": "La mayoría de las operaciones sigue",
    "solution_available": "Solución provisional",
}
# Words customers type to name a field («el equipo», «la versión»).
FIELD_WORDS = {
    "description": ("descripcion", "descripción", "que ocurre", "problema"),
    "device": ("equipo", "producto", "dispositivo"),
    "since": ("desde", "cuando", "cuándo", "fecha", "hora"),
    "version": ("version", "versión"),
    "error_message": ("error", "mensaje"),
    "serial_number": ("serie", "serial"),
    "production_down": ("produccion", "producción", "caida", "caída"),
    "most_operations_proceed": ("operaciones",),
    "solution_available": ("solucion", "solución", "provisional", "alternativa"),
}
DEFAULT_TZ = "America/Bogota"


@dataclass(frozen=True)
class CustomerContext:
    """The customer's registered devices and time zone (read from the backend, cached briefly)."""

    timezone: str
    devices: Tuple[KnownDevice, ...]

    def registered(self, name: Optional[str]) -> Optional[KnownDevice]:
        if not name:
            return None
        return next((d for d in self.devices if squash(d.name) == squash(name)), None)


_CONTEXTS: Dict[str, Tuple[float, CustomerContext]] = {}
CONTEXT_TTL = 30.0


async def customer_context(customer: Optional[Customer]) -> CustomerContext:
    """Devices and zone of the identified customer; none (and the default zone) before identity."""
    if customer is None:
        return CustomerContext(DEFAULT_TZ, ())
    cached = _CONTEXTS.get(customer.contact)
    if cached and time.monotonic() - cached[0] < CONTEXT_TTL:
        return cached[1]
    try:
        raw = await backend().customer_devices(contact=customer.contact, customer=customer.customer)
    except BackendError:
        return CustomerContext(DEFAULT_TZ, ())
    context = CustomerContext(
        str(raw.get("timezone") or DEFAULT_TZ),
        tuple(
            KnownDevice(str(d.get("name") or ""), str(d.get("serial") or ""), str(d.get("model") or ""))
            for d in raw.get("devices") or []
            if d.get("name")
        ),
    )
    _CONTEXTS[customer.contact] = (time.monotonic(), context)
    return context


def questions_for(tracker: Tracker) -> List[str]:
    """The questions of this kind of request still relevant to the answers given."""
    kind = tracker.get_slot("incident_type")
    if kind is None:
        return []
    questions = list(QUESTIONS.get(kind, QUESTIONS["network_outage"]))
    if tracker.get_slot("production_down") is True and "most_operations_proceed" in questions:
        questions.remove("most_operations_proceed")  # production is down: nothing proceeds
    return questions


def given(value: Any) -> Optional[str]:
    """A text slot's value as stored in the ticket: None when not given or unknown."""
    if value is None or value == NOT_GIVEN:
        return None
    text = str(value).strip()
    return text or None


def since_moment(value: Any, context: CustomerContext, now: Optional[datetime] = None) -> Optional[datetime]:
    """The `since` slot as a moment: an ISO time, or the customer's words parsed in their zone."""
    text = given(value)
    if text is None:
        return None
    moment = parse_datetime(text)
    if moment is not None:
        return moment
    return parse_since(text, now=now or datetime.now(timezone.utc), tz=context.timezone)


def since_words(value: Any, context: CustomerContext) -> str:
    moment = since_moment(value, context)
    if moment is not None:
        return datetime_in_words(moment, context.timezone)
    return given(value) or NOT_GIVEN


def resolve_device(value: Any, context: CustomerContext) -> Tuple[Optional[str], Optional[str]]:
    """(registered device name, device as written) for the `device` slot."""
    text = given(value)
    if text is None:
        return None, None
    registered = context.registered(text)
    if registered is None:
        name, _ = match_device(text, context.devices)
        registered = context.registered(name)
    return (registered.name, None) if registered else (None, text)


def incident_facts(tracker: Tracker) -> Dict[str, bool]:
    """The priority questions (docs/support-plan.md#priorities) as structured facts for the backend's classifier."""
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


def ticket_body(tracker: Tracker, customer: Customer, context: CustomerContext) -> Dict[str, Any]:
    """The ticket as the backend stores it: structured fields, and a description agents can read."""
    kind = str(tracker.get_slot("incident_type") or "network_outage")
    device, device_text = resolve_device(tracker.get_slot("device"), context)
    since = since_moment(tracker.get_slot("since"), context)
    details = [
        f"{FIELD_LABELS[slot]}: {text}"
        for slot, text in (
            ("device", device or device_text),
            ("since", since_words(tracker.get_slot("since"), context) if given(tracker.get_slot("since")) else None),
            ("version", given(tracker.get_slot("version"))),
            ("error_message", given(tracker.get_slot("error_message"))),
            ("serial_number", given(tracker.get_slot("serial_number"))),
        )
        if text
    ]
    description = str(tracker.get_slot("description") or "")
    title = description if len(description) <= 120 else description[:117] + "..."
    body: Dict[str, Any] = {
        "customer": customer.customer,
        "contact": customer.contact,
        "channel": "chat",
        "type": kind,
        "title": f"{TYPE_NAMES.get(kind, kind)[0].upper()}{TYPE_NAMES.get(kind, kind)[1:]}: {title}",
        "description": "\n".join([description, *details]),
        "facts": incident_facts(tracker),
        "conversation_id": conversation_id(tracker),
    }
    optional = {
        "device": device,
        "device_text": device_text,
        "serial": given(tracker.get_slot("serial_number")),
        "version": given(tracker.get_slot("version")),
        "error_message": given(tracker.get_slot("error_message")),
        "since": since.isoformat() if since else None,
    }
    body.update({k: v for k, v in optional.items() if v})
    return body


def yes_no_word(value: Any) -> str:
    return "sí" if value is True else "no" if value is False else NOT_GIVEN


def answer_in_words(slot: str, value: Any, context: CustomerContext, *, mark_unregistered: bool) -> str:
    """A form answer as the customer reads it, on the confirmation card and when a correction is noted.

    A device that is not registered is shown as written, marked «(no registrado)» when `mark_unregistered`.
    """
    if slot in YES_NO:
        return yes_no_word(value)
    if slot == "since":
        return since_words(value, context)
    if slot == "device":
        registered, written = resolve_device(value, context)
        if registered or not written:
            return registered or NOT_GIVEN
        return f"{written} (no registrado)" if mark_unregistered else written
    return given(value) or NOT_GIVEN
