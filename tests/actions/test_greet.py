"""Tests for `action_greet`: the response name and its kwargs, not the words."""

import asyncio
import re
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.greet import MAX_NAME_LENGTH, ActionGreet


def make_tracker(metadata: Optional[Dict[str, Any]]) -> Tracker:
    """Build a tracker whose latest user message is a greeting with `metadata`."""
    latest_message: Dict[str, Any] = {
        "text": "hola",
        "intent": {"name": "greet", "confidence": 0.98},
        "entities": [],
    }
    if metadata is not None:
        latest_message["metadata"] = metadata
    return Tracker(
        sender_id="conv-test",
        slots={},
        latest_message=latest_message,
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def run_greet(metadata: Optional[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Run the action and return the messages it dispatched."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionGreet().run(dispatcher, make_tracker(metadata), {}))
    assert events == []
    return dispatcher.messages


def test_name_is_action_greet() -> None:
    assert ActionGreet().name() == "action_greet"


def test_greets_by_first_name_from_metadata() -> None:
    messages = run_greet({"name": "Ana Gómez", "customer": "ACME"})

    assert len(messages) == 1
    assert messages[0]["response"] == "utter_greet_named"
    assert messages[0]["name"] == "Ana"


def test_generic_greeting_without_metadata() -> None:
    messages = run_greet(None)

    assert len(messages) == 1
    assert messages[0]["response"] == "utter_greet"
    assert "name" not in messages[0]


def test_generic_greeting_when_name_is_blank_or_not_text() -> None:
    for metadata in ({"name": "   "}, {"name": None}, {"name": 42}, {}):
        messages = run_greet(metadata)
        assert [m["response"] for m in messages] == ["utter_greet"], metadata


def test_name_is_trimmed_and_bounded() -> None:
    messages = run_greet({"name": "  \t Maximiliano" + "x" * 200 + "  Pérez \n"})

    assert messages[0]["response"] == "utter_greet_named"
    name = messages[0]["name"]
    assert len(name) == MAX_NAME_LENGTH
    assert name == ("Maximiliano" + "x" * 200)[:MAX_NAME_LENGTH]
    assert name == name.strip()


# --- The words of the responses these actions (greeting, fallback, status, alarms, handoff) send ---

DOMAIN = Path(__file__).resolve().parents[2] / "domain.yml"
OWN_RESPONSES = (
    "utter_greet",
    "utter_greet_named",
    "utter_goodbye",
    "utter_you_are_welcome",
    "utter_default",
    "utter_out_of_scope",
    "utter_offer_human",
    "utter_offer_human_other_need",
    "utter_ok_continue",
    "utter_how_can_i_help",
    "utter_otp_code_wrong",
    "utter_ticket_status",
    "utter_ticket_not_found",
    "utter_no_open_tickets",
    "utter_open_tickets_intro",
    "utter_open_tickets_intro_cut",
    "utter_open_ticket_line",
    "utter_deployment_status",
    "utter_no_deployment_plan",
    "utter_no_open_alarms",
    "utter_open_alarms_intro",
    "utter_open_alarms_intro_cut",
    "utter_open_alarm_line",
    "utter_open_alarm_line_no_ticket",
    "utter_open_alarm_flapping",
    "utter_open_alarm_flapping_no_ticket",
    "utter_handoff_queued",
    "utter_handoff_failed",
    "utter_contact_channels",
    "utter_contact_channels_without_phone",
    "utter_price_info",
    "utter_price_info_without_phone",
)


@pytest.mark.parametrize("name", OWN_RESPONSES)
def test_responses_speak_to_the_customer_as_usted_without_plural_brackets(name: str) -> None:
    variants = yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))["responses"][name]
    for variant in variants:
        text = variant["text"]
        assert not re.search(r"\w\((s|es|a|as)\)", text), text  # «tiquete(s)»: say 1 tiquete / 3 tiquetes
        assert "el cliente" not in text.lower(), text  # «usted», «su empresa»
        assert "Bienvenido" not in text and "Bienvenida" not in text, text  # the greeting does not guess a gender
        assert not re.search(r"\b(open|closed|pending|new|resolved)\b", text), text
