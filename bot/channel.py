"""`promptlink` input channel: the backend's private door into Rasa.

Like Rasa's REST channel, but it returns the parse of the message (intent, confidence,
entities) together with the bot's messages, and it requires a bearer token. Only the
backend calls it; customers never reach Rasa directly.

Turns run one at a time per Rasa process, in arrival order (`PROMPTLINK_RASA_TURNS_AT_ONCE`,
default 1). Rasa's turn is CPU work on the event loop broken by a few awaits; with many
turns in flight they interleave at every await, and a turn that awaits the action server
waits behind every other turn's work each time. Measured at 20 concurrent chats on 2 cores
(docs/assistant.md): p95 880 ms interleaved, 330–370 ms one at a time, with the same
throughput. Scale out with more Rasa processes (`PROMPTLINK_RASA_PROCESSES`), not with
more turns at once.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import intent_hints, speedups

log = logging.getLogger(__name__)
speedups.install()

MAX_TEXT = 5000
MAX_SENDER = 64


def turns_at_once() -> int:
    """How many turns this Rasa process runs at once (`PROMPTLINK_RASA_TURNS_AT_ONCE`, 1-64)."""
    raw = os.environ.get("PROMPTLINK_RASA_TURNS_AT_ONCE", "1")
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"PROMPTLINK_RASA_TURNS_AT_ONCE must be a whole number, not {raw!r}") from None
    if not 1 <= value <= 64:
        raise ValueError(f"PROMPTLINK_RASA_TURNS_AT_ONCE must be between 1 and 64, not {value}")
    return value


class PromptlinkInput(InputChannel):
    """Authenticated REST-style channel returning messages plus the NLU parse."""

    @classmethod
    def name(cls) -> Text:
        return "promptlink"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "PromptlinkInput":
        token = (credentials or {}).get("token")
        if not token or str(token).startswith("${"):
            raise ValueError("the promptlink channel needs a `token` (PROMPTLINK_RASA_CHANNEL_TOKEN)")
        return cls(token=str(token))

    def __init__(self, token: str) -> None:
        self.token = token
        self.turns_at_once = turns_at_once()
        self._turns: Optional[asyncio.Semaphore] = None  # made on the server's event loop

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), self.token.encode())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("promptlink_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self._authorized(request):
                return response.json({"detail": "missing or wrong bearer token"}, status=401)
            body = request.json if isinstance(request.json, dict) else None
            if body is None:
                return response.json({"detail": "body must be a JSON object"}, status=400)
            sender, text, metadata = body.get("sender"), body.get("message"), body.get("metadata") or {}
            if not isinstance(sender, str) or not 0 < len(sender) <= MAX_SENDER:
                return response.json({"detail": "sender must be a string of 1-64 characters"}, status=400)
            if not isinstance(text, str) or not 0 < len(text) <= MAX_TEXT:
                return response.json({"detail": "message must be a string of 1-5000 characters"}, status=400)
            if not isinstance(metadata, dict):
                return response.json({"detail": "metadata must be an object"}, status=400)
            agent = getattr(request.app.ctx, "agent", None)
            if agent is None or not agent.is_ready():
                # Rasa would take the message and answer nothing: say so, and the backend asks another server.
                return response.json({"detail": "no model loaded yet"}, status=503)
            collector = CollectingOutputChannel()
            message = UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata)
            if self._turns is None:
                self._turns = asyncio.Semaphore(self.turns_at_once)
            async with self._turns:
                # Parsed here, once: the processor uses `parse_data` as it is, and the answer reports it.
                message.parse_data = await _parse(request, message)
                await _correct(agent, sender, message.parse_data, text)
                await on_new_message(message)
                form = await _active_loop(agent, sender)
            return response.json(
                {"messages": collector.messages, "parse": _summary(message.parse_data), "active_loop": form}
            )

        return webhook


async def _parse(request: Request, message: UserMessage) -> Optional[Dict[str, Any]]:
    """The NLU parse of `message` by the loaded model (None when no model is loaded yet)."""
    agent = getattr(request.app.ctx, "agent", None)
    processor = getattr(agent, "processor", None)
    if processor is None:
        return None
    return await processor.parse_message(message)


async def _correct(agent: Any, sender: str, parse: Optional[Dict[str, Any]], text: str) -> None:
    """Correct the parse where the message's words settle a known confusion (`bot/intent_hints.py`)."""
    intent = ((parse or {}).get("intent") or {}).get("name")
    new = intent_hints.corrected_intent(intent, text)
    if new is None:
        return
    in_form = new == intent_hints.GREET and await _active_loop(agent, sender) is not None
    if intent_hints.correct(parse, text, in_form=in_form):
        log.info("intent %s read as %s by the message's words", intent, new)


async def _active_loop(agent: Any, sender: str) -> Optional[str]:
    """The form whose question the bot is waiting on after this turn (Rasa's active loop), if any.

    Promptlink's tracker store remembers it when it saves the turn (no read); any other store is read.
    """
    store = getattr(agent, "tracker_store", None)
    inner = getattr(store, "_tracker_store", store)
    remembered = getattr(inner, "active_loop_of", None)
    if remembered is not None:
        known, form = remembered(sender)
        if known:
            return form
    if store is None:
        return None
    tracker = await store.retrieve(sender)
    return tracker.active_loop_name if tracker is not None else None


def _summary(parse: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """What the NLU understood of the message: intent, confidence and entities."""
    if not parse:
        return {}
    intent = parse.get("intent") or {}
    return {
        "intent": {"name": intent.get("name"), "confidence": intent.get("confidence")},
        "entities": [
            {k: e.get(k) for k in ("entity", "value", "start", "end", "confidence_entity") if k in e}
            for e in parse.get("entities") or []
        ],
    }
