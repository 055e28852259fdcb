"""`bot.speedups`: Rasa's action-response validation and event lookup, same answers, cheaper (bot environment).

Run by `scripts/test.sh` with the bot's Python (Rasa is not installed in the backend's).
"""

from __future__ import annotations

from typing import Any

import pytest
import rasa.shared.utils.common
from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.events import Event, SlotSet, UserUttered

from bot import speedups

speedups.install()


def action() -> RemoteAction:
    return RemoteAction("action_greet", AvailableEndpoints().action)


GOOD = {
    "events": [{"event": "slot", "name": "customer_code", "value": "CABLEANDINA", "timestamp": None}],
    "responses": [{"response": "utter_greet_named", "name": "Ana"}],
}


def test_install_is_idempotent() -> None:
    assert speedups.install() is False


def test_a_valid_action_response_passes_without_checking_the_schema_again(monkeypatch: pytest.MonkeyPatch) -> None:
    validator_class = validator_for(RemoteAction.action_response_format_spec())

    def no_more_schema_checks(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the constant schema was checked again")

    monkeypatch.setattr(validator_class, "check_schema", classmethod(no_more_schema_checks))
    assert action()._validate_action_result(GOOD) is True
    assert action()._validate_action_result({}) is True


@pytest.mark.parametrize(
    "bad",
    [
        {"events": "not a list"},
        {"events": [{"name": "no event key"}]},
        {"responses": [{"text": 3}], "events": [{"event": 7}]},
    ],
)
def test_a_bad_action_response_raises_rasas_error_with_its_hint(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as caught:
        action()._validate_action_result(bad)
    assert "Failed to validate Action server response from API" in caught.value.message
    assert "/custom-actions" in caught.value.message


def test_event_lookup_gives_the_same_class_as_rasas_search() -> None:
    for cls in rasa.shared.utils.common.all_subclasses(Event):
        assert Event.resolve_by_type(cls.type_name) is cls
        assert Event.resolve_by_type(cls.type_name) is cls  # remembered the second time
    assert Event.resolve_by_type("user") is UserUttered
    assert Event.resolve_by_type("slot") is SlotSet
    assert Event.from_parameters({"event": "slot", "name": "x", "value": 1}) == SlotSet("x", 1)


def test_unknown_event_names_behave_as_in_rasa() -> None:
    with pytest.raises(ValueError, match="Unknown event name 'no-such-event'"):
        Event.resolve_by_type("no-such-event")
    assert Event.resolve_by_type("no-such-event", default=SlotSet) is SlotSet
    assert Event.resolve_by_type("topic") is None


def test_an_event_class_defined_later_is_still_found() -> None:
    Event.resolve_by_type("late_event", default=SlotSet)  # a miss is not remembered

    class LateEvent(SlotSet):
        type_name = "late_event"

    assert Event.resolve_by_type("late_event") is LateEvent
