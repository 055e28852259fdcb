"""What the `/chat` and `/agent` namespaces share: the namespace base class and how a client's
ids, positions and login token are read."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from http.cookies import SimpleCookie
from typing import Any

import socketio

from promptlink.services.text import bad_character
from promptlink.transports.http.common import SESSION_COOKIE

log = logging.getLogger(__name__)

# Sequence numbers are 64-bit in the database: a larger one from a client is no position at all.
MAX_SEQ = 2**63 - 1
# How long (in 10 ms steps) a new socket's first events wait for its CONNECT packet to go out.
CONNECT_WAIT_STEPS = 500


def valid_id(value: Any) -> bool:
    """A conversation id as a client may send it: short text without invalid characters."""
    return isinstance(value, str) and 0 < len(value) <= 64 and bad_character(value) is None


def seq(value: Any) -> int:
    """A message position (`last_seq`) a client sent; 0 (from the start) when it is none."""
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_SEQ
    return value if ok else 0


def login_token(environ: dict[str, Any], auth: Any) -> str | None:
    """A staff socket's login: `auth.token`, else the console's session cookie."""
    if isinstance(auth, dict) and isinstance(auth.get("token"), str) and auth["token"]:
        return str(auth["token"])
    cookies = SimpleCookie()
    try:
        cookies.load(environ.get("HTTP_COOKIE", ""))
    except Exception:  # noqa: BLE001 - a malformed cookie header is just no cookie
        return None
    morsel = cookies.get(SESSION_COOKIE)
    return morsel.value if morsel is not None else None


class SocketNamespace(socketio.AsyncNamespace):  # type: ignore[misc]  # python-socketio is untyped
    """A namespace whose events are its `on_<event>` methods (so only event handlers may start with `on_`)."""

    def __init__(self, namespace: str) -> None:
        super().__init__(namespace)
        self._tasks: set[asyncio.Task[None]] = set()

    async def trigger_event(self, event: str, *args: Any) -> Any:
        # An event without a handler is not handled (no ack), as with `@sio.on` handlers.
        if not hasattr(self, f"on_{event or ''}"):
            return self.server.not_handled
        return await super().trigger_event(event, *args)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run `coro` in the background, holding a reference until it is done."""
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def connected(self, sid: str) -> bool:
        """Wait until the socket's CONNECT packet went out (it does once `on_connect` returned);
        False when the socket is gone meanwhile."""
        manager = self.server.manager
        for _ in range(CONNECT_WAIT_STEPS):
            if manager.is_connected(sid, self.namespace) and not manager.is_pre_connected(sid, self.namespace):
                return True
            await asyncio.sleep(0.01)
        return False

    async def send_messages(self, sid: str, events: list[dict[str, Any]]) -> None:
        """Replay stored messages to one socket, in order."""
        for event in events:
            await self.emit("message", event, to=sid)
