"""Pieces shared by the forms: identity verification slots, yes/no extraction, where a message stands."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .answers import parse_email, plain, yes_no
from .backend import BackendError, BackendUnavailable, backend
from .identity import VERIFICATION_SLOTS, code_answer, conversation_id, customer_code_in, identity_of

MAX_TEXT = 2000
# Where the latest message stands in a run of a form (`turn_of`).
ACTIVATION, ANSWER, RESUMED, STALE = "activation", "answer", "resumed", "stale"


def extract_yes_no(slot: str, tracker: Tracker) -> Dict[Text, Any]:
    """Fill `slot` from a yes/no answer, only while the form asks for it."""
    if tracker.get_slot("requested_slot") != slot:
        return {}
    value = yes_no(tracker.latest_message)
    return {} if value is None else {slot: value}


def verification_slots(tracker: Tracker) -> List[Text]:
    """The verification steps still needed before this customer may open or read tickets."""
    return [] if identity_of(tracker) is not None else list(VERIFICATION_SLOTS)


def customer_code_said(tracker: Tracker, *, answering: bool) -> Dict[Text, Any]:
    """The customer code in the latest message, while it is still needed.

    Answering the code question, the whole answer is the code whatever the classifier made of it
    («cableandina» may look like a greeting); any other message gives it only when written in
    capitals after a cue («soy Luis de CABLEANDINA»).
    """
    if not verification_slots(tracker) or tracker.get_slot("customer_code") is not None:
        return {}
    text = str(tracker.latest_message.get("text") or "")
    if text.startswith("/"):
        return {}
    asked = answering and tracker.get_slot("requested_slot") == "customer_code"
    code = (code_answer(text) if asked else None) or customer_code_in(text)
    return {"customer_code": code} if code else {}


def email_with_code(tracker: Tracker) -> Dict[Text, Any]:
    """The e-mail given with the customer code («TELECARIBE, mi correo es maria@…»): it is not asked again."""
    if not verification_slots(tracker) or tracker.get_slot("contact_email") is not None:
        return {}
    if tracker.get_slot("requested_slot") != "customer_code":
        return {}
    text = str(tracker.latest_message.get("text") or "")
    email = parse_email(text)
    return {"contact_email": email} if email and (code_answer(text) or customer_code_in(text)) else {}


class VerificationMixin:
    """Validation of customer code, e-mail and one-time code (anonymous visitors)."""

    async def extract_customer_code(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return customer_code_said(tracker, answering=True)

    async def extract_contact_email(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return email_with_code(tracker)

    async def validate_customer_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        raw = str(value or "")
        code = code_answer(raw) or customer_code_in(raw) or plain(raw).upper().replace(" ", "")
        if not code or len(code) > 32:
            dispatcher.utter_message(response="utter_customer_code_invalid")
            return {"customer_code": None}
        return {"customer_code": code}

    async def validate_contact_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        email = parse_email(str(value or ""))
        if email is None:
            dispatcher.utter_message(response="utter_contact_email_invalid")
            return {"contact_email": None}
        try:
            await backend().start_verification(
                conversation_id=conversation_id(tracker), customer=str(tracker.get_slot("customer_code")), email=email
            )
        except BackendError as exc:
            dispatcher.utter_message(
                response="utter_verification_too_many" if exc.status == 429 else "utter_backend_unavailable"
            )
            return {"contact_email": None, "customer_code": None}
        dispatcher.utter_message(response="utter_verification_sent")
        return {"contact_email": email}

    async def validate_otp_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        code = "".join(ch for ch in str(value or "") if ch.isdigit())
        if len(code) != 6:
            dispatcher.utter_message(response="utter_otp_code_invalid")
            return {"otp_code": None}
        try:
            result = await backend().confirm_verification(conversation_id=conversation_id(tracker), code=code)
        except BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_unavailable")
            return {"otp_code": None}
        except BackendError as exc:
            attempts_left = exc.body.get("attempts_left")
            if isinstance(attempts_left, int) and attempts_left > 0:
                dispatcher.utter_message(response="utter_otp_code_wrong", attempts_left=attempts_left)
                return {"otp_code": None}
            dispatcher.utter_message(response="utter_verification_failed")
            # Expired or too many attempts: start again from the customer code; a new code will be sent.
            return {"otp_code": None, "contact_email": None, "customer_code": None}
        dispatcher.utter_message(response="utter_verification_ok", name=str(result.get("name") or "").split(" ")[0])
        return {
            "otp_code": "verificado",
            "verified": True,
            "verified_contact": result.get("contact"),
            "verified_customer": result.get("customer"),
            "verified_name": result.get("name"),
        }


def turn_of(tracker: Tracker, form: Text) -> str:
    """How the latest message relates to this run of `form`.

    ACTIVATION: it opened the form (also when another action started it, e.g. the fallback's
    «curso para 5…»). ANSWER: it answers the question the form asked last. RESUMED: the form
    asked something else before it (e.g. «¿Desea continuar…?»): read it for data, not as an
    answer. STALE: it was already handled (the form comes back after a digression was answered).
    """
    # Actions Rasa runs between a message and the validation of that message: any other action
    # (or a bot message, or a rejection) after it means the message was already handled.
    quiet = {form, "action_listen", "action_extract_slots", f"validate_{form}"}
    events = tracker.events
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)
    after = events[last_user + 1 :]
    if any(e.get("event") == "active_loop" and e.get("name") == form for e in after):
        return ACTIVATION  # Rasa marks the form active before it validates what the opening said
    for event in after:
        kind = event.get("event")
        if kind in ("action_execution_rejected", "bot") or (kind == "action" and event.get("name") not in quiet):
            return STALE
    previous = next(
        (
            e.get("name")
            for e in reversed(events[: max(last_user, 0)])
            if e.get("event") == "action" and e.get("name") != "action_listen"
        ),
        None,
    )
    return ANSWER if previous == form else RESUMED


def bounded_text(value: Any, limit: int = MAX_TEXT) -> str:
    return " ".join(str(value or "").split())[:limit]
