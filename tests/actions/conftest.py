"""Tracker fixtures and the fake backend for the action tests (bot environment)."""

from __future__ import annotations

import asyncio
import functools
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

sys.path.insert(0, str(Path(__file__).parent))

from fake_backend import FakeBackend  # noqa: E402

from actions.backend import use_backend  # noqa: E402

ANA_METADATA = {
    "conversation_id": "conv-1",
    "customer": "CABLEANDINA",
    "customer_name": "Cable Andina S.A.",
    "contact": "ana.gomez@cableandina.example",
    "name": "Ana Gómez",
}


def make_tracker(
    *,
    text: str = "hola",
    intent: str = "greet",
    slots: Optional[Dict[str, Any]] = None,
    metadata: Optional[Dict[str, Any]] = None,
    entities: Optional[List[Dict[str, Any]]] = None,
    events: Optional[List[Dict[str, Any]]] = None,
    active_loop: Optional[str] = None,
) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.95},
        "entities": entities or [],
        "metadata": metadata if metadata is not None else ANA_METADATA,
    }
    return Tracker(
        sender_id="conv-1",
        slots=dict(slots or {}),
        latest_message=latest,
        events=events or [],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


@functools.cache
def project_domain() -> Dict[str, Any]:
    """domain.yml as Rasa sends it to the action server (with its responses)."""
    return dict(yaml.safe_load((Path(__file__).resolve().parents[2] / "domain.yml").read_text(encoding="utf-8")))


def run(action: Any, tracker: Tracker, domain: Optional[Dict[str, Any]] = None) -> tuple[CollectingDispatcher, list]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, project_domain() if domain is None else domain))
    return dispatcher, events


def responses(dispatcher: CollectingDispatcher) -> List[str]:
    return [m.get("response") for m in dispatcher.messages]


@pytest.fixture
def fake() -> Iterator[FakeBackend]:
    from actions import intake

    intake._CONTEXTS.clear()  # devices and zone are cached per contact
    backend = FakeBackend()
    use_backend(backend)
    yield backend
    use_backend(None)
