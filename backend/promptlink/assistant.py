"""Client for the Rasa server's `promptlink` input channel (see bot/channel.py)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

log = logging.getLogger(__name__)
SWAP_WAIT_SECONDS = 600.0


class AssistantUnavailable(Exception):
    """Rasa (or its action server) cannot answer; `component` names which."""

    def __init__(self, component: str, detail: str) -> None:
        super().__init__(f"{component}: {detail}")
        self.component = component
        self.detail = detail


@dataclass
class BotReply:
    text: str
    buttons: list[dict[str, str]] | None = None
    custom: dict[str, Any] | None = None


@dataclass
class BotTurn:
    """The assistant's answer to one message, with what it understood."""

    messages: list[BotReply] = field(default_factory=list)
    intent: str | None = None
    confidence: float | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)


class RasaClient:
    """Talks to Rasa through the custom channel and checks Rasa and action server health."""

    def __init__(
        self, *, rasa_url: str, rasa_token: str, channel_token: str, actions_url: str, timeout: float = 30.0
    ) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.actions_url = actions_url.rstrip("/")
        self._rasa_token = rasa_token
        self._channel_token = channel_token
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=3.0))
        # Cleared while this backend hot-loads a model into Rasa: turns wait for the swap
        # instead of timing out against a busy Rasa (docs/admin.md).
        self._not_swapping = asyncio.Event()
        self._not_swapping.set()

    async def close(self) -> None:
        await self._http.aclose()

    async def send(self, *, sender: str, text: str, metadata: dict[str, Any]) -> BotTurn:
        """Send a customer message; raise AssistantUnavailable when Rasa cannot answer."""
        url = f"{self.rasa_url}/webhooks/promptlink/webhook"
        try:
            await asyncio.wait_for(self._not_swapping.wait(), timeout=SWAP_WAIT_SECONDS)
        except TimeoutError as exc:
            raise AssistantUnavailable("rasa", "model swap takes too long") from exc
        for attempt in (1, 2):
            try:
                response = await self._http.post(
                    url,
                    json={"sender": sender, "message": text, "metadata": metadata},
                    headers={"Authorization": f"Bearer {self._channel_token}"},
                )
            except httpx.HTTPError as exc:
                raise AssistantUnavailable("rasa", f"{type(exc).__name__}: {exc}") from exc
            # An administrator's model swap (PUT /model) can fail one request: retry it once.
            if attempt == 1 and (response.status_code == 409 or response.status_code >= 500):
                log.warning("rasa answered %s; retrying once", response.status_code)
                await asyncio.sleep(0.5)
                continue
            break
        if response.status_code != 200:
            raise AssistantUnavailable("rasa", f"HTTP {response.status_code}: {response.text[:200]}")
        body = response.json()
        parse = body.get("parse") or {}
        intent = parse.get("intent") or {}
        turn = BotTurn(
            intent=intent.get("name"),
            confidence=intent.get("confidence"),
            entities=list(parse.get("entities") or []),
        )
        for raw in body.get("messages") or []:
            text_out = raw.get("text") or ""
            buttons = [
                {"title": str(b.get("title", ""))[:200], "payload": str(b.get("payload", ""))[:500]}
                for b in raw.get("buttons") or []
            ] or None
            if text_out or buttons or raw.get("custom"):
                turn.messages.append(BotReply(text=text_out, buttons=buttons, custom=raw.get("custom")))
        return turn

    async def rasa_ready(self) -> None:
        """Raise unless Rasa is up with a model loaded."""
        try:
            response = await self._http.get(f"{self.rasa_url}/status", params={"token": self._rasa_token}, timeout=3.0)
        except httpx.HTTPError as exc:
            raise AssistantUnavailable("rasa", f"{type(exc).__name__}: {exc}") from exc
        if response.status_code != 200 or not response.json().get("model_file"):
            raise AssistantUnavailable("rasa", f"status HTTP {response.status_code}")

    async def loaded_model(self) -> str:
        """The file name of the model Rasa runs (`GET /status`)."""
        try:
            response = await self._http.get(f"{self.rasa_url}/status", params={"token": self._rasa_token}, timeout=5.0)
        except httpx.HTTPError as exc:
            raise AssistantUnavailable("rasa", f"{type(exc).__name__}: {exc}") from exc
        if response.status_code != 200 or not response.json().get("model_file"):
            raise AssistantUnavailable("rasa", f"status HTTP {response.status_code}")
        return str(response.json()["model_file"])

    async def load_model(self, path: str) -> None:
        """Hot-load a model file into the running Rasa server (`PUT /model`); chats keep their trackers."""
        self._not_swapping.clear()
        try:
            response = await self._http.put(
                f"{self.rasa_url}/model",
                params={"token": self._rasa_token},
                json={"model_file": path},
                timeout=httpx.Timeout(SWAP_WAIT_SECONDS, connect=3.0),
            )
        except httpx.HTTPError as exc:
            raise AssistantUnavailable("rasa", f"{type(exc).__name__}: {exc}") from exc
        finally:
            self._not_swapping.set()
        if response.status_code != 204:
            raise AssistantUnavailable("rasa", f"model load HTTP {response.status_code}: {response.text[:300]}")

    async def actions_ready(self) -> None:
        """Raise unless the action server answers its health check."""
        try:
            response = await self._http.get(f"{self.actions_url}/health", timeout=3.0)
        except httpx.HTTPError as exc:
            raise AssistantUnavailable("actions", f"{type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise AssistantUnavailable("actions", f"health HTTP {response.status_code}")
