"""Booking an on-site course: up to six attendees, two days, facilities the customer provides."""

from __future__ import annotations

from datetime import date
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .answers import parse_count, parse_date
from .backend import BackendError, BackendUnavailable, backend
from .forms_common import VerificationMixin, bounded_text, extract_yes_no, verification_slots
from .identity import identity_of

MAX_ATTENDEES = 6
TRAINING_SLOTS = ["attendees", "training_date", "training_site", "facilities_ready"]


class ValidateTrainingForm(VerificationMixin, FormValidationAction):
    def name(self) -> Text:
        return "validate_training_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        return verification_slots(tracker) + TRAINING_SLOTS

    async def extract_facilities_ready(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return extract_yes_no("facilities_ready", tracker)

    async def validate_attendees(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        count = parse_count(str(value or ""))
        if count is None or count < 1:
            dispatcher.utter_message(response="utter_attendees_invalid")
            return {"attendees": None}
        if count > MAX_ATTENDEES:
            dispatcher.utter_message(response="utter_too_many_attendees")
            return {"attendees": None}
        return {"attendees": str(count)}

    async def validate_training_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        today = date.today()
        parsed = parse_date(str(value or ""), today=today)
        if parsed is None or parsed <= today:
            dispatcher.utter_message(response="utter_training_date_invalid")
            return {"training_date": None}
        return {"training_date": parsed.isoformat()}

    async def validate_training_site(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        site = bounded_text(value, 300)
        return {"training_site": site or None}


class ActionSubmitTraining(Action):
    def name(self) -> Text:
        return "action_submit_training"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        reset: List[EventType] = [SlotSet(slot, None) for slot in TRAINING_SLOTS]
        customer = identity_of(tracker)
        if customer is None:
            dispatcher.utter_message(response="utter_identity_required")
            return reset
        ready = tracker.get_slot("facilities_ready") is True
        body = {
            "requested_date": tracker.get_slot("training_date"),
            "attendees": int(tracker.get_slot("attendees") or 0),
            "site": tracker.get_slot("training_site") or "",
            "facilities": {"room": ready, "projector": ready, "whiteboard": ready, "workstations_internet": ready},
        }
        try:
            request = await backend().request_training(contact=customer.contact, body=body)
        except BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []
        except BackendError:
            dispatcher.utter_message(response="utter_training_failed")
            return reset
        dispatcher.utter_message(
            response="utter_training_requested",
            date=request["requested_date"],
            attendees=request["attendees"],
            notice_date=request["materials_notice_due"],
        )
        if request.get("short_notice"):
            dispatcher.utter_message(response="utter_training_short_notice")
        if request.get("missing_facilities"):
            dispatcher.utter_message(response="utter_training_facilities_reminder")
        return reset
