"""`promptlink` input channel: the backend's private door into Rasa.

Like Rasa's REST channel, but it returns the parse of the message (intent, confidence,
entities) together with the bot's messages, and it requires a bearer token. Only the
backend calls it; customers never reach Rasa directly.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

log = logging.getLogger(__name__)

MAX_TEXT = 5000
MAX_SENDER = 64


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
            collector = CollectingOutputChannel()
            await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata))
            return response.json({"messages": collector.messages, "parse": await _latest_parse(request, sender)})

        return webhook


async def _latest_parse(request: Request, sender: str) -> Dict[str, Any]:
    """What the NLU understood of the message just handled for `sender`."""
    agent = getattr(request.app.ctx, "agent", None)
    if agent is None or agent.tracker_store is None:
        return {}
    tracker = await agent.tracker_store.retrieve(sender)
    if tracker is None:
        return {}
    parse = tracker.latest_message.parse_data if tracker.latest_message else {}
    intent = parse.get("intent") or {}
    return {
        "intent": {"name": intent.get("name"), "confidence": intent.get("confidence")},
        "entities": [
            {k: e.get(k) for k in ("entity", "value", "start", "end", "confidence_entity") if k in e}
            for e in parse.get("entities") or []
        ],
    }
