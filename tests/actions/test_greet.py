"""Tests for `action_greet`: the response name and its kwargs, not the words."""

import asyncio
from typing import Any, Dict, List, Optional

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
