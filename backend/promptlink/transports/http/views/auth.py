"""The JSON of `/api/v1/auth` (shapes in `schemas/auth.py`)."""

from __future__ import annotations

from typing import Any

from promptlink.models import Agent
from promptlink.services.auth import Principal
from promptlink.services.errors import DomainError


def login(token: str, agent: Agent) -> dict[str, Any]:
    return {
        "token": token,
        "agent": {"email": agent.email, "name": agent.name, "role": agent.role, "tiers": agent.tier_list},
    }


def logged_out() -> dict[str, Any]:
    return {"status": "logged out"}


def me(p: Principal) -> dict[str, Any]:
    return {"role": p.role, "email": p.email, "name": p.name, "tiers": list(p.tiers), "customer_id": p.customer_id}


def error(exc: DomainError) -> dict[str, Any]:
    """A domain error's usual body, as the app's error handler writes it."""
    return {**exc.fields(), "detail": exc.detail, "message": exc.public}
