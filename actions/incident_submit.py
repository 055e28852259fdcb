"""The intake form's questions that need data (device list, open ticket, summary card) and its submission."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .backend import BackendError, BackendUnavailable, backend
from .identity import conversation_id, identity_of
from .intake import (
    FIELD_LABELS,
    FIELD_WORDS,
    FORM_SLOTS,
    QUESTIONS,
    CustomerContext,
    answer_in_words,
    customer_context,
    given,
    questions_for,
    submission_key,
    ticket_body,
)
from .understanding import NOT_GIVEN, plain
from .vocabulary import CADENCE, TIER_NAMES, TYPE_NAMES


def field_named(text: str, fields: List[str]) -> Optional[str]:
    """The form field a customer means: a slot name (button payload) or a word such as «equipo»."""
    value = text.strip().lower()
    if value in fields:
        return value
    flat = plain(value)
    for field in fields:
        label = plain(FIELD_LABELS[field])
        if flat == label or any(plain(word) in flat.split() or plain(word) in flat for word in FIELD_WORDS[field]):
            return field
    return None


def summary_of(tracker: Tracker, context: CustomerContext) -> List[str]:
    """The confirmation card's lines: every field that will be stored."""
    kind = str(tracker.get_slot("incident_type"))
    lines = [f"• Tipo: {TYPE_NAMES.get(kind, kind)}"]
    for slot in questions_for(tracker):
        shown = answer_in_words(slot, tracker.get_slot(slot), context, mark_unregistered=True)
        lines.append(f"• {FIELD_LABELS[slot]}: {shown}")
    return lines


class ActionAskIncidentConfirmed(Action):
    """The confirmation card: every field that will be stored, and the resulting priority and level."""

    def name(self) -> Text:
        return "action_ask_incident_form_incident_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        customer = identity_of(tracker)
        context = await customer_context(customer)
        lines = summary_of(tracker, context)
        if customer is not None:
            body = ticket_body(tracker, customer, context)
            try:
                preview = await backend().preview_ticket(contact=customer.contact, body=body)
            except BackendError:
                preview = None
            if preview:
                tier = str(preview.get("tier_name") or TIER_NAMES.get(str(preview.get("tier")), ""))
                lines.append(f"• Prioridad resultante: Prioridad {preview.get('priority')}, atendida por {tier}")
                if preview.get("covered") is False and preview.get("coverage_note"):
                    lines.append(f"• Importante: {preview['coverage_note']}")
        dispatcher.utter_message(
            response="utter_ask_incident_form_incident_confirmed",
            incident_label=tracker.get_slot("incident_label") or "solicitud",
            summary="\n".join(lines),
        )
        return []


class ActionAskDuplicateDecision(Action):
    """An open ticket of the company for the same device: add to it, or open another?"""

    def name(self) -> Text:
        return "action_ask_incident_form_duplicate_decision"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        try:
            ticket: Dict[str, Any] = json.loads(str(tracker.get_slot("duplicate_ticket") or "{}"))
        except ValueError:
            ticket = {}
        dispatcher.utter_message(
            response="utter_ask_incident_form_duplicate_decision",
            number=ticket.get("number", ""),
            title=ticket.get("title", ""),
            device=ticket.get("device") or ticket.get("device_text") or given(tracker.get_slot("device")) or "",
            priority=ticket.get("priority", ""),
            status=ticket.get("status_name") or "abierto",
            origin=" (alarma de monitoreo SNMP)" if ticket.get("channel") == "snmp" else "",
        )
        return []


class ActionAskDevice(Action):
    """«¿Qué equipo…?», with the company's registered devices as buttons."""

    def name(self) -> Text:
        return "action_ask_incident_form_device"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        context = await customer_context(identity_of(tracker))
        buttons = [{"title": d.name, "payload": d.name} for d in context.devices[:8]]
        dispatcher.utter_message(response="utter_ask_incident_form_device", buttons=buttons)
        return []


class ActionAskCorrectField(Action):
    """Ask which answer to correct, offering only the fields this kind of request has."""

    def name(self) -> Text:
        return "action_ask_incident_form_correct_field"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        fields = questions_for(tracker) or QUESTIONS["network_outage"]
        buttons = [{"title": FIELD_LABELS[f], "payload": f'/inform{{"correct_field":"{f}"}}'} for f in fields]
        dispatcher.utter_message(response="utter_ask_incident_form_correct_field", buttons=buttons)
        return []


class ActionSubmitIncident(Action):
    """Create the ticket (or add to the open one) and tell the customer what happens next."""

    def name(self) -> Text:
        return "action_submit_incident"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        customer = identity_of(tracker)
        reset: List[EventType] = [SlotSet(slot, None) for slot in FORM_SLOTS]
        if customer is None:
            dispatcher.utter_message(response="utter_identity_required")
            return reset
        context = await customer_context(customer)
        duplicate = _duplicate(tracker)
        if tracker.get_slot("duplicate_decision") is True and duplicate.get("number"):
            return await self._add_to(dispatcher, tracker, customer.contact, duplicate, context) + reset
        body = ticket_body(tracker, customer, context)
        if duplicate.get("number"):
            body["related_ticket"] = duplicate["number"]  # the customer chose a new ticket: keep them linked
        try:
            ticket = await backend().create_ticket(
                contact=customer.contact, body=body, idempotency_key=submission_key(tracker)
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
        if body.get("related_ticket"):
            dispatcher.utter_message(
                response="utter_ticket_linked_alarm" if duplicate.get("channel") == "snmp" else "utter_ticket_linked",
                number=body["related_ticket"],
            )
        events = reset + [SlotSet("last_ticket", ticket["number"])]
        if priority == 1:
            events += await hand_off(
                dispatcher, tracker, tier=ticket["tier"], reason="Prioridad 1", ticket=ticket["number"]
            )
        return events

    async def _add_to(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        contact: str,
        ticket: Dict[str, Any],
        context: CustomerContext,
    ) -> List[EventType]:
        lines = [str(tracker.get_slot("description") or "")]
        lines += [line[2:] for line in summary_of(tracker, context)[1:] if not line.endswith(NOT_GIVEN)]
        try:
            await backend().add_comment(contact=contact, number=str(ticket["number"]), text="\n".join(lines))
        except BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []
        except BackendError:
            dispatcher.utter_message(response="utter_ticket_failed")
            return []
        dispatcher.utter_message(response="utter_ticket_comment_added", number=ticket["number"])
        return [SlotSet("last_ticket", ticket["number"])]


def _duplicate(tracker: Tracker) -> Dict[str, Any]:
    raw = tracker.get_slot("duplicate_ticket")
    if not raw or raw == "none":
        return {}
    try:
        value = json.loads(str(raw))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _rma_number(ticket: Dict[str, Any]) -> Optional[str]:
    rma = ticket.get("rma")
    if isinstance(rma, dict) and rma.get("number"):
        return str(rma["number"])
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
