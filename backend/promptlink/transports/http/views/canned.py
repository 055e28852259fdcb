"""The JSON of `/api/v1/canned-responses`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from promptlink.services.canned_responses import PLACEHOLDERS, CannedResponse


def canned_list(responses: Sequence[CannedResponse]) -> dict[str, Any]:
    return {
        "placeholders": list(PLACEHOLDERS),
        "responses": [{"key": r.key, "title": r.title, "text": r.text, "tiers": list(r.tiers)} for r in responses],
    }
