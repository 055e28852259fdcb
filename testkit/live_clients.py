"""Resilient socket.io test clients for the live chat: a customer (`/chat`) and an agent (`/agent`).

Both behave like the real widget and console: they keep unacknowledged messages and resend
them (same `client_msg_id`) after reconnecting, resume from the highest `seq` they hold, and
record every `seq` they saw — so a test can check that nothing was lost, duplicated or
reordered.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import socketio

SEND_ERRORS = (
    TimeoutError,
    asyncio.TimeoutError,
    socketio.exceptions.TimeoutError,
    socketio.exceptions.BadNamespaceError,
    socketio.exceptions.DisconnectedError,
    socketio.exceptions.ConnectionError,
)


class _Peer:
    namespace = ""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.seen: dict[int, dict[str, Any]] = {}  # seq -> message event, as received
        self.acked: dict[str, int] = {}  # client_msg_id -> seq
        self.pending: dict[str, dict[str, Any]] = {}  # client_msg_id -> payload, not acked yet
        self.events: list[tuple[str, Any]] = []
        self.sio = self._client()

    def _client(self) -> socketio.AsyncClient:
        sio = socketio.AsyncClient(reconnection=False)
        sio.on("message", self._on_message, namespace=self.namespace)
        for name in (
            "typing",
            "handoff",
            "agent_joined",
            "state",
            "closed",
            "rated",
            "session",
            "hello",
            "queues",
            "conversation",
            "chats",
            "assigned",
            "note",
            "agents",
        ):
            sio.on(name, self._recorder(name), namespace=self.namespace)
        return sio

    def _recorder(self, name: str) -> Any:
        async def record(data: Any) -> None:
            self.events.append((name, data))

        return record

    async def _on_message(self, data: dict[str, Any]) -> None:
        self.seen.setdefault(data["seq"], data)

    @property
    def last_seq(self) -> int:
        """The highest seq up to which this client holds everything (what it resumes from)."""
        held = set(self.seen) | set(self.acked.values())
        n = 0
        while n + 1 in held:
            n += 1
        return n

    def event(self, name: str) -> list[Any]:
        return [data for event, data in self.events if event == name]

    async def wait_event(self, name: str, predicate: Any = None, timeout: float = 15) -> Any:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            for data in self.event(name):
                if predicate is None or predicate(data):
                    return data
            await asyncio.sleep(0.02)
        raise TimeoutError(f"no {name} event; got {self.events[-10:]}")

    async def wait_text(self, text: str, timeout: float = 15) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            for message in self.seen.values():
                if message["text"] == text:
                    return message
            await asyncio.sleep(0.02)
        raise TimeoutError(f"{text!r} never arrived; last seen {sorted(self.seen)[-5:]}")

    async def _call(self, payload: dict[str, Any], timeout: float = 5, *, retry: bool = True) -> dict[str, Any] | None:
        for _ in range(40 if retry else 1):
            try:
                ack = await self.sio.call("message", payload, namespace=self.namespace, timeout=timeout)
            except SEND_ERRORS:
                return None  # stays pending: resent after the next reconnect
            if not (isinstance(ack, dict) and ack.get("retry")):
                break
            await asyncio.sleep(0.5)  # rate-limited: the server asks to try again shortly
        if isinstance(ack, dict) and "seq" in ack:
            self.acked[payload["client_msg_id"]] = ack["seq"]
            self.pending.pop(payload["client_msg_id"], None)
        return ack if isinstance(ack, dict) else None

    async def send(self, text: str, *, retry: bool = True, **extra: Any) -> dict[str, Any] | None:
        """Send and wait for the ack; a rate-limited message is tried again unless `retry` is False."""
        client_msg_id = uuid.uuid4().hex
        payload = {"client_msg_id": client_msg_id, "text": text, **extra}
        self.pending[client_msg_id] = payload
        return await self._call(payload, retry=retry)

    async def resend_pending(self) -> None:
        for payload in list(self.pending.values()):
            await self._call(payload)

    async def drop(self) -> None:
        """Lose the connection (as a network failure would, from the client's side)."""
        try:
            await self.sio.disconnect()
        finally:
            self.sio = self._client()

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


class Customer(_Peer):
    namespace = "/chat"

    def __init__(self, base_url: str, identity: str) -> None:
        super().__init__(base_url)
        self.identity = identity
        self.conversation_id: str | None = None

    async def connect(self, timeout: float = 10) -> Customer:
        auth: dict[str, Any] = {"identity": self.identity, "last_seq": self.last_seq}
        if self.conversation_id:
            auth["conversation_id"] = self.conversation_id
        seen_sessions = len(self.event("session"))
        await self.sio.connect(
            self.base_url, namespaces=[self.namespace], auth=auth, transports=["websocket"], wait_timeout=timeout
        )
        session = await self._next("session", seen_sessions, timeout)
        if self.conversation_id is not None:
            assert session["conversation_id"] == self.conversation_id, "the conversation was not resumed"
        self.conversation_id = session["conversation_id"]
        await self.resend_pending()
        return self

    async def _next(self, name: str, already: int, timeout: float) -> Any:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            found = self.event(name)
            if len(found) > already:
                return found[-1]
            await asyncio.sleep(0.02)
        raise TimeoutError(f"no {name} after connecting")

    async def emit(self, event: str, data: Any = None) -> Any:
        return await self.sio.call(event, data or {}, namespace=self.namespace, timeout=10)


class AgentPeer(_Peer):
    namespace = "/agent"

    def __init__(self, base_url: str, token: str) -> None:
        super().__init__(base_url)
        self.token = token
        self.watching: str | None = None

    async def connect(self, timeout: float = 10) -> AgentPeer:
        hellos = len(self.event("hello"))
        await self.sio.connect(
            self.base_url,
            namespaces=[self.namespace],
            auth={"token": self.token},
            transports=["websocket"],
            wait_timeout=timeout,
        )
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.event("hello")) <= hellos:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("no hello")
            await asyncio.sleep(0.02)
        if self.watching:
            await self.watch(self.watching)
        await self.resend_pending()
        return self

    async def watch(self, conversation_id: str) -> dict[str, Any]:
        self.watching = conversation_id
        ack: dict[str, Any] = await self.sio.call(
            "watch",
            {"conversation_id": conversation_id, "last_seq": self.last_seq},
            namespace=self.namespace,
            timeout=10,
        )
        return ack

    async def say(self, text: str) -> dict[str, Any] | None:
        assert self.watching is not None
        return await self.send(text, conversation_id=self.watching)

    async def emit(self, event: str, data: Any = None) -> Any:
        return await self.sio.call(event, data or {}, namespace=self.namespace, timeout=10)
