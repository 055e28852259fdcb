"""Abuse guards of the `/chat` namespace: open sockets per client address, `typing` per socket.

Issue #13 F7/F14: the message rate limit was per socket only, so a client could open as many
sockets as it liked, and `typing` was not limited at all (2,000 relayed to the agents).
"""

from __future__ import annotations

import logging
from typing import Any

from limits import RateLimitItem, parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

log = logging.getLogger(__name__)

TOO_MANY_CONNECTIONS = (
    "Hay demasiadas conversaciones abiertas desde su conexión. Cierre otras pestañas del chat e inténtelo de nuevo."
)


def client_address(environ: dict[str, Any]) -> str:
    """The client's address: Sanic's (proxy-aware when PROXIES_COUNT/REAL_IP_HEADER are configured), else the peer."""
    request = environ.get("sanic.request")
    if request is not None:
        return str(getattr(request, "remote_addr", "") or getattr(request, "ip", "") or "unknown")
    return str(environ.get("REMOTE_ADDR") or "unknown")


class ConnectionGate:
    """At most `per_ip` open sockets per client address (0: unbounded), counted in this process.

    Open sockets are a count, not a rate (the `limits` library counts hits in a window): each
    backend process bounds its own, so with N workers behind a balancer an address may hold
    up to N × `per_ip`.
    """

    def __init__(self, per_ip: int) -> None:
        self.per_ip = per_ip
        self._open: dict[str, set[str]] = {}
        self._address: dict[str, str] = {}

    def admit(self, sid: str, address: str) -> bool:
        held = self._open.setdefault(address, set())
        if self.per_ip and len(held) >= self.per_ip and sid not in held:
            return False
        held.add(sid)
        self._address[sid] = address
        return True

    def release(self, sid: str) -> None:
        address = self._address.pop(sid, None)
        if address is None:
            return
        held = self._open.get(address)
        if held is not None:
            held.discard(sid)
            if not held:
                del self._open[address]

    def open_from(self, address: str) -> int:
        return len(self._open.get(address, ()))


class EventLimiter:
    """A `limits` moving window per key (e.g. `typing` per socket); shared through Redis when one is configured."""

    def __init__(self, rate: str, *, redis_url: str | None, prefix: str) -> None:
        self.items: list[RateLimitItem] = parse_many(rate)
        storage = (
            storage_from_string(f"async+{redis_url}", implementation="redispy", key_prefix="promptlink-limits")
            if redis_url
            else storage_from_string("async+memory://")
        )
        self.limiter = MovingWindowRateLimiter(storage)
        self.prefix = prefix

    async def allow(self, key: str) -> bool:
        """Count one event of `key`; False once a window is full."""
        try:
            for item in self.items:
                if not await self.limiter.hit(item, self.prefix, key):
                    return False
        except Exception:  # noqa: BLE001 - a storage outage must not break the chat: let the event through
            log.warning("rate-limit storage unavailable", extra={"limit": self.prefix}, exc_info=True)
            return True
        return True
