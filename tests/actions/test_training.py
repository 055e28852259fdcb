"""Training requests: counts, dates, sites and facilities read from any message; the split; the card; the courses.

`Chat` drives the form the way Rasa's FormAction does (activation, validation, the
question for `requested_slot`, rejection on a digression, submission), and renders what
the customer reads from domain.yml, so the tests can check the words as well as the
response names.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml
from conftest import ANA_METADATA, make_tracker, run
from fake_backend import FakeBackend

from actions import training
from actions.backend import BackendError, BackendUnavailable, use_backend
from actions.counts import Attendance, courses_title, even_split, parse_attendance
from actions.training import ValidateTrainingForm
from actions.training_answers import (
    date_problem,
    facilities_in_words,
    field_named,
    parse_course_date,
    parse_facilities,
    parse_site,
    yes_or_no,
)
from actions.training_submit import ActionAskTrainingConfirmed, ActionAskTrainingGroups, ActionSubmitTraining

TODAY = date(2026, 12, 3)
DOMAIN = yaml.safe_load((Path(__file__).resolve().parents[2] / "domain.yml").read_text(encoding="utf-8"))
ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
ASK_ACTIONS = {"training_groups": ActionAskTrainingGroups(), "training_confirmed": ActionAskTrainingConfirmed()}
ANONYMOUS = {"conversation_id": "conv-1"}


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(training, "today", lambda: TODAY)


class TrainingBackend(FakeBackend):
    """The fake with the backend's training answers: every missing facility, the notice date, short notice."""

    def __init__(self, *, fail_from: Optional[int] = None, unavailable: bool = False) -> None:
        super().__init__()
        self.fail_from = fail_from
        self.unavailable = unavailable

    async def request_training(self, *, contact: str, body: Dict[str, Any]) -> Dict[str, Any]:
        if self.unavailable:
            raise BackendUnavailable("connection refused")
        if self.fail_from is not None and len(self.training) + 1 >= self.fail_from:
            raise BackendError(422, "refused")
        if body["attendees"] > 6:
            raise BackendError(422, "on-site courses take at most 6 attendees")
        self.training.append(body)
        day = date.fromisoformat(body["requested_date"])
        return {
            **body,
            "materials_notice_due": (day - timedelta(days=14)).isoformat(),
            "short_notice": (day - TODAY).days < 14,
            "missing_facilities": [key for key, present in body["facilities"].items() if not present],
        }


@pytest.fixture
def backend_fake() -> Any:
    fake = TrainingBackend()
    use_backend(fake)
    yield fake
    use_backend(None)


def render(message: Dict[str, Any], slots: Dict[str, Any]) -> Dict[str, Any]:
    """The text and button titles of a response as Rasa fills them (slots, then the action's kwargs)."""
    name = message.get("response")
    variant = DOMAIN["responses"][name][0]
    values = {**{k: v for k, v in slots.items() if v is not None}, **message}

    def fill(text: str) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), m.group(0))), text)

    buttons = message.get("buttons") or variant.get("buttons") or []
    return {
        "response": name,
        "text": fill(variant["text"]),
        "buttons": [fill(b["title"]) for b in buttons],
        "payloads": [fill(b["payload"]) for b in buttons],
    }


class Chat:
    """One conversation with the training form, run as Rasa runs it."""

    def __init__(self, metadata: Optional[Dict[str, Any]] = None) -> None:
        self.metadata = ANA_METADATA if metadata is None else metadata
        self.slots: Dict[str, Any] = defaultdict(lambda: None)
        self.events: List[Dict[str, Any]] = []
        self.active = False
        self.rejected = False

    @property
    def asked(self) -> Optional[str]:
        return self.slots.get("requested_slot")

    def say(self, text: str, intent: str = "inform", **mapped: Any) -> List[Dict[str, Any]]:
        """The customer's message; returns what the assistant says back (rendered).

        `mapped`: slots the domain's own mappings fill from this message (the identity answers).
        """
        user = {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}
        opening = not self.active
        history = self.events + [user] + ([{"event": "active_loop", "name": "training_form"}] if opening else [])
        history += [{"event": "slot", "name": "requested_slot", "value": self.asked}, _action("training_form")]
        history += [{"event": "slot", "name": slot, "value": value} for slot, value in mapped.items()]
        self.slots.update(mapped)
        dispatcher, result = run(ValidateTrainingForm(), self._tracker(text, intent, history), DOMAIN)
        validated = [e for e in result if e.get("event") == "slot" and e["name"] != "requested_slot"]
        self.rejected = not opening and not validated
        if self.rejected:
            self.events += [user, {"event": "action_execution_rejected", "name": "training_form"}]
            return [render(m, self.slots) for m in dispatcher.messages]
        self.active = True
        self.events.append(user)
        return [render(m, self.slots) for m in dispatcher.messages] + self._apply(result)

    def digression_answered(self, response: str) -> List[Dict[str, Any]]:
        """A rule answered the rejected message; the form comes back and asks again."""
        self.events += [_action(response), {"event": "bot", "text": "…"}]
        history = self.events + [{"event": "slot", "name": "requested_slot", "value": self.asked}]
        history.append(_action("training_form"))
        last = next(e for e in reversed(self.events) if e["event"] == "user")
        tracker = self._tracker(last["text"], last["parse_data"]["intent"]["name"], history)
        dispatcher, result = run(ValidateTrainingForm(), tracker, DOMAIN)
        return [render(m, self.slots) for m in dispatcher.messages] + self._apply(result)

    def stopped_and_resumed(self) -> None:
        """«¿Desea continuar con la solicitud?» was asked (the stop rules), so the next message is no answer."""
        self.events += [_action("utter_ask_continue"), {"event": "bot", "text": "¿Desea continuar?"}]
        self.events.append(_action("action_listen"))

    def _tracker(self, text: str, intent: str, events: List[Dict[str, Any]]) -> Any:
        return make_tracker(text=text, intent=intent, slots=dict(self.slots), metadata=self.metadata, events=events)

    def _apply(self, result: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        for event in result:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]
        said: List[Dict[str, Any]] = []
        if self.asked is None:
            self.active = False
            dispatcher, reset = run(ActionSubmitTraining(), self._tracker("", "inform", self.events))
            said = [render(m, self.slots) for m in dispatcher.messages]
            for event in reset:
                self.slots[event["name"]] = event["value"]
            return said
        if self.asked in ASK_ACTIONS:
            dispatcher, _ = run(ASK_ACTIONS[self.asked], self._tracker("", "inform", self.events))
            said = [render(m, self.slots) for m in dispatcher.messages]
        else:
            name = f"utter_ask_training_form_{self.asked}"
            said = [
                render({"response": name if name in DOMAIN["responses"] else f"utter_ask_{self.asked}"}, self.slots)
            ]
        self.events += [_action("training_form"), {"event": "bot", "text": said[-1]["text"]}, _action("action_listen")]
        return said


def _action(name: str) -> Dict[str, Any]:
    return {"event": "action", "name": name}


def names(said: List[Dict[str, Any]]) -> List[str]:
    return [m["response"] for m in said]


def texts(said: List[Dict[str, Any]]) -> str:
    return "\n".join(m["text"] for m in said)


# --- Reading counts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "asked", "total", "groups", "courses"),
    [
        ("8", True, 8, None, None),
        ("ocho", True, 8, None, None),
        ("para 8 ingenieros", False, 8, None, None),
        ("somos doce", False, 12, None, None),
        ("seis personas", False, 6, None, None),
        ("una docena", True, 12, None, None),
        ("una docena de ingenieros", False, 12, None, None),
        ("media docena", True, 6, None, None),
        ("dos grupos de 4", False, 8, (4, 4), None),
        ("¿y no se puede hacer en dos grupos de 4?", False, 8, (4, 4), None),
        ("un grupo de 5 y otro de 3", False, 8, (5, 3), None),
        ("tres cursos de 5, 4 y 4", False, 13, (5, 4, 4), None),
        ("¿se pueden hacer dos cursos?", False, None, None, 2),
        ("dos cursos para 10 personas", False, 10, None, 2),
        ("perdón, son 5 personas", False, 5, None, None),
        ("treinta y dos personas", False, 32, None, None),
        ("quiero un curso para 8 ingenieros en Bogotá el 15 de marzo", False, 8, None, None),
        ("quiero una capacitación para mi equipo", False, None, None, None),
        ("solo una persona", False, 1, None, None),
    ],
)
def test_counts_are_read_from_free_text(text, asked, total, groups, courses) -> None:
    said = parse_attendance(text, asked=asked)
    assert (said.total, said.groups, said.courses) == (total, groups, courses)


@pytest.mark.parametrize(
    "text",
    [
        "el 15 de marzo",
        "v4.2",
        "la versión 4",
        "a las 9",
        "2 días",
        "15/03/2027",
        "2027-03-15",
        "el 18",
        "firmware 5.1",
    ],
)
def test_numbers_that_are_not_counts_are_not_attendees(text) -> None:
    assert parse_attendance(text, asked=True).total is None
    assert parse_attendance(f"quiero un curso {text}").total is None


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Un curso para 6", Attendance(total=6, one_course=True)),
        ("uno de 6", Attendance(one_course=True)),
        ("uno solo", Attendance(one_course=True)),
        ("la primera", Attendance(one_course=True)),
        ("Dos cursos (4 y 4)", Attendance(total=8, groups=(4, 4))),
        ("dos cursos", Attendance(courses=2)),
        ("mejor dos grupos", Attendance(courses=2)),
        ("la segunda opción", Attendance(split=True)),
        ("que vayan todos, divididos", Attendance(split=True)),
        ("2", Attendance(courses=2)),
        ("somos 10 en realidad", Attendance(total=10)),
    ],
)
def test_answers_to_the_split_question(text, said) -> None:
    assert parse_attendance(text, choosing=True) == said


def test_even_splits_never_exceed_six() -> None:
    assert even_split(8) == [4, 4] and even_split(10) == [5, 5] and even_split(13) == [5, 4, 4]
    assert even_split(7) == [4, 3] and even_split(12) == [6, 6] and even_split(6) == [6]
    assert even_split(13, 2) is None and even_split(8, 3) == [3, 3, 2] and even_split(2, 3) is None
    assert courses_title([4, 4]) == "Dos cursos (4 y 4)" and courses_title([5, 4, 4]) == "Tres cursos (5, 4 y 4)"


# --- Reading dates, sites, facilities, yes/no -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("15 de marzo", date(2027, 3, 15)),
        ("el lunes 18 de enero", date(2027, 1, 18)),
        ("2027-03-15", date(2027, 3, 15)),
        ("15/03/2027", date(2027, 3, 15)),
        ("15/03", date(2027, 3, 15)),
        ("quince de marzo", date(2027, 3, 15)),
        ("marzo 15", date(2027, 3, 15)),
        ("el 1ro de febrero de 2027", date(2027, 2, 1)),
        ("la próxima semana", date(2026, 12, 7)),
        ("el próximo martes", date(2026, 12, 8)),
        ("para 8 ingenieros en Bogotá el 15 de marzo", date(2027, 3, 15)),
    ],
)
def test_dates_are_read_in_every_usual_form(text, day) -> None:
    assert parse_course_date(text, today=TODAY).day == day


def test_vague_or_impossible_dates_are_mentioned_but_not_read() -> None:
    assert parse_course_date("en mayo", today=TODAY) == parse_course_date("31 de febrero", today=TODAY)
    assert parse_course_date("en mayo", today=TODAY).mentioned and parse_course_date("en mayo", today=TODAY).day is None
    assert not parse_course_date("somos 8", today=TODAY).mentioned
    assert parse_course_date("el 18", today=TODAY, asked=True).day == date(2026, 12, 18)
    assert parse_course_date("el 18", today=TODAY).day is None  # outside the date question, «el 18» is not enough
    assert date_problem(TODAY, today=TODAY) == "past"
    assert date_problem(TODAY + timedelta(days=800), today=TODAY) == "too_far"
    assert date_problem(TODAY + timedelta(days=30), today=TODAY) is None


@pytest.mark.parametrize(
    ("text", "asked", "site"),
    [
        ("quiero un curso para 8 ingenieros en Bogotá el 15 de marzo", False, "Bogotá"),
        ("no, la sede es Medellín", False, "Medellín"),
        ("perdón, en bogota", False, "Bogotá"),
        ("en nuestras oficinas de Cali, calle 5", False, "oficinas de Cali"),
        ("nuestra sede de bogota, calle 100", True, "sede de Bogotá, calle 100"),
        ("la oficina de Punta Cana", True, "oficina de Punta Cana"),
        ("medellin", True, "Medellín"),
        ("Sede norte, calle 100 # 15-20", True, "Sede norte, calle 100 # 15-20"),
        ("en dos grupos de 4", False, None),
        ("en marzo", False, None),
        ("en sitio", False, None),
    ],
)
def test_sites(text, asked, site) -> None:
    assert parse_site(text, asked=asked) == site


@pytest.mark.parametrize(
    ("text", "question", "missing"),
    [
        ("falta el proyector", "have", {"projector"}),
        ("falta el proyector", None, {"projector"}),
        ("no tenemos pizarra ni internet", "have", {"whiteboard", "workstations_internet"}),
        ("no tenemos pizarra ni internet", None, {"whiteboard", "workstations_internet"}),
        ("todo menos el proyector", "have", {"projector"}),
        ("todo menos el proyector", None, {"projector"}),
        ("sí, pero falta la pizarra", "have", {"whiteboard"}),
        ("sala sí, proyector no", "have", {"projector"}),
        ("solo tenemos sala", "have", {"projector", "whiteboard", "workstations_internet"}),
        ("tenemos todo", "have", set()),
        ("no tenemos nada", "have", {"room", "projector", "whiteboard", "workstations_internet"}),
        ("el proyector", "lack", {"projector"}),
        ("nos falta el videobeam y los computadores", "lack", {"projector", "workstations_internet"}),
        ("nada", "lack", set()),
        ("no nos falta nada", "lack", set()),
        # A broken facility is a missing one.
        ("tenemos sala, pizarra y puestos con internet, pero el proyector está dañado", None, {"projector"}),
        ("sí, pero el proyector no funciona", "have", {"projector"}),
        ("todo, aunque el videobeam se dañó", "have", {"projector"}),
        ("la pizarra está mala y el proyector no sirve", "have", {"whiteboard", "projector"}),
        ("el proyector está dañado", "lack", {"projector"}),
        ("todo, y el proyector no está dañado", "have", set()),
    ],
)
def test_facilities_item_by_item(text, question, missing) -> None:
    assert parse_facilities(text, question=question).missing == frozenset(missing)


@pytest.mark.parametrize("text", ["no todo", "No todo", "no", "casi todo"])
def test_not_everything_without_saying_what(text) -> None:
    said = parse_facilities(text, question="have")
    assert said.not_all and said.missing is None


@pytest.mark.parametrize(
    "text", ["en la sala de juntas de la sede norte", "tenemos sala y proyector", "sí", "todo el equipo, somos 8"]
)
def test_facilities_said_in_passing_need_a_clear_sentence(text) -> None:
    assert parse_facilities(text).missing is None


def test_yes_no_and_fields() -> None:
    assert yes_or_no("/affirm", "affirm") is True and yes_or_no("Corregir un dato", "inform") is False
    assert yes_or_no("perfecto, regístrelo", "thank") is True
    assert yes_or_no("sí, pero ¿cuánto dura?", "ask_training") is None  # a question: answered, then asked again
    assert yes_or_no("Bogotá", "inform") is None
    assert field_named("la fecha") == "date" and field_named("la sede") == "site"
    assert field_named("los asistentes") == "attendees" and field_named("las facilidades") == "facilities"
    assert field_named("no sé") is None


# --- The conversation -------------------------------------------------------------------------


def test_the_questions_carry_the_phrases_customers_recognise() -> None:
    responses = DOMAIN["responses"]

    def text(name: str) -> str:
        return str(responses[name][0]["text"])

    assert "¿Cuántas personas asistirán?" in text("utter_ask_training_form_attendees")
    assert text("utter_training_split_offer").endswith("¿Qué prefiere?")
    assert "¿Para qué fecha desea el curso?" in text("utter_ask_training_form_training_date")
    assert "¿En qué sede" in text("utter_ask_training_form_training_site")
    assert "¿Su sede cuenta con sala" in text("utter_ask_training_form_facilities_ready")
    assert "¿Qué le falta?" in text("utter_ask_training_form_facilities_missing")
    assert text("utter_ask_training_form_training_correct_field") == "¿Qué dato desea corregir?"
    for card in ("utter_training_confirm", "utter_training_confirm_split"):
        assert text(card).endswith("¿Es correcto?")
        assert [(b["title"], b["payload"]) for b in responses[card][0]["buttons"]] == [
            ("Sí, registrar", "/affirm"),
            ("Corregir un dato", "/deny"),
        ]
    for final in ("utter_training_requested", "utter_training_requested_course"):
        assert text(final).startswith("Registré su solicitud de curso")


def test_the_opening_message_fills_what_it_says_and_eight_people_get_the_choice(backend_fake) -> None:
    chat = Chat()
    said = chat.say("quiero un curso para 8 ingenieros en Bogotá el 15 de marzo", "request_training")
    assert chat.slots["attendees"] == "8" and chat.slots["training_date"] == "2027-03-15"
    assert chat.slots["training_site"] == "Bogotá"
    assert chat.asked == "training_groups"
    offer = said[-1]
    assert offer["response"] == "utter_training_split_offer"
    assert "Para 8 personas puedo registrar un curso para 6 o dos cursos de 4." in offer["text"]
    assert offer["text"].endswith("¿Qué prefiere?")
    assert offer["buttons"] == ["Un curso para 6", "Dos cursos (4 y 4)"]
    assert parse_attendance(offer["payloads"][1], choosing=True).groups == (4, 4)
    # The date and the site are known: never asked.
    said = chat.say("mejor dos grupos")
    assert chat.slots["training_groups"] == [4, 4] and chat.asked == "facilities_ready"
    assert names(said) == ["utter_ask_training_form_facilities_ready"]


def test_two_groups_of_four_become_two_courses_of_four_and_two_requests(backend_fake) -> None:
    chat = Chat()
    chat.say("queremos agendar una capacitación", "request_training")
    assert chat.asked == "attendees"
    chat.say("somos 8")
    said = chat.say("¿y no se puede hacer en dos grupos de 4?")
    assert chat.slots["training_groups"] == [4, 4] and chat.slots["attendees"] == "8"
    assert names(said) == ["utter_ask_training_form_training_date"]
    chat.say("el lunes 18 de enero")
    chat.say("en la sede de Medellín")
    said = chat.say("No todo", "deny")
    assert chat.asked == "facilities_missing" and names(said) == ["utter_ask_training_form_facilities_missing"]
    assert "El proyector" in said[0]["buttons"]
    said = chat.say("el proyector")
    assert chat.slots["facilities_missing"] == ["projector"]
    card = said[-1]
    assert card["response"] == "utter_training_confirm_split"
    assert card["text"].startswith(
        "Voy a registrar dos cursos en sitio, de dos días cada uno, para 8 asistentes (4 y 4)"
    )
    assert "lunes 18 de enero de 2027" in card["text"] and "del segundo curso" in card["text"]
    assert "falta el proyector (cuenta con sala, pizarra y áreas de trabajo con Internet)" in card["text"]
    assert backend_fake.training == []  # nothing is registered before «Sí, registrar»
    said = chat.say("/affirm", "affirm")
    assert [b["attendees"] for b in backend_fake.training] == [4, 4]
    assert {b["requested_date"] for b in backend_fake.training} == {"2027-01-18"}
    assert {b["site"] for b in backend_fake.training} == {"sede de Medellín"}
    assert all(b["facilities"]["projector"] is False and b["facilities"]["room"] for b in backend_fake.training)
    assert "Curso 2 de 2" in backend_fake.training[1]["topics"]
    finals = [m["text"] for m in said if m["response"] == "utter_training_requested_course"]
    assert len(finals) == 2 and all(t.startswith("Registré su solicitud de curso") for t in finals)
    assert finals[0].startswith("Registré su solicitud de curso 1 de 2: 4 asistentes")
    assert "utter_training_split_registered" in names(said)
    assert "el proyector" in said[-1]["text"] and said[-1]["response"] == "utter_training_facilities_reminder"
    assert not ISO.search(texts(said))
    assert chat.slots["attendees"] is None and chat.slots["training_groups"] is None


def test_one_course_for_six_registers_one_request(backend_fake) -> None:
    chat = Chat()
    chat.say("necesito un curso para 9 personas en Cali el 15/03/2027", "request_training")
    said = chat.say("uno de 6")
    assert chat.slots["training_groups"] == [6] and chat.slots["attendees"] == "6"
    said = chat.say("sí", "affirm")
    assert said[-1]["response"] == "utter_training_confirm"
    assert said[-1]["text"].startswith("Voy a registrar un curso en sitio de dos días para 6 asistentes:")
    assert "lunes 15 de marzo de 2027" in said[-1]["text"]
    said = chat.say("sí, regístrelo", "affirm")
    assert [b["attendees"] for b in backend_fake.training] == [6]
    assert names(said) == ["utter_training_requested"]
    assert said[0]["text"] == (
        "Registré su solicitud de curso en sitio para el lunes 15 de marzo de 2027, con 6 asistentes, durante "
        "dos días, en Cali. Le informaremos del material necesario a partir del lunes 1 de marzo de 2027, dos "
        "semanas antes."
    )


def test_thirteen_are_offered_three_courses_and_too_few_courses_are_explained(backend_fake) -> None:
    chat = Chat()
    said = chat.say("quiero capacitar a 13 ingenieros", "request_training")
    assert "tres cursos (5, 4 y 4)" in said[-1]["text"] and said[-1]["buttons"][1] == "Tres cursos (5, 4 y 4)"
    said = chat.say("mejor dos grupos")
    assert names(said) == ["utter_training_courses_too_few", "utter_training_split_offer"]
    assert "hacen falta al menos tres cursos" in said[0]["text"]
    chat.say(said[-1]["payloads"][1])  # the button
    assert chat.slots["training_groups"] == [5, 4, 4]


def test_a_question_about_two_courses_is_a_choice_not_a_course_for_two(backend_fake) -> None:
    chat = Chat()
    chat.say("quiero un curso para 8 personas", "request_training")
    chat.say("¿se pueden hacer dos cursos?")
    assert chat.slots["training_groups"] == [4, 4] and chat.slots["attendees"] == "8"


def test_courses_said_before_the_count_are_remembered(backend_fake) -> None:
    chat = Chat()
    chat.say("necesitamos dos cursos de capacitación", "request_training")
    assert chat.asked == "attendees"
    said = chat.say("10")
    assert chat.slots["training_groups"] == [5, 5]
    assert names(said) == ["utter_ask_training_form_training_date"]


def test_answers_are_never_asked_twice_and_facilities_can_come_first(backend_fake) -> None:
    chat = Chat()
    chat.say("quiero un curso para 4 personas, no tenemos pizarra ni internet", "request_training")
    assert chat.slots["facilities_missing"] == ["whiteboard", "workstations_internet"]
    assert chat.slots["facilities_ready"] is False
    said = chat.say("para el 2027-01-18 en Bogotá")
    assert chat.asked == "training_confirmed"  # facilities were already known: straight to the card
    card = said[-1]["text"]
    assert "lunes 18 de enero de 2027" in card and "2027-01-18" not in card
    assert "faltan la pizarra y las áreas de trabajo con Internet (cuenta con sala y proyector)" in card


@pytest.mark.parametrize(
    ("answer", "missing"),
    [
        ("sí", []),
        ("falta el proyector", ["projector"]),
        ("todo menos el proyector", ["projector"]),
        ("no tenemos pizarra ni internet", ["whiteboard", "workstations_internet"]),
        ("sí, pero el proyector está dañado", ["projector"]),
    ],
)
def test_facilities_answered_directly(backend_fake, answer, missing) -> None:
    chat = Chat()
    chat.say("curso para 3 personas en Cali el 15 de marzo", "request_training")
    assert chat.asked == "facilities_ready"
    chat.say(answer, "affirm" if answer == "sí" else "inform")
    assert chat.slots["facilities_missing"] == missing and chat.asked == "training_confirmed"


def test_not_everything_asks_what_is_missing_and_only_that(backend_fake) -> None:
    chat = Chat()
    chat.say("curso para 3 personas en Cali el 15 de marzo", "request_training")
    chat.say("no", "deny")
    assert chat.asked == "facilities_missing" and chat.slots.get("facilities_missing") is None
    said = chat.say("quién sabe", "inform")
    assert names(said) == ["utter_training_missing_unclear", "utter_ask_training_form_facilities_missing"]
    chat.say("proyector y pizarra")
    assert chat.slots["facilities_missing"] == ["projector", "whiteboard"]
    chat.say("sí", "affirm")
    assert [b["facilities"] for b in backend_fake.training] == [
        {"room": True, "projector": False, "whiteboard": False, "workstations_internet": True}
    ]


def test_corrections_anywhere_are_applied_and_acknowledged(backend_fake) -> None:
    chat = Chat()
    chat.say("curso para 4 personas en Bogotá", "request_training")
    said = chat.say("perdón, son 5 personas")  # while the date is asked
    assert chat.slots["attendees"] == "5"
    assert names(said) == ["utter_training_attendees_noted", "utter_ask_training_form_training_date"]
    assert said[0]["text"] == "Entendido: ahora son 5 asistentes."
    chat.say("15 de marzo")
    said = chat.say("sí, tenemos todo", "affirm")
    assert said[-1]["response"] == "utter_training_confirm"
    said = chat.say("no, la sede es Medellín", "deny")
    assert chat.slots["training_site"] == "Medellín" and chat.slots["training_confirmed"] is None
    assert names(said) == ["utter_training_site_noted", "utter_training_confirm"]
    assert "Sede: Medellín" in said[-1]["text"]
    said = chat.say("mejor el 20 de marzo")
    assert names(said) == ["utter_training_date_noted", "utter_training_confirm"]
    assert said[0]["text"] == "Entendido: la fecha pasa a ser el sábado 20 de marzo de 2027."
    said = chat.say("perdón, somos 8")
    assert names(said) == ["utter_training_split_offer"]  # the choice again, then the card
    chat.say("Dos cursos (4 y 4)")
    assert chat.asked == "training_confirmed"


def test_correcting_a_chosen_field_asks_just_that_again(backend_fake) -> None:
    chat = Chat()
    chat.say("curso para 1 persona en Pasto el 15 de marzo", "request_training")
    said = chat.say("sí", "affirm")
    assert "Voy a registrar un curso en sitio de dos días para 1 asistente:\n" in said[-1]["text"]
    said = chat.say("/deny", "deny")
    assert chat.asked == "training_correct_field" and chat.slots["training_confirmed"] is False
    assert said[-1]["text"] == "¿Qué dato desea corregir?"
    assert said[-1]["buttons"] == ["Asistentes", "Fecha", "Sede", "Facilidades"]
    said = chat.say("la fecha")
    assert chat.slots["training_date"] is None and names(said) == ["utter_ask_training_form_training_date"]
    said = chat.say("el 22 de marzo")
    assert chat.asked == "training_confirmed" and "lunes 22 de marzo de 2027" in said[-1]["text"]
    chat.say("corregir la sede")
    assert chat.asked == "training_site"
    chat.say("Ipiales")
    chat.say("sí", "affirm")
    assert backend_fake.training[0]["site"] == "Ipiales" and backend_fake.training[0]["attendees"] == 1


def test_nothing_to_correct_shows_the_card_again(backend_fake) -> None:
    chat = Chat()
    chat.say("curso para 2 personas en Cali el 15 de marzo, tenemos todo", "request_training")
    assert chat.asked == "training_confirmed"
    chat.say("no", "deny")
    said = chat.say("nada, está bien así")
    assert chat.asked == "training_confirmed" and said[-1]["response"] == "utter_training_confirm"


def test_yes_no_questions_take_only_yes_or_no(backend_fake) -> None:
    chat = Chat()
    chat.say("curso para 2 personas en Cali el 15 de marzo", "request_training")
    said = chat.say("quizás", "inform")  # unclear: asked once more
    assert names(said) == ["utter_training_facilities_unclear", "utter_ask_training_form_facilities_ready"]
    said = chat.say("la sede es Bogotá")  # a correction, then the same question
    assert chat.slots["training_site"] == "Bogotá" and chat.slots["facilities_ready"] is None
    assert names(said) == ["utter_training_site_noted", "utter_ask_training_form_facilities_ready"]
    said = chat.say("¿qué es prioridad 1?", "ask_priority_levels")  # a digression: the rules answer it
    assert chat.rejected and said == []
    said = chat.digression_answered("utter_priority_levels")
    assert names(said) == ["utter_ask_training_form_facilities_ready"] and chat.slots["facilities_ready"] is None
    chat.say("sí", "affirm")
    said = chat.say("sí, pero ¿cuánto dura el curso?", "ask_training")
    assert chat.rejected and chat.slots["training_confirmed"] is None
    said = chat.digression_answered("action_training_info")
    assert names(said) == ["utter_training_confirm"]


@pytest.mark.parametrize("intent", ["stop", "request_human"])
def test_leaving_is_left_to_the_rules(backend_fake, intent) -> None:
    chat = Chat()
    chat.say("curso para 2 personas", "request_training")
    chat.say("no, déjelo", intent)
    assert chat.rejected


def test_after_do_you_want_to_continue_a_yes_is_not_an_answer(backend_fake) -> None:
    chat = Chat()
    chat.say("curso para 2 personas el 15 de marzo", "request_training")
    assert chat.asked == "training_site"
    chat.stopped_and_resumed()
    said = chat.say("sí, sigamos", "affirm")
    assert chat.slots["training_site"] is None and names(said) == ["utter_ask_training_form_training_site"]


def test_site_answers_taken_whole_but_not_yes_no_or_questions(backend_fake) -> None:
    chat = Chat()
    chat.say("curso para 2 personas el 15 de marzo", "request_training")
    said = chat.say("sí", "affirm")
    assert chat.slots["training_site"] is None and names(said)[0] == "utter_training_site_unclear"
    chat.say("Planta Zona Franca, bodega 3", "nlu_fallback")
    assert chat.slots["training_site"] == "Planta Zona Franca, bodega 3"


def test_dates_are_checked_and_said_in_words(backend_fake) -> None:
    chat = Chat()
    chat.say("curso para 2 personas en Cali", "request_training")
    said = chat.say("el 1 de diciembre de 2026")
    assert names(said) == ["utter_training_date_not_future", "utter_ask_training_form_training_date"]
    assert "martes 1 de diciembre de 2026" in said[0]["text"]
    said = chat.say("en mayo")
    assert names(said) == ["utter_training_date_invalid", "utter_ask_training_form_training_date"]
    said = chat.say("somos 3")  # another answer, not a date: stored, and the date asked again
    assert chat.slots["attendees"] == "3" and names(said)[-1] == "utter_ask_training_form_training_date"
    chat.say("el 18")
    assert chat.slots["training_date"] == "2026-12-18"


def test_the_attendees_question_ignores_numbers_that_are_not_counts(backend_fake) -> None:
    chat = Chat()
    chat.say("quiero agendar una capacitación", "request_training")
    said = chat.say("el 15 de marzo")
    assert chat.slots["attendees"] is None and chat.slots["training_date"] == "2027-03-15"
    assert names(said) == ["utter_ask_training_form_attendees"]
    said = chat.say("con la v4.2")
    assert names(said) == ["utter_attendees_invalid", "utter_ask_training_form_attendees"]
    said = chat.say("una docena")
    assert said[-1]["buttons"] == ["Un curso para 6", "Dos cursos (6 y 6)"]
    said = chat.say("0 personas")
    assert names(said)[0] == "utter_attendees_invalid" and chat.slots["attendees"] == "12"


def test_an_anonymous_visitor_keeps_the_opening_answers_through_verification(backend_fake) -> None:
    chat = Chat(metadata=ANONYMOUS)
    said = chat.say("quiero un curso para 5 ingenieros en Bogotá el 15 de marzo", "request_training")
    assert chat.asked == "customer_code" and names(said) == ["utter_ask_customer_code"]
    assert chat.slots["attendees"] == "5" and chat.slots["training_site"] == "Bogotá"
    said = chat.say("CABLEANDINA", customer_code="CABLEANDINA")
    assert chat.asked == "contact_email"
    said = chat.say("ana.gomez@cableandina.example", contact_email="ana.gomez@cableandina.example")
    assert names(said) == ["utter_verification_sent", "utter_ask_contact_email"] or chat.asked == "otp_code"
    said = chat.say("123456", otp_code="123456")
    assert chat.slots["verified"] is True
    assert chat.asked == "facilities_ready" and chat.slots["attendees"] == "5"


def test_backend_down_keeps_the_confirmed_request_and_shows_it_again(backend_fake) -> None:
    backend_fake.unavailable = True
    chat = Chat()
    chat.say("curso para 2 personas en Cali el 15 de marzo, tenemos todo", "request_training")
    said = chat.say("sí", "affirm")
    assert names(said) == ["utter_backend_unavailable"]
    assert chat.slots["attendees"] == "2"
    backend_fake.unavailable = False
    said = chat.say("quiero pedir el curso", "request_training")
    assert said[-1]["response"] == "utter_training_confirm" and chat.slots["training_site"] == "Cali"
    chat.say("sí", "affirm")
    assert len(backend_fake.training) == 1


def test_a_stopped_request_is_forgotten_when_a_new_one_starts(backend_fake) -> None:
    chat = Chat()
    chat.say("curso para 2 personas en Cali", "request_training")
    chat.active = False  # «No, dejarlo»: action_deactivate_loop
    chat.slots["requested_slot"] = None
    chat.say("quiero agendar una capacitación", "request_training")
    assert chat.slots["attendees"] is None and chat.slots["training_site"] is None and chat.asked == "attendees"


def test_a_refused_second_course_is_reported(backend_fake) -> None:
    backend_fake.fail_from = 2
    chat = Chat()
    chat.say("dos grupos de 3 en Cali el 15 de marzo, tenemos todo", "request_training")
    said = chat.say("sí", "affirm")
    assert [b["attendees"] for b in backend_fake.training] == [3]
    assert names(said) == ["utter_training_requested_course", "utter_training_failed_rest"]
    assert said[0]["text"].startswith("Registré su solicitud de curso 1 de 2: 3 asistentes")


def test_short_notice_is_said_once(backend_fake) -> None:
    chat = Chat()
    chat.say("dos grupos de 3 en Cali el 10 de diciembre, tenemos todo", "request_training")
    said = chat.say("sí", "affirm")
    assert names(said).count("utter_training_short_notice") == 1


def test_short_notice_does_not_promise_a_notice_date_already_past(backend_fake) -> None:
    chat = Chat()
    chat.say("curso para 2 personas el 10 de diciembre en Cali, tenemos todo", "request_training")
    said = chat.say("sí", "affirm")
    assert names(said) == ["utter_training_requested_soon", "utter_training_short_notice"]
    assert said[0]["text"] == (
        "Registré su solicitud de curso en sitio para el jueves 10 de diciembre de 2026, con 2 asistentes, "
        "durante dos días, en Cali."
    )


def test_the_whole_answer_to_the_site_question_is_the_site(backend_fake) -> None:
    chat = Chat()
    chat.say("curso para 2 personas el 15 de marzo", "request_training")
    chat.say("nuestra sede de Bogotá, calle 26 # 12-05")  # an address, not the 12th of May
    assert chat.slots["training_site"] == "sede de Bogotá, calle 26 # 12-05"
    assert chat.slots["training_date"] == "2027-03-15"


def test_without_identity_nothing_is_registered(backend_fake) -> None:
    tracker = make_tracker(
        metadata=ANONYMOUS,
        slots={"attendees": "2", "training_groups": [2], "training_date": "2027-03-15", "training_site": "Cali"},
    )
    dispatcher, events = run(ActionSubmitTraining(), tracker)
    assert [m["response"] for m in dispatcher.messages] == ["utter_identity_required"]
    assert backend_fake.training == [] and {e["name"] for e in events} >= {"attendees", "training_confirmed"}


def test_facilities_in_words() -> None:
    assert facilities_in_words([]) == "cuenta con todo (sala, proyector, pizarra y áreas de trabajo con Internet)"
    assert (
        facilities_in_words(["room"]) == "falta la sala (cuenta con proyector, pizarra y áreas de trabajo con Internet)"
    )
    everything = ["room", "projector", "whiteboard", "workstations_internet"]
    assert facilities_in_words(everything) == (
        "faltan la sala, el proyector, la pizarra y las áreas de trabajo con Internet"
    )


def test_the_old_fake_still_serves(monkeypatch) -> None:
    """The shared FakeBackend (one request per call) is enough for a single course."""
    fake = FakeBackend()
    use_backend(fake)
    try:
        chat = Chat()
        chat.say("curso para 2 personas en Cali el 15 de marzo, tenemos todo", "request_training")
        said = chat.say("sí", "affirm")
        assert names(said)[0] == "utter_training_requested" and len(fake.training) == 1
    finally:
        use_backend(None)


def test_an_incomplete_request_is_not_sent(backend_fake) -> None:
    dispatcher, events = run(ActionSubmitTraining(), make_tracker(slots={"attendees": "2", "training_groups": [2]}))
    assert [m["response"] for m in dispatcher.messages] == ["utter_training_failed"] and backend_fake.training == []
    assert all(e["value"] is None for e in events)
