"""The JSON of `GET /api/v1/health` (shapes in `schemas/health.py`)."""

from __future__ import annotations

from typing import Any


def health(components: dict[str, str]) -> tuple[dict[str, Any], int]:
    """The document and its status: 200 when every component is `ok`, else 503 naming those down."""
    healthy = all(v == "ok" for v in components.values())
    body: dict[str, Any] = {"status": "ok" if healthy else "degraded", "components": components}
    if not healthy:
        body["failing"] = [k for k, v in components.items() if v != "ok"]
    return body, 200 if healthy else 503
