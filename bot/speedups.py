"""Two hot spots of Rasa 3.6's turn, made cheap without changing what they do.

Profiling the Rasa server under 20 concurrent chats (py-spy, `docs/assistant.md`) showed:

1. `RemoteAction._validate_action_result` calls `jsonschema.validate(result, spec)` for every
   custom-action response. That function first checks the (constant) schema against the
   JSON Schema meta-schema: about 14 ms of CPU on each call, on Rasa's event loop, against
   0.02 ms for the validation itself. It was a quarter of the server's CPU. Here the
   validator is built, and the schema checked, once; a response is validated exactly as
   before and a bad one raises the same `ValidationError` with Rasa's own hint appended.
2. `Event.resolve_by_type` walks every subclass of `Event` for every event it deserialises
   (twice per stored event per turn). Here the answer is remembered per type name once
   found; a name not found still goes the original way (and its error), so an event class
   imported later is still found.

`install()` is idempotent. The Rasa server runs it when it imports `bot.channel` (the
credentials name that module); the pinned Rasa version is checked, so a Rasa upgrade
fails loudly here instead of silently patching code that moved.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Text, Type

RASA_VERSION = "3.6.21"
_installed = False


def install() -> bool:
    """Install both speed-ups; return False when they were already installed."""
    global _installed
    if _installed:
        return False
    import rasa
    from jsonschema import ValidationError
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL
    from rasa.shared.core.events import Event

    if rasa.__version__ != RASA_VERSION:
        raise RuntimeError(f"bot/speedups.py patches Rasa {RASA_VERSION}, found {rasa.__version__}: review it")

    spec = RemoteAction.action_response_format_spec()
    validator_class = validator_for(spec)
    validator_class.check_schema(spec)
    validator = validator_class(spec)

    def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        try:
            validator.validate(result)
            return True
        except ValidationError as e:
            e.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                "For more information about the format visit "
                f"{DOCS_BASE_URL}/custom-actions"
            )
            raise e

    original_resolve = Event.resolve_by_type
    known: Dict[Text, Type[Event]] = {}

    def resolve_by_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
        found = known.get(type_name)
        if found is not None:
            return found
        resolved = original_resolve(type_name, default)
        if resolved is not None and resolved is not default:
            known[type_name] = resolved
        return resolved

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign,assignment]
    _installed = True
    return True
