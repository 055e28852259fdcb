"""The JSON of `/api/v1/verification` (shapes in `schemas/verification.py`)."""

from __future__ import annotations

from typing import Any

from promptlink.services.verification import VerifiedContact

SENT = {"status": "sent"}


def verified(found: VerifiedContact) -> dict[str, Any]:
    return {
        "verified": True,
        "contact": found.email,
        "customer": found.customer_code,
        "customer_name": found.customer_name,
        "name": found.name,
    }
