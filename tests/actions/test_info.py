"""Answers whose facts are configuration, not the support plan: the address, the telephone number, prices."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import make_tracker, responses, run

from actions.fallback import ActionFallback
from actions.info import ActionContactChannels, ActionPlanInformation, ActionTrainingInfo, asks_price

DOMAIN = yaml.safe_load((Path(__file__).resolve().parents[2] / "domain.yml").read_text(encoding="utf-8"))


def _texts(action, *, intent: str, text: str = "hola") -> list[str]:
    """What the customer reads: each domain response filled with the values the action passed."""
    dispatcher, events = run(action, make_tracker(intent=intent, text=text))
    assert events == []
    said = []
    for message in dispatcher.messages:
        filled = str(DOMAIN["responses"][message["response"]][0]["text"]).format(**message)
        assert "{" not in filled, filled  # every placeholder was given a value
        said.append(filled)
    return said


def test_contact_channels_give_the_configured_address_and_number(monkeypatch) -> None:
    monkeypatch.setenv("PROMPTLINK_SUPPORT_EMAIL", "ayuda@cliente-demo.example")
    monkeypatch.setenv("PROMPTLINK_SUPPORT_PHONE", "+57 601 000 1234")
    [text] = _texts(ActionContactChannels(), intent="ask_contact_channels")
    assert "ayuda@cliente-demo.example" in text and "por teléfono, al +57 601 000 1234" in text
    assert "chat en línea" in text and "cualquier hora del día" in text


def test_without_a_configured_number_no_number_is_given(monkeypatch) -> None:
    monkeypatch.setenv("PROMPTLINK_SUPPORT_PHONE", " ")
    [text] = _texts(ActionContactChannels(), intent="ask_contact_channels")
    assert "teléfono" not in text and not re.search(r"\d", text)
    assert "soporte@promptlink.example" in text  # the default address


def test_the_demo_number_is_the_default(monkeypatch) -> None:
    monkeypatch.delenv("PROMPTLINK_SUPPORT_PHONE", raising=False)
    assert "+57 601 555 0100" in _texts(ActionContactChannels(), intent="ask_contact_channels")[0]


PRICE_QUESTIONS = [
    "¿cuánto cuesta el soporte?",
    "cual es el precio del contrato de soporte",
    "cuanto vale el contrato de mantenimiento",
    "cuanto cobran por un curso",
    "tienen lista de precios?",
    "cuales son sus tarifas",
    "el soporte tiene costo adicional?",
    "es gratis el soporte?",
    "necesito una cotizacion del contrato de soporte",
    "cuanto nos sale el contrato de soporte al año?",
    "antes, ¿el soporte en línea se cobra aparte?",
    "¿Cuánto nos costaría agregar hardware?",
]
NOT_PRICE_QUESTIONS = [
    "cuantos ingenieros tienen",
    "cada cuanto me informan",
    "me cuesta entender el portal",
    "cuanto tardan en enviar un equipo de reemplazo",
    "cuanto tiempo sale el técnico",
    "vale, gracias",
    "el sistema cobra doble a los clientes",
]


@pytest.mark.parametrize("text", PRICE_QUESTIONS)
def test_price_questions_are_told_apart(text: str) -> None:
    assert asks_price(text)


@pytest.mark.parametrize("text", NOT_PRICE_QUESTIONS)
def test_other_questions_are_not_price_questions(text: str) -> None:
    assert not asks_price(text)


def test_an_off_topic_price_stays_off_topic() -> None:
    assert not asks_price("cuanto cuesta un iphone 15", "out_of_scope")
    assert asks_price("cuanto cuesta el soporte 24 horas", "out_of_scope")
    assert asks_price("antes, ¿cuánto me costaría que me la reemplacen?", "out_of_scope")  # «reemplacen»: a replacement


@pytest.mark.parametrize("phone", ["+57 601 000 1234", ""])
def test_prices_are_never_stated_the_customer_is_pointed_to_the_channels(monkeypatch, phone: str) -> None:
    monkeypatch.setenv("PROMPTLINK_SUPPORT_EMAIL", "ventas@cliente-demo.example")
    monkeypatch.setenv("PROMPTLINK_SUPPORT_PHONE", phone)
    text, plan = _texts(ActionPlanInformation(), intent="ask_support_plan", text="cuanto cuesta el plan de soporte?")
    assert text.startswith("No tengo precios que darle: el plan de soporte de Promptlink no los indica.")
    assert "ventas@cliente-demo.example" in text
    assert (phone in text) if phone else "llame" not in text
    # No amount, currency or figure of its own: the only digits are the configured number's.
    assert not re.search(r"[$€]|\b(?:usd|cop|pesos|dólares)\b", text, re.IGNORECASE)
    assert not re.search(r"\d", text.replace(phone, "") if phone else text)
    assert plan.startswith("Con un contrato de soporte y mantenimiento de software")  # what it includes


@pytest.mark.parametrize(
    ("intent", "response"),
    [
        ("ask_support_plan", "utter_support_plan"),
        ("ask_hardware_coverage", "utter_hardware_coverage"),
        ("ask_deployment_plan", "utter_deployment_plan"),
    ],
)
def test_the_plan_questions_get_the_plan_and_a_price_question_also_the_price_answer(intent, response) -> None:
    dispatcher, _ = run(ActionPlanInformation(), make_tracker(intent=intent, text="¿qué incluye?"))
    assert responses(dispatcher) == [response]
    dispatcher, _ = run(ActionPlanInformation(), make_tracker(intent=intent, text="¿y eso cuánto cuesta?"))
    assert responses(dispatcher) == ["utter_price_info", response]


def test_a_course_price_question_gets_the_price_answer_and_what_a_course_is() -> None:
    dispatcher, _ = run(ActionTrainingInfo(), make_tracker(intent="ask_training", text="que precio tiene el curso?"))
    assert responses(dispatcher) == ["utter_price_info", "utter_training_info"]


def test_a_price_question_while_booking_a_course_gets_only_the_price_answer() -> None:
    tracker = make_tracker(intent="ask_training", text="¿y eso cuánto cuesta?", active_loop="training_form")
    dispatcher, events = run(ActionTrainingInfo(), tracker)
    assert responses(dispatcher) == ["utter_price_info"] and events == []  # then the form asks its question again
    tracker = make_tracker(intent="ask_training", text="¿cuánto dura el curso?", active_loop="training_form")
    assert responses(run(ActionTrainingInfo(), tracker)[0]) == ["utter_training_info"]


def test_a_price_question_the_classifier_could_not_place_is_answered_not_misunderstood() -> None:
    dispatcher, _ = run(ActionFallback(), make_tracker(intent="nlu_fallback", text="cuales son sus tarifas?"))
    assert responses(dispatcher) == ["utter_price_info"]
    dispatcher, _ = run(ActionFallback(), make_tracker(intent="out_of_scope", text="cuanto cuesta un iphone 15"))
    assert responses(dispatcher) == ["utter_out_of_scope"]
