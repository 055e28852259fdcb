"""The training form's questions that need the answers (the split offer, the card) and its submission.

One training request per course: a split of eight people is two requests of four, same
date, site and facilities, and the customer is told the team coordinates the second date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .backend import BackendError, BackendUnavailable, backend
from .counts import (
    attendees_in_words,
    courses_in_words,
    courses_payload,
    courses_title,
    even_split,
    later_courses,
    number_word,
    sizes_in_words,
)
from .identity import identity_of
from .spanish import date_in_words, plural
from .training import TRAINING_SLOTS, as_int
from .training_answers import FACILITIES, facilities_in_words, missing_in_words


@dataclass(frozen=True)
class CourseRequest:
    """The confirmed answers: course sizes, date, site and the facilities the site lacks."""

    groups: List[int]
    day: date
    site: str
    missing: List[str]

    @classmethod
    def of(cls, tracker: Tracker) -> Optional[CourseRequest]:
        """The request in the slots, or None when an answer is missing (the form never gets here without them)."""
        groups = [int(g) for g in tracker.get_slot("training_groups") or []]
        day = _day(tracker.get_slot("training_date"))
        if not groups or day is None or not tracker.get_slot("training_site"):
            return None
        return cls(
            groups=groups,
            day=day,
            site=str(tracker.get_slot("training_site")),
            missing=[str(key) for key in tracker.get_slot("facilities_missing") or []],
        )

    def words(self) -> Dict[str, str]:
        """The card's values, as the customer reads them (no ISO date, real plurals)."""
        return {
            "attendees_words": attendees_in_words(self.groups),
            "date_words": date_in_words(self.day),
            "site": self.site,
            "facilities_words": facilities_in_words(self.missing),
        }

    def body(self, size: int, number: int) -> Dict[str, Any]:
        """The backend's training request for course `number` (every course shares date, site and facilities)."""
        body: Dict[str, Any] = {
            "requested_date": self.day.isoformat(),
            "attendees": size,
            "site": self.site,
            "facilities": {key: key not in self.missing for key in FACILITIES},
        }
        if len(self.groups) > 1:
            # Staff read this to keep the courses together: the backend has no field for a series.
            body["topics"] = (
                f"Curso {number} de {len(self.groups)} de una misma solicitud ({sum(self.groups)} asistentes, "
                f"grupos de {sizes_in_words(self.groups)}); fechas de los demás cursos por coordinar con el cliente."
            )
        return body


# --- Questions the form asks with words that depend on the answers ----------------------


class ActionAskTrainingGroups(Action):
    """«Para 8 personas puedo registrar un curso para 6 o dos cursos de 4. ¿Qué prefiere?»"""

    def name(self) -> Text:
        return "action_ask_training_form_training_groups"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        total = as_int(tracker.get_slot("attendees"))
        split = even_split(total) if total else None
        if total is None or split is None:
            dispatcher.utter_message(response="utter_ask_training_form_attendees")
            return []
        dispatcher.utter_message(
            response="utter_training_split_offer",
            attendees=total,
            split_words=courses_in_words(split),
            split_title=courses_title(split),
            split_payload=courses_payload(split),
        )
        return []


class ActionAskTrainingConfirmed(Action):
    """The card: attendees (and the split), the date in words, the site and the facilities; «¿Es correcto?»"""

    def name(self) -> Text:
        return "action_ask_training_form_training_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        course = CourseRequest.of(tracker)
        if course is None:
            return []
        groups = course.groups
        if len(groups) == 1:
            dispatcher.utter_message(response="utter_training_confirm", **course.words())
            return []
        words = {
            **course.words(),
            "attendees_words": f"{plural(sum(groups), 'asistente', 'asistentes')} ({sizes_in_words(groups)})",
        }
        dispatcher.utter_message(
            response="utter_training_confirm_split",
            **words,
            courses=f"{number_word(len(groups))} cursos",
            later_courses=later_courses(len(groups)),
        )
        return []


# --- Registering ----------------------------------------------------------------------------


class ActionSubmitTraining(Action):
    """One training request per course, then one «Registré su solicitud de curso…» per course."""

    def name(self) -> Text:
        return "action_submit_training"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        reset: List[EventType] = [SlotSet(slot, None) for slot in TRAINING_SLOTS]
        customer = identity_of(tracker)
        if customer is None:
            dispatcher.utter_message(response="utter_identity_required")
            return reset
        course = CourseRequest.of(tracker)
        if course is None:
            dispatcher.utter_message(response="utter_training_failed")
            return reset
        groups = course.groups
        registered: List[Dict[str, Any]] = []
        for number, size in enumerate(groups, start=1):
            try:
                registered.append(
                    await backend().request_training(contact=customer.contact, body=course.body(size, number))
                )
            except BackendUnavailable:
                if not registered:
                    dispatcher.utter_message(response="utter_backend_unavailable")
                    return []  # kept (and confirmed): asking again shows the same card
                break
            except BackendError:
                break
        self._tell(dispatcher, course, registered)
        if len(registered) < len(groups):
            dispatcher.utter_message(response="utter_training_failed_rest" if registered else "utter_training_failed")
        return reset

    @staticmethod
    def _tell(dispatcher: CollectingDispatcher, course: CourseRequest, registered: List[Dict[str, Any]]) -> None:
        """One «Registré su solicitud de curso…» per registered course, then the notes that concern them all."""
        groups = course.groups
        for number, request in enumerate(registered, start=1):
            words = {
                "date": date_in_words(_day(request.get("requested_date")) or course.day),
                "attendees": plural(int(request.get("attendees") or groups[number - 1]), "asistente", "asistentes"),
                "site": str(request.get("site") or course.site),
            }
            notice = _day(request.get("materials_notice_due"))
            if len(groups) == 1 and notice and not request.get("short_notice"):
                dispatcher.utter_message(
                    response="utter_training_requested", **words, notice_date=date_in_words(notice)
                )
            elif len(groups) == 1:
                # Less than two weeks away: the notice date has passed, the short-notice message follows.
                dispatcher.utter_message(response="utter_training_requested_soon", **words)
            else:
                dispatcher.utter_message(
                    response="utter_training_requested_course", **words, number=number, count=len(groups)
                )
        if not registered:
            return
        if len(groups) > 1 and len(registered) == len(groups):
            dispatcher.utter_message(
                response="utter_training_split_registered",
                courses=courses_in_words(groups),
                later_courses=later_courses(len(groups)),
            )
        if any(request.get("short_notice") for request in registered):
            dispatcher.utter_message(response="utter_training_short_notice")
        missing = sorted({key for request in registered for key in request.get("missing_facilities") or []})
        if missing:
            dispatcher.utter_message(response="utter_training_facilities_reminder", missing=missing_in_words(missing))


def _day(raw: Any) -> Optional[date]:
    try:
        return date.fromisoformat(str(raw)[:10]) if raw else None
    except ValueError:
        return None
