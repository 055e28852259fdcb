from __future__ import annotations

from datetime import date

import pytest
from conftest import make_tracker, responses, run

from actions.answers import parse_date, parse_email, yes_no

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("text", "intent", "value"),
    [
        ("sí", "inform", True),
        ("si, todo caido", "inform", True),
        ("no hay forma", "inform", False),
        ("cualquier cosa", "inform", None),
        ("ok", "affirm", True),
        ("para nada", "deny", False),
        ("/affirm", "affirm", True),
        ("la producción está parada", "inform", True),
        ("no hay solución alternativa", "inform", False),
        ("no está caída", "inform", False),
    ],
)
def test_yes_no(text, intent, value) -> None:
    assert yes_no({"text": text, "intent": {"name": intent}}) is value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2027-03-15", date(2027, 3, 15)),
        ("15/03/2027", date(2027, 3, 15)),
        ("el 15 de marzo", date(2027, 3, 15)),
        ("10 de diciembre", date(2026, 12, 10)),
        ("31 de febrero", None),
        ("pronto", None),
    ],
)
def test_dates(text, value) -> None:
    assert parse_date(text, today=TODAY) == value


def test_emails() -> None:
    assert parse_email("mi correo es Ana.Gomez@CableAndina.example.") == "ana.gomez@cableandina.example"
    assert parse_email("no tengo") is None


def test_a_course_asked_for_is_booked_and_a_question_about_courses_is_answered() -> None:
    from actions.info import ActionTrainingInfo

    booking = make_tracker(text="Necesito un curso para 5 personas el 1 de febrero en Santiago", intent="ask_training")
    dispatcher, events = run(ActionTrainingInfo(), booking)
    assert dispatcher.messages == [] and events[0]["name"] == "training_form"
    dispatcher, events = run(ActionTrainingInfo(), make_tracker(text="¿qué cursos dan?", intent="ask_training"))
    assert responses(dispatcher) == ["utter_training_info"] and events == []
