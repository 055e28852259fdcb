"""The JSON of `GET /api/v1/health` (shapes in `schemas/health.py`)."""

from __future__ import annotations

from typing import Any

UP = ("ok", "standby")  # a standby (another process runs the singleton) is not a failure


def health(
    components: dict[str, str], *, singletons: dict[str, dict[str, Any]] | None = None
) -> tuple[dict[str, Any], int]:
    """The document and its status: 200 when every component is `ok` (or `standby`), else 503
    naming those down."""
    healthy = all(v in UP for v in components.values())
    body: dict[str, Any] = {"status": "ok" if healthy else "degraded", "components": components}
    if singletons is not None:
        body["singletons"] = singletons
    if not healthy:
        body["failing"] = [k for k, v in components.items() if v not in UP]
    return body, 200 if healthy else 503
