"""The domain's responses filled inside an action, for a list sent as one message.

A list (open tickets, open alarms) goes out as one message: its intro response with a `{lines}`
slot that holds one filled line response per item. The words of every line stay in domain.yml.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk.types import DomainDict


def response_text(domain: DomainDict, response: str, **values: Any) -> str:
    """The first text of `response` in the domain (as Rasa sends it to the action server), filled in."""
    return str(domain["responses"][response][0]["text"]).format(**values)
