"""Ticket status and deployment status: only the identified customer's own data."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .alarms import answer_network_alarms
from .backend import BackendError, BackendUnavailable, backend
from .forms_common import VerificationMixin, verification_slots
from .identity import identity_of
from .responses import response_text
from .spanish import plural
from .vocabulary import STATUS_NAMES, TIER_NAMES, UNKNOWN_STATUS, UNKNOWN_TIER

# Ticket lines one answer shows; the backend says how many are open in all.
MAX_TICKET_LINES = 5
NUMBER = re.compile(r"(?:PL-(\d{4})-)?0*(\d{1,6})$")


def normalise_number(raw: Optional[str], *, year: int = 2026) -> Optional[str]:
    """PL-2026-000123 from «PL-2026-000123», «123» or «el 123»."""
    if not raw:
        return None
    match = NUMBER.search(raw.strip().upper())
    if not match:
        return None
    return f"PL-{match.group(1) or year}-{int(match.group(2)):06d}"


class ActionRememberRequest(Action):
    """Before an identity check, remember what the customer asked for (and any ticket number)."""

    def name(self) -> Text:
        return "action_remember_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        number = next(tracker.get_latest_entity_values("ticket_number"), None)
        return [SlotSet("pending_request", intent), SlotSet("ticket_number", number)]


class ValidateIdentityForm(VerificationMixin, FormValidationAction):
    def name(self) -> Text:
        return "validate_identity_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        return verification_slots(tracker)


class ActionResumeRequest(Action):
    """After identity is known: answer what was asked (ticket status or deployment status)."""

    def name(self) -> Text:
        return "action_resume_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        customer = identity_of(tracker)
        if customer is None:
            dispatcher.utter_message(response="utter_identity_required")
            return [SlotSet("pending_request", None)]
        request = tracker.get_slot("pending_request")
        try:
            if request == "ask_deployment_status":
                await _deployment_status(dispatcher, customer.contact, customer.customer)
            elif request == "ask_network_alarms":
                await answer_network_alarms(dispatcher, domain, customer.contact)
            else:
                number = normalise_number(tracker.get_slot("ticket_number"))
                await _ticket_status(dispatcher, domain, customer.contact, number)
        except BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_unavailable")
        except BackendError:
            dispatcher.utter_message(response="utter_backend_unavailable")
        return [SlotSet("pending_request", None), SlotSet("ticket_number", None)]


def _ticket_line(ticket: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "number": ticket["number"],
        "title": ticket["title"],
        "priority": ticket["priority"],
        "tier": TIER_NAMES.get(ticket.get("tier") or "", UNKNOWN_TIER),
        "status": STATUS_NAMES.get(ticket.get("status") or "", UNKNOWN_STATUS),
    }


async def _ticket_status(
    dispatcher: CollectingDispatcher, domain: DomainDict, contact: str, number: Optional[str]
) -> None:
    if number:
        ticket = await backend().get_ticket(contact=contact, number=number)
        if ticket is None:
            # Another customer's ticket answers exactly like a missing one.
            dispatcher.utter_message(response="utter_ticket_not_found", number=number)
            return
        dispatcher.utter_message(response="utter_ticket_status", **_ticket_line(ticket))
        return
    page = await backend().open_tickets_page(contact=contact, limit=MAX_TICKET_LINES)
    tickets = list(page.get("items") or [])[:MAX_TICKET_LINES]
    total = max(int(page.get("total") or 0), len(tickets))
    if not tickets:
        dispatcher.utter_message(response="utter_no_open_tickets")
        return
    open_count = plural(total, "tiquete abierto", "tiquetes abiertos")
    # One message, one line per ticket (the widget shows the «• » lines as a list in one bubble;
    # a message per ticket was seven bubbles in a row).
    lines = "\n".join(response_text(domain, "utter_open_ticket_line", **_ticket_line(t)) for t in tickets)
    if total > len(tickets):
        # The backend lists the most urgent update first: say the list is cut, and how.
        dispatcher.utter_message(
            response="utter_open_tickets_intro_cut", tickets=open_count, shown=len(tickets), lines=lines
        )
    else:
        dispatcher.utter_message(response="utter_open_tickets_intro", tickets=open_count, lines=lines)


async def _deployment_status(dispatcher: CollectingDispatcher, contact: str, customer: str) -> None:
    try:
        plan = await backend().deployment_plan(contact=contact, customer=customer)
    except BackendError as exc:
        if exc.status != 404:  # unreachable (status 0) or refused: the outage message
            raise
        # «El cliente no tiene un plan de despliegue» is the backend's wording; the customer reads «su empresa».
        dispatcher.utter_message(response="utter_no_deployment_plan")
        return
    dispatcher.utter_message(
        response="utter_deployment_status", stage=plan["current_stage"], stage_name=plan["current_stage_name"]
    )
