"""Per-connection rate limits for socket events (a token bucket per socket id)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

TOO_FAST = "Está enviando mensajes demasiado rápido. Espere unos segundos y vuelva a intentarlo."


@dataclass
class _Bucket:
    tokens: float
    at: float = field(default_factory=time.monotonic)


class RateLimiter:
    """`burst` events at once, refilled at `per_second`; one bucket per connection."""

    def __init__(self, *, burst: int, per_second: float) -> None:
        self.burst = burst
        self.per_second = per_second
        self._buckets: dict[str, _Bucket] = {}

    def allow(self, sid: str) -> bool:
        now = time.monotonic()
        bucket = self._buckets.get(sid)
        if bucket is None:
            bucket = self._buckets[sid] = _Bucket(tokens=float(self.burst), at=now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.per_second)
        bucket.at = now
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True

    def forget(self, sid: str) -> None:
        self._buckets.pop(sid, None)

    def __len__(self) -> int:
        return len(self._buckets)
