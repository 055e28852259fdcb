"""The backend moves what its start-up made out of the cyclic garbage collector's reach once it serves
(app.py, `_freeze_startup_heap`): full collections no longer scan it with the event loop stopped."""

from __future__ import annotations

import json
import time


def test_the_startup_heap_is_frozen_once_the_server_is_up(lone_backend) -> None:
    deadline = time.monotonic() + 10
    frozen: list[dict] = []
    while not frozen and time.monotonic() < deadline:
        frozen = [
            json.loads(line[line.index("{") :])
            for line in lone_backend.log().splitlines()
            if '"startup heap frozen"' in line
        ]
        time.sleep(0.1)
    assert len(frozen) == 1, "the start-up heap is frozen once per process"
    # Modules, SQLAlchemy's mappers, the app and its OpenAPI description: far more than a few objects.
    assert frozen[0]["objects"] > 50_000
