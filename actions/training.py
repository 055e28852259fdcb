"""Booking on-site courses: up to six attendees each, two days, facilities the customer provides.

The form (this module) reads every message for every answer, whatever it asked: the opening «quiero un
curso para 8 ingenieros en Bogotá el 15 de marzo» fills three answers, and «perdón, son 5
personas» corrects one at any point. More than six people get the choice of one course for
six or several even courses; a card shows everything before anything is registered
(`training_submit`: the card, the split offer and the registration).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .counts import MAX_PER_COURSE, Attendance, attendees_in_words, even_split, number_word, parse_attendance
from .forms_common import (
    ACTIVATION,
    ANSWER,
    RESUMED,
    STALE,
    VerificationMixin,
    customer_code_said,
    turn_of,
    verification_slots,
)
from .identity import VERIFICATION_SLOTS
from .spanish import date_in_words
from .training_answers import (
    FACILITIES,
    DateReading,
    FacilitiesReading,
    date_problem,
    facilities_in_words,
    field_named,
    nothing_to_correct,
    parse_course_date,
    parse_facilities,
    parse_site,
    wants_change,
    yes_or_no,
)
from .understanding import detect_kind

FORM = "training_form"
MAX_ATTENDEES_IN_ALL = 60  # more than ten courses is planned with a person, not in a chat
COURSE_SLOTS = [
    "attendees",
    "training_groups",
    "training_courses",
    "training_date",
    "training_site",
    "facilities_ready",
    "facilities_missing",
    "training_confirmed",
]
TRAINING_SLOTS = COURSE_SLOTS + ["training_correct_field"]
# The slots each answer of «¿Qué dato desea corregir?» forgets, so the form asks it again.
FIELD_SLOTS = {
    "attendees": ["attendees", "training_groups", "training_courses"],
    "date": ["training_date"],
    "site": ["training_site"],
    "facilities": ["facilities_ready", "facilities_missing"],
}
# Intents a message answering the form's question may carry; anything else with nothing to
# read in it is a digression (the form rejects, the rules answer, the form asks again).
ANSWER_INTENTS = frozenset({"inform", "affirm", "deny", "request_training"})
LEAVING_INTENTS = frozenset({"stop", "request_human"})
REPORT_INTENTS = frozenset(
    {"report_network_outage", "report_software_bug", "report_hardware_failure", "report_problem",
     "request_enhancement", "request_configuration_help"}
)  # fmt: skip
YES_NO_QUESTIONS = frozenset({"facilities_ready", "training_confirmed", "training_correct_field"})


def today() -> date:
    """The action server's date (tests replace it)."""
    return date.today()


# --- What a message says -----------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    attendance: Attendance
    day: DateReading
    site: Optional[str]
    facilities: FacilitiesReading
    yes: Optional[bool]
    field: Optional[str]

    def has_data(self) -> bool:
        return bool(
            self.attendance
            or self.day.mentioned
            or self.site
            or self.facilities.missing is not None
            or self.facilities.not_all
        )


def read(text: str, intent: Optional[str], asked: Optional[str], *, on: date) -> Reading:
    """Everything `text` says about the course; `asked` is the slot it answers (None: read it for data only)."""
    attendance = parse_attendance(text, asked=asked == "attendees", choosing=asked == "training_groups")
    day = parse_course_date(text, today=on, asked=asked == "training_date")
    question = {"facilities_ready": "have", "facilities_missing": "lack"}.get(asked or "")
    facilities = parse_facilities(text, question=question)
    yes = yes_or_no(text, intent) if asked in YES_NO_QUESTIONS else None
    if asked == "training_correct_field" and yes is None and nothing_to_correct(text):
        yes = True
    field = None
    if "?" not in text and (
        asked == "training_correct_field" or (asked == "training_confirmed" and wants_change(text))
    ):
        field = field_named(text)
    others = Reading(attendance, day, None, facilities, None, None)
    if asked == "training_site" and _could_be_a_place(text, intent) and not others.has_data():
        site = parse_site(text, asked=True)  # the whole answer: «nuestra sede de Bogotá, calle 100»
    else:
        site = parse_site(text)
    return Reading(attendance, day, site, facilities, yes, field)


def _could_be_a_place(text: str, intent: Optional[str]) -> bool:
    """An answer to «¿En qué sede…?» taken whole: not a question, a yes/no, a button or a digression."""
    # A short answer naming a place is one whatever the classifier saw in it («sede Chapinero»);
    # a longer one with signs of a fault is not («se cayó la red de la sede norte»).
    short_place = intent in REPORT_INTENTS and len(text.split()) <= 6 and detect_kind(text) is None
    return (
        (intent in ANSWER_INTENTS | {"nlu_fallback", "out_of_scope", None} or short_place)
        and "?" not in text
        and not text.strip().startswith("/")
        and yes_or_no(text, None) is None
        and len(text.strip()) >= 2
    )


# --- The form ----------------------------------------------------------------------------


def next_slot(values: Dict[str, Any], tracker: Tracker) -> Optional[str]:
    """The question to ask next (None: everything is known and confirmed)."""
    for slot in verification_slots(tracker):
        if tracker.get_slot(slot) is None:
            return slot
    if values.get("attendees") is None:
        return "attendees"
    if not values.get("training_groups"):
        return "training_groups"
    for slot in ("training_date", "training_site", "facilities_ready"):
        if values.get(slot) is None:
            return slot
    if values.get("facilities_ready") is False and values.get("facilities_missing") is None:
        return "facilities_missing"
    if values.get("training_confirmed") is None:
        return "training_confirmed"
    if values.get("training_confirmed") is False:
        return "training_correct_field"
    return None


class ValidateTrainingForm(VerificationMixin, FormValidationAction):
    """Reads each message for all the course's answers and decides the next question."""

    def name(self) -> Text:
        return "validate_training_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        values = {slot: tracker.get_slot(slot) for slot in COURSE_SLOTS}
        slots = verification_slots(tracker) + ["attendees", "training_groups", "training_date", "training_site"]
        slots.append("facilities_ready")
        if values["facilities_ready"] is False:
            slots.append("facilities_missing")
        slots.append("training_confirmed")
        if values["training_confirmed"] is False:
            slots.append("training_correct_field")
        return slots

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        turn = turn_of(tracker, FORM)
        asked = tracker.get_slot("requested_slot")
        if turn != ACTIVATION and asked in VERIFICATION_SLOTS:
            return await self._verify(dispatcher, tracker, domain)
        before = {slot: tracker.get_slot(slot) for slot in COURSE_SLOTS}
        values = dict(before)
        message = tracker.latest_message
        text = str(message.get("text") or "")
        intent = (message.get("intent") or {}).get("name")
        on = today()
        form = CourseForm(values, dispatcher, on)
        said = customer_code_said(tracker, answering=False) if turn != STALE else {}
        tracker.add_slots([SlotSet(slot, value) for slot, value in said.items()])  # «soy Ana de CABLEANDINA»
        if turn == ACTIVATION:
            form.start()
            form.take(read(text, intent, None, on=on), asked=None, acknowledge=False)
        elif turn == ANSWER and asked:
            if intent in LEAVING_INTENTS:
                return []
            if not form.answer(read(text, intent, asked, on=on), asked, intent):
                return []  # a digression: the form rejects, a rule answers, the form asks again
        elif turn != STALE:
            form.take(read(text, intent, None, on=on), asked=None, acknowledge=True)
        events: List[EventType] = [SlotSet(slot, values[slot]) for slot in COURSE_SLOTS if values[slot] != before[slot]]
        events += [SlotSet(slot, value) for slot, value in said.items()]
        if turn in (ANSWER, RESUMED) and not events and asked:
            events.append(SlotSet(asked, values.get(asked)))  # handled (if unclearly): the form does not reject
        return events + [SlotSet("requested_slot", next_slot(values, tracker))]

    async def _verify(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """An identity answer (code, e-mail, one-time code): validated as in every form, never read for course data."""
        checked = [e for e in await super().run(dispatcher, tracker, domain) if e.get("name") != "requested_slot"]
        values = {slot: tracker.get_slot(slot) for slot in COURSE_SLOTS}
        return checked + [SlotSet("requested_slot", next_slot(values, tracker))]


class CourseForm:
    """The course answers being collected, changed by what the customer says."""

    def __init__(self, values: Dict[str, Any], dispatcher: CollectingDispatcher, on: date) -> None:
        self.values = values
        self.dispatcher = dispatcher
        self.today = on

    def start(self) -> None:
        """A new request forgets the last one, unless that one was confirmed but could not be registered."""
        if self.values.get("training_confirmed") is True:
            self.values["training_confirmed"] = None  # shown again before it is registered
            return
        for slot in COURSE_SLOTS:
            self.values[slot] = None

    def answer(self, reading: Reading, asked: str, intent: Optional[str]) -> bool:
        """Apply an answer to the question `asked`; False when the message is no answer at all."""
        before = dict(self.values)
        told = len(self.dispatcher.messages)
        self.take(reading, asked=asked, acknowledge=True)
        changed = self.values != before
        if asked in ("training_confirmed", "training_correct_field"):
            if changed:
                self.values["training_confirmed"] = None  # corrected: the card again
                return True
            if reading.field is not None and reading.yes is not True:
                self._forget(reading.field)  # «corregir la fecha», «la sede»: ask just that again
                return True
            if reading.yes is not None:
                self.values["training_confirmed"] = reading.yes if asked == "training_confirmed" else None
                return True
        elif asked == "facilities_ready" and self.values.get("facilities_ready") is None and reading.yes is not None:
            self.values.update(facilities_ready=reading.yes, facilities_missing=[] if reading.yes else None)
            return True
        if self._answered(asked) or changed:
            return True  # answered, or other answers given and this question asked again
        if not reading.has_data() and reading.yes is None and intent not in ANSWER_INTENTS:
            return False
        if len(self.dispatcher.messages) == told:
            self._unclear(asked)
        return True

    def _answered(self, asked: str) -> bool:
        if asked == "training_groups":
            return bool(self.values.get("training_groups"))
        if asked == "facilities_missing":
            return self.values.get("facilities_missing") is not None or self.values.get("facilities_ready") is True
        return self.values.get(asked) is not None

    def take(self, reading: Reading, *, asked: Optional[str], acknowledge: bool) -> None:
        """Store every answer the reading carries; say so when it changes an earlier answer."""
        self._attendance(reading.attendance, asked, acknowledge)
        self._date(reading.day, asked, acknowledge)
        if reading.site and reading.site != self.values.get("training_site"):
            earlier = self.values.get("training_site")
            self.values["training_site"] = reading.site
            if acknowledge and earlier is not None and asked != "training_site":
                self.dispatcher.utter_message(response="utter_training_site_noted", site=reading.site)
        self._facilities(reading.facilities, asked, acknowledge)

    def _attendance(self, said: Attendance, asked: Optional[str], acknowledge: bool) -> None:
        plan = self._plan(said) if said else None
        if plan is None:
            return
        total, groups = plan
        earlier = (self.values.get("attendees"), self.values.get("training_groups"))
        self.values.update(attendees=str(total), training_groups=groups, training_courses=None)
        changed = (str(total), groups) != earlier
        answering = asked in ("attendees", "training_groups")
        if acknowledge and changed and earlier[0] is not None and groups and not answering:
            self.dispatcher.utter_message(
                response="utter_training_attendees_noted", attendees=attendees_in_words(groups)
            )

    def _plan(self, said: Attendance) -> Optional[Tuple[int, Optional[List[int]]]]:
        """The head count and course sizes `said` leads to (sizes None: ask the split); None: nothing to store."""
        total = as_int(self.values.get("attendees"))
        if said.groups:
            return sum(said.groups), (list(said.groups) if max(said.groups) <= MAX_PER_COURSE else None)
        if said.one_course:
            size = said.total or min(total or MAX_PER_COURSE, MAX_PER_COURSE)
            if size > MAX_PER_COURSE:
                self.dispatcher.utter_message(response="utter_training_plan_unclear")
                return None
            return size, [size]
        if said.split:
            return (total, even_split(total)) if total else None
        courses = said.courses or as_int(self.values.get("training_courses"))
        previous = self.values.get("training_groups") or []
        if said.total is not None:
            if courses is None and len(previous) > 1 and said.total > MAX_PER_COURSE:
                courses = len(previous)  # «perdón, son 10»: still the number of courses chosen before
            total = said.total
        if total is None:
            self.values["training_courses"] = courses  # «dos cursos» before the head count
            return None
        if total < 1 or total > MAX_ATTENDEES_IN_ALL:
            if total < 1:
                self.dispatcher.utter_message(response="utter_attendees_invalid")
            else:
                self.dispatcher.utter_message(response="utter_training_too_many_attendees", limit=MAX_ATTENDEES_IN_ALL)
            return None
        if not courses:
            return total, ([total] if total <= MAX_PER_COURSE else None)
        groups = even_split(total, courses) or ([total] if total <= MAX_PER_COURSE else None)
        if groups is None and said.courses:
            self.dispatcher.utter_message(
                response="utter_training_courses_too_few",
                courses=f"{number_word(courses)} cursos",
                attendees=total,
                needed=f"{number_word(len(even_split(total) or []))} cursos",
            )
        return total, groups

    def _date(self, said: DateReading, asked: Optional[str], acknowledge: bool) -> None:
        if said.day is None:
            if said.mentioned and asked == "training_date":
                self.dispatcher.utter_message(response="utter_training_date_invalid")
            return
        problem = date_problem(said.day, today=self.today)
        if problem is not None:
            self.dispatcher.utter_message(
                response="utter_training_date_not_future" if problem == "past" else "utter_training_date_too_far",
                date=date_in_words(said.day),
            )
            return
        earlier = self.values.get("training_date")
        self.values["training_date"] = said.day.isoformat()
        if acknowledge and earlier is not None and earlier != said.day.isoformat() and asked != "training_date":
            self.dispatcher.utter_message(response="utter_training_date_noted", date=date_in_words(said.day))

    def _facilities(self, said: FacilitiesReading, asked: Optional[str], acknowledge: bool) -> None:
        if said.not_all:
            self.values.update(facilities_ready=False, facilities_missing=None)
            return
        if said.missing is None:
            return
        missing = [key for key in FACILITIES if key in said.missing]
        earlier = (self.values.get("facilities_ready"), self.values.get("facilities_missing"))
        self.values.update(facilities_ready=not missing, facilities_missing=missing)
        if (
            acknowledge
            and earlier[0] is not None
            and earlier != (not missing, missing)
            and asked not in ("facilities_ready", "facilities_missing")
        ):
            self.dispatcher.utter_message(
                response="utter_training_facilities_noted", facilities=facilities_in_words(missing)
            )

    def _forget(self, field: str) -> None:
        for slot in FIELD_SLOTS[field]:
            self.values[slot] = None
        self.values["training_confirmed"] = None

    def _unclear(self, asked: str) -> None:
        response = {
            "attendees": "utter_attendees_invalid",
            "training_groups": "utter_training_plan_unclear",
            "training_date": "utter_training_date_invalid",
            "training_site": "utter_training_site_unclear",
            "facilities_ready": "utter_training_facilities_unclear",
            "facilities_missing": "utter_training_missing_unclear",
            "training_confirmed": "utter_training_confirm_unclear",
            "training_correct_field": "utter_training_correct_field_invalid",
        }.get(asked)
        if response:
            self.dispatcher.utter_message(response=response)


def as_int(value: Any) -> Optional[int]:
    """A slot's number («8» stored as text), or None."""
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
