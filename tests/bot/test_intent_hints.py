"""`bot/intent_hints.py`: the confusions the message's words settle, and only those."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.intent_hints import asks_cadence, correct, corrected_intent, is_help_call

NLU = Path(__file__).resolve().parents[2] / "data" / "nlu"


def _examples(*intents: str) -> dict[str, list[str]]:
    """The training examples of `intents`, entity annotations removed."""
    found: dict[str, list[str]] = {name: [] for name in intents}
    for path in NLU.glob("*.yml"):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if item.get("intent") in found:
                lines = [line.strip()[2:] for line in item["examples"].splitlines() if line.strip().startswith("- ")]
                found[item["intent"]] += [re.sub(r"\[([^\]]+)\][({][^)}]*[)}]", r"\1", line) for line in lines]
    return found


@pytest.mark.parametrize(
    "text", ["ayuda", "¡Ayuda!", "necesito ayuda", "Necesito ayuda por favor", "¡Auxilio!", "buenas, ayuda urgente"]
)
@pytest.mark.parametrize("intent", ["thank", "nlu_fallback"])
def test_a_bare_call_for_help_is_a_greeting(text: str, intent: str) -> None:
    assert is_help_call(text)
    assert corrected_intent(intent, text) == "greet"


@pytest.mark.parametrize(
    "text",
    ["gracias", "muchas gracias por la ayuda", "gracias, me ayudó mucho", "ayuda con la OLT de Medellín", "listo"],
)
def test_thanks_and_more_than_a_call_for_help_are_left_alone(text: str) -> None:
    assert not is_help_call(text)
    assert corrected_intent("thank", text) is None and corrected_intent("nlu_fallback", text) is None


def test_a_call_for_help_the_classifier_placed_elsewhere_is_left_alone() -> None:
    assert corrected_intent("greet", "ayuda") is None
    assert corrected_intent("request_human", "necesito ayuda") is None


@pytest.mark.parametrize(
    "text",
    [
        "Oiga, y si abro un caso de prioridad 2, ¿cada cuánto me van a estar dando razón?",
        "¿Con qué frecuencia me informan de un P1?",
        "en un p3 me mantienen informado?",
        "¿me van a estar avisando cómo va el caso de prioridad 1?",
        "¿Las actualizaciones de Prioridad 4 son semanales?",
        "si es prioridad 1 me dan razón cada dos horas?",
        "¿qué tan seguido dan actualizaciones de un P2?",
        "¿me tienen al tanto si es prioridad alta?",
    ],
)
def test_how_often_they_are_kept_informed_is_the_update_cadence(text: str) -> None:
    assert asks_cadence(text)
    assert corrected_intent("ask_priority_levels", text) == "ask_update_frequency"


@pytest.mark.parametrize(
    "text",
    [
        "¿Cuáles son los niveles de prioridad?",
        "que significa prioridad 1",
        "una caida total de la red que prioridad seria?",
        "¿Qué prioridad tienen las actualizaciones de software?",
        "¿qué prioridad tiene una falla en la frecuencia de radio del enlace?",
        "¿cuántas veces puedo abrir un P1?",
        "¿Qué es una prioridad 2 y cada cuánto me informan?",  # what they are is asked too: the priorities
    ],
)
def test_questions_about_the_priorities_stay_so(text: str) -> None:
    assert corrected_intent("ask_priority_levels", text) is None


def test_the_training_examples_of_the_intents_involved_are_never_corrected() -> None:
    """Every example the classifier learnt keeps its intent; every update-cadence example reads as one."""
    examples = _examples("thank", "greet", "ask_priority_levels", "ask_update_frequency")
    assert all(len(found) > 20 for found in examples.values())
    for intent, texts in examples.items():
        assert [t for t in texts if corrected_intent(intent, t) is not None] == [], intent
    assert [t for t in examples["ask_update_frequency"] if not asks_cadence(t)] == []
    assert [t for t in examples["thank"] if is_help_call(t)] == []


def test_the_parse_keeps_what_the_classifier_said() -> None:
    parse = {"intent": {"name": "thank", "confidence": 0.61}, "entities": [], "text": "ayuda"}
    assert correct(parse, "ayuda", in_form=False) == "greet"
    assert parse["intent"] == {
        "name": "greet",
        "confidence": 1.0,
        "corrected_from": {"name": "thank", "confidence": 0.61},
    }
    assert parse["entities"] == []


def test_inside_a_form_a_call_for_help_is_left_to_the_form_and_a_cadence_question_is_not() -> None:
    parse = {"intent": {"name": "thank", "confidence": 0.61}}
    assert correct(parse, "ayuda", in_form=True) is None and parse["intent"]["name"] == "thank"
    parse = {"intent": {"name": "ask_priority_levels", "confidence": 0.74}}
    assert correct(parse, "¿cada cuánto me informan?", in_form=True) == "ask_update_frequency"
    assert correct(None, "ayuda", in_form=False) is None
