"""Polling until something holds (a mail relayed, a ticket filed by a background worker)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def eventually(probe: Callable[[], Any], what: str, timeout: float = 15) -> Any:
    """`probe()`'s first truthy value, polled every 0.2 s; AssertionError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")
