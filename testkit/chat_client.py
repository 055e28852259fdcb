"""A small socket.io client of the customer chat (`/chat`): real websocket, real server.

The tests use it as it is; bench/chat_scenarios.py times its events (`BenchClient`).
"""

from __future__ import annotations

import asyncio
from typing import Any

import socketio

from testkit.demo import widget_token

__all__ = ["NAMESPACE", "ChatClient", "widget_token"]

NAMESPACE = "/chat"


class ChatClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.sio = socketio.AsyncClient(reconnection=False)
        self.session: dict[str, Any] = {}
        self.messages: list[dict[str, Any]] = []
        self.typing: list[dict[str, Any]] = []
        self._session_ready = asyncio.Event()
        self.sio.on("session", self._on_session, namespace=NAMESPACE)
        self.sio.on("message", self._on_message, namespace=NAMESPACE)
        self.sio.on("typing", self._on_typing, namespace=NAMESPACE)

    async def _on_session(self, data: dict[str, Any]) -> None:
        self.session = data
        self._session_ready.set()

    async def _on_message(self, data: dict[str, Any]) -> None:
        self.messages.append(data)

    async def _on_typing(self, data: dict[str, Any]) -> None:
        self.typing.append(data)

    async def connect(self, **auth: Any) -> ChatClient:
        """Connect with `auth` (e.g. `identity=<widget token>`) and wait for the `session` event."""
        await self.sio.connect(
            self.base_url, namespaces=[NAMESPACE], auth=auth, transports=["websocket"], wait_timeout=10
        )
        await asyncio.wait_for(self._session_ready.wait(), 10)
        return self

    async def send(self, text: str, client_msg_id: str, **extra: Any) -> dict[str, Any]:
        return await self.sio.call(
            "message", {"client_msg_id": client_msg_id, "text": text, **extra}, namespace=NAMESPACE, timeout=10
        )

    async def wait_for(self, predicate: Any, timeout: float = 20) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            for message in self.messages:
                if predicate(message):
                    return message
            await asyncio.sleep(0.05)
        raise TimeoutError(f"no matching message; got {self.messages}")

    async def close(self) -> None:
        await self.sio.disconnect()
