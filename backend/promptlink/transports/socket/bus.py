"""The socket.io message bus between backend processes (Redis), and what happens when it drops.

python-socketio's `AsyncRedisManager` relays each emit to the other processes through Redis
pub/sub. While Redis restarts, a publish fails (logged, the event is gone) and a listener that
re-subscribes misses what was published meanwhile; the clients' websockets stay up, so nothing
tells them anything was lost (bench/cluster.py's Redis restart: 25 stored, acknowledged live-chat
messages never reached the other side).

`ResyncingRedisManager` notices the loss and makes the clients catch up:

- every `tick` seconds each process publishes a numbered tick on the bus and listens for its own;
  a publish that fails, or a tick number that arrives after a gap, means events may be lost;
- once its ticks come through again, the process closes its clients' connections at the
  engine.io level (a transport close, not a socket.io disconnect): the widget and the console
  reconnect at once and resume from the last `seq` they hold (docs/chat-protocol.md), which
  replays whatever the bus lost.

No timing threshold is involved, so a slow event loop never disconnects anyone.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import socketio

log = logging.getLogger(__name__)

TICK = "promptlink_bus_tick"
_TICK_MARK = f'"{TICK}"'.encode()


class ResyncingRedisManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    def __init__(self, url: str, *, channel: str, tick: float = 1.0, **kwargs: Any) -> None:
        super().__init__(url, channel=channel, **kwargs)
        self.tick = tick
        self.ticks_sent = 0
        self.last_tick_seen: int | None = None
        self.interrupted = False
        self.resyncs = 0  # how many times this process made its clients catch up (tests, logs)

    def initialize(self) -> None:
        super().initialize()
        if not self.write_only:
            self.server.start_background_task(self._heartbeat)

    async def _publish(self, data: Any) -> Any:
        result = await super()._publish(data)
        if result is None:  # python-socketio gave up on this publish: the other processes never get it
            self.interrupted = True
        return result

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.tick)
            self.ticks_sent += 1
            await self._publish({"method": TICK, "host_id": self.host_id, "n": self.ticks_sent})

    async def _listen(self) -> AsyncIterator[Any]:
        async for message in super()._listen():
            if isinstance(message, bytes) and _TICK_MARK in message:
                self._tick_received(message)
                continue
            yield message

    def _tick_received(self, message: bytes) -> None:
        try:
            data = json.loads(message)
        except ValueError:
            return
        if data.get("host_id") != self.host_id or not isinstance(data.get("n"), int):
            return  # another process's tick: each process watches its own round trip
        n: int = data["n"]
        if self.last_tick_seen is not None and n > self.last_tick_seen + 1:
            self.interrupted = True  # ticks published while this process was not listening
        self.last_tick_seen = n
        if self.interrupted:
            self.interrupted = False
            self.server.start_background_task(self._resync)

    async def _resync(self) -> None:
        # One more tick for the other processes to re-subscribe too, then every client catches up.
        await asyncio.sleep(self.tick)
        self.resyncs += 1
        clients = len(self.server.eio.sockets)
        log.warning(
            "socket.io bus was interrupted; clients reconnect to resume from their last seq",
            extra={"clients": clients, "resyncs": self.resyncs},
        )
        if clients:  # engine.io waits on one close per client, and refuses an empty wait
            await self.server.eio.disconnect()
