"""Turns that move nothing forward: ask again once; at the second in a row, offer a person.

A turn moves nothing forward when the assistant did not understand it (`nlu_fallback`,
which the FallbackClassifier also gives for low confidence), when it is a bare «sí» /
«no» with no question open, or when it is `out_of_scope`.

`out_of_scope` counts, but keeps its real answer. The answer (what the assistant does
cover) is given every time; yet it moves the support conversation no further, and the
intent also holds «no sé», «ni idea» (data/nlu/out_of_scope.yml: a customer who is lost,
not one who declines). So «asdf qwe», then «mmm no sé» offers a person, and so do two
off-topic questions in a row: declining costs the customer one button, while never
offering a person to someone who keeps saying «no sé» costs the conversation.

The rules send every `nlu_fallback` and `out_of_scope`, and every `affirm` / `deny`
outside a form, here. They cannot see the questions asked from inside other custom
actions («No pude registrar el tiquete… ¿Desea que le comunique con un especialista?»),
so this action reads the previous bot turn (the response names Rasa records in each bot
event) and tells an answer to a question from a bare yes/no.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .counts import COURSE_BOOKING
from .handoff import hand_off_to_person
from .identity import identity_of
from .info import asks_price, utter_price_info
from .intake import customer_context
from .understanding import detect_kind, named_kind, plain, understand

# «Necesito un curso para 5 personas el 1 de febrero…»: a booking, not a question about courses.

YES_NO = ("affirm", "deny")
# Questions whose «sí» means «hand me to a person» (and whose «no» declines it). The intake
# form's own offer is answered inside the form; it is here for a «sí» that arrives after it.
PERSON_OFFERS = frozenset(
    {
        "utter_offer_human",
        "utter_offer_human_other_need",
        "utter_ticket_failed",
        "utter_training_failed",
        "utter_intake_offer_human",
        "utter_training_failed_rest",
    }
)
# «¿Hay algo más en lo que pueda ayudarle?», «Cuénteme en qué más puedo ayudarle»: «no»
# closes the conversation, «sí» asks what.
ANYTHING_ELSE = frozenset({"utter_you_are_welcome", "utter_form_stopped", "utter_ok_continue"})
# What the assistant says to a turn that moved nothing forward (`utter_default` also comes
# from Rasa's own `action_default_fallback`, when no rule applies).
NOT_UNDERSTOOD = "utter_default"
BARE_YES_NO = "utter_how_can_i_help"
OUT_OF_SCOPE = "utter_out_of_scope"
OFFER_PERSON = "utter_offer_human"
OFFER_PERSON_AFTER_OUT_OF_SCOPE = "utter_offer_human_other_need"
NO_PROGRESS_REPLIES = frozenset(
    {NOT_UNDERSTOOD, BARE_YES_NO, OUT_OF_SCOPE, OFFER_PERSON, OFFER_PERSON_AFTER_OUT_OF_SCOPE}
)
HANDOFF = "handoff"
# At this many no-progress turns in a row, a person is offered.
OFFER_AT = 2
# Events after which the conversation starts afresh.
SESSION_BOUNDARIES = ("session_started", "restart")


@dataclass
class Turn:
    """One customer message and the response names the assistant sent after it."""

    intent: Optional[str]
    replies: List[str] = field(default_factory=list)


def turns_of(events: Iterable[Dict[str, Any]]) -> List[Turn]:
    """The customer turns of the current session, oldest first."""
    turns: List[Turn] = []
    for event in events:
        kind = event.get("event")
        if kind in SESSION_BOUNDARIES:
            turns = []
        elif kind == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            turns.append(Turn(intent=intent))
        elif kind == "bot" and turns:
            name = (event.get("metadata") or {}).get("utter_action")
            if name:
                turns[-1].replies.append(name)
    return turns


def earlier_turns(tracker: Tracker) -> List[Turn]:
    """The turns before the message being answered now (that one has no reply yet)."""
    turns = turns_of(tracker.events)
    if turns and not turns[-1].replies:
        turns = turns[:-1]
    return turns


def consecutive_no_progress(turns: List[Turn]) -> int:
    """How many of the latest turns in a row moved nothing forward (by what the assistant replied).

    Any other reply ends the run: a real answer, or «De acuerdo…» after a declined person.
    """
    count = 0
    for turn in reversed(turns):
        if not NO_PROGRESS_REPLIES.intersection(turn.replies):
            break
        count += 1
    return count


def reply_to(intent: Optional[str], turns: List[Turn]) -> List[str]:
    """The response names for the current message, or `[HANDOFF]`."""
    asked = set(turns[-1].replies) if turns else set()
    if intent in YES_NO and asked & PERSON_OFFERS:
        return [HANDOFF] if intent == "affirm" else ["utter_ok_continue"]
    if intent in YES_NO and asked & ANYTHING_ELSE:
        return ["utter_ok_continue"] if intent == "affirm" else ["utter_goodbye"]
    offer = consecutive_no_progress(turns) + 1 >= OFFER_AT
    if intent == "out_of_scope":
        # The real answer first, always.
        return [OUT_OF_SCOPE, OFFER_PERSON_AFTER_OUT_OF_SCOPE] if offer else [OUT_OF_SCOPE]
    if offer:
        return [OFFER_PERSON]
    return [BARE_YES_NO] if intent in YES_NO else [NOT_UNDERSTOOD]


class ActionFallback(Action):
    """Not understood, off-topic or a bare yes/no: answer, then offer a person; answers open questions."""

    def name(self) -> Text:
        return "action_promptlink_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        text = str(tracker.latest_message.get("text") or "")
        if intent in ("nlu_fallback", "out_of_scope") and asks_price(text, intent):
            utter_price_info(dispatcher)  # «¿cuánto cuesta el soporte?»: the plan gives no prices, and says so
            return []
        unplaced = intent in ("nlu_fallback", "out_of_scope") and not tracker.active_loop.get("name")
        if unplaced:
            # A long, colloquial request the classifier could not place: its words say what it is.
            if COURSE_BOOKING.search(plain(text)):
                return [FollowupAction("training_form")]
            if detect_kind(text, min_score=2) or named_kind(text):
                return [FollowupAction("action_start_incident")]
            if detect_kind(text):  # one sign of a problem: it also has to state a fact (a device, a time…)
                context = await customer_context(identity_of(tracker))
                if understand(text, devices=context.devices, tz=context.timezone).values():
                    return [FollowupAction("action_start_incident")]
        replies = reply_to(intent, earlier_turns(tracker))
        if replies == [HANDOFF]:
            return await hand_off_to_person(
                dispatcher, tracker, reason="El cliente aceptó hablar con una persona que le ofreció el asistente"
            )
        for response in replies:
            dispatcher.utter_message(response=response)
        return []
