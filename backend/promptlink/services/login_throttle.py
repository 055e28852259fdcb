"""Failed-login limits per client address and per account (issue #13 F8).

Only failed attempts count (a wrong password, an unknown or inactive account, a malformed
body), so a busy office behind one address can still log in. When either the address or the
account has used up its window, the login answers 429 with `Retry-After` before any password is
checked, whatever the password: that is also the lockout of an account under attack.

Counters live in Redis when the deployment has a Redis URL (every backend process shares
them), in memory otherwise. Attempts still being checked are counted as failures-to-be within
the process, so a burst of parallel guesses stops exactly at the limit.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from limits import parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from promptlink.services.errors import DomainError, Unauthorized

log = logging.getLogger(__name__)
T = TypeVar("T")
PUBLIC = "Demasiados intentos de inicio de sesión. Espere unos minutos e inténtelo de nuevo."
Key = tuple[str, str]


class TooManyAttempts(DomainError):
    status = 429

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, public=PUBLIC)
        self.retry_after = retry_after

    def fields(self) -> dict[str, Any]:
        return {"retry_after": self.retry_after}


class ThrottleUnavailable(DomainError):
    """The counters cannot be read (Redis down): logins wait rather than go unlimited."""

    status = 503


def client_key(address: str) -> str:
    """The address a limit counts: an IPv4 address, or the /64 network of an IPv6 one."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64] or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def account_key(email: object) -> str | None:
    if not isinstance(email, str) or not email.strip() or len(email) > 254:
        return None
    return email.strip().lower()


class LoginThrottle:
    def __init__(self, *, per_ip: str, per_account: str, redis_url: str | None = None, namespace: str = "") -> None:
        if redis_url and redis_url.startswith(("redis://", "rediss://")):
            storage = storage_from_string(f"async+{redis_url}", implementation="redispy")
        else:
            storage = storage_from_string("async+memory://")
        self._limiter = MovingWindowRateLimiter(storage)
        self._limits = {"ip": parse_many(per_ip), "account": parse_many(per_account)}
        self._namespace = namespace
        self._pending: Counter[Key] = Counter()

    async def _retry_after(self, scope: str, value: str) -> int | None:
        """Seconds until `scope:value` may try again, or None when it may try now."""
        wait = 0.0
        for item in self._limits[scope]:
            stats = await self._limiter.get_window_stats(item, *self._ids(scope, value))
            if stats.remaining - self._pending[(scope, value)] <= 0:
                wait = max(wait, stats.reset_time - time.time() if stats.remaining <= 0 else 1.0)
        return max(1, math.ceil(wait)) if wait > 0 else None

    async def _checked(self, scope: str, value: str) -> int | None:
        """`_retry_after`, asked a second time when the storage fails once: after Redis restarts, each
        pooled connection fails on its first use and is replaced (bench/cluster.py's Redis restart)."""
        try:
            return await self._retry_after(scope, value)
        except Exception as exc:  # noqa: BLE001 - the second failure is the one reported
            log.warning("login throttle storage failed once; asking again", extra={"error": repr(exc)})
            return await self._retry_after(scope, value)

    def _ids(self, scope: str, value: str) -> tuple[str, ...]:
        return ("login", self._namespace, scope, value)

    async def run(self, *, address: str, email: object, attempt: Callable[[], Awaitable[T]]) -> T:
        """Run one login `attempt` unless the address or the account is throttled; an
        `Unauthorized` from it counts as a failure of both."""
        keys: list[Key] = [("ip", client_key(address))]
        account = account_key(email)
        if account is not None:
            keys.append(("account", account))
        for scope, value in keys:
            try:
                retry_after = await self._checked(scope, value)
            except Exception as exc:  # noqa: BLE001 - any storage failure (Redis down, timeout)
                log.error("login throttle storage failed", extra={"error": repr(exc)})
                raise ThrottleUnavailable(
                    f"login throttle storage failed: {exc!r}",
                    public="El inicio de sesión no está disponible en este momento; inténtelo en unos minutos.",
                ) from exc
            if retry_after is not None:
                log.warning("login throttled", extra={"scope": scope, "key": value, "retry_after": retry_after})
                raise TooManyAttempts(f"too many failed logins for this {scope}", retry_after=retry_after)
        self._pending.update(keys)
        try:
            return await attempt()
        except Unauthorized:
            try:
                for scope, value in keys:
                    for item in self._limits[scope]:
                        await self._limiter.hit(item, *self._ids(scope, value))
            except Exception as exc:  # noqa: BLE001 - the refusal stands; only the count is lost
                log.error("login throttle storage failed", extra={"error": repr(exc)})
            raise
        finally:
            self._pending.subtract(keys)
            for key in keys:
                if self._pending[key] <= 0:
                    del self._pending[key]
