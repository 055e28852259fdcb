"""Resolving the caller of a request: a checked login token is remembered, its login is not."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from promptlink.infra.db import transaction
from promptlink.models import Agent
from promptlink.services.auth import AGENT_TOKEN_TYPE, resolve_principal, revoke_sessions
from promptlink.services.errors import Unauthorized
from sqlalchemy import select

SECRET = "test-session-secret-0123456789abcdef"
AGENT = "l1@promptlink.example"


async def _token(sessions, *, seconds: int = 3600) -> tuple[str, int]:
    async with sessions() as session:
        agent = await session.scalar(select(Agent).where(Agent.email == AGENT))
    now = datetime.now(UTC)
    claims = {
        "sub": str(agent.id),
        "typ": AGENT_TOKEN_TYPE,
        "role": agent.role,
        "ver": agent.token_version,
        "iat": now,
        "exp": now + timedelta(seconds=seconds),
    }
    return jwt.encode(claims, SECRET, algorithm="HS256"), agent.id


async def _resolve(sessions, token: str):
    async with sessions() as session:
        return await resolve_principal(
            session=session,
            token=token,
            on_behalf_of=None,
            session_secret=SECRET,
            widget_secret="test-widget-secret-0123456789abcdef",
            service_token="test-service-token-0123456789abcdef",
        )


async def test_a_token_used_before_is_refused_at_once_after_its_logins_are_revoked(seeded) -> None:
    token, agent_id = await _token(seeded)
    assert (await _resolve(seeded, token)).email == AGENT
    assert (await _resolve(seeded, token)).email == AGENT  # remembered: the same answer
    async with transaction(seeded) as session:
        await revoke_sessions(session, agent_id)
    with pytest.raises(Unauthorized, match="revoked"):
        await _resolve(seeded, token)


async def test_a_deactivated_account_is_refused_at_once(seeded) -> None:
    token, agent_id = await _token(seeded)
    assert (await _resolve(seeded, token)).role == "agent"
    async with transaction(seeded) as session:
        (await session.get(Agent, agent_id)).active = False
    with pytest.raises(Unauthorized, match="no longer active"):
        await _resolve(seeded, token)


async def test_a_remembered_token_still_expires(seeded) -> None:
    token, _ = await _token(seeded, seconds=2)
    assert (await _resolve(seeded, token)).email == AGENT
    await asyncio.sleep(max(0.0, jwt.decode(token, SECRET, algorithms=["HS256"])["exp"] - time.time()) + 0.2)
    with pytest.raises(Unauthorized, match="expired"):
        await _resolve(seeded, token)


async def test_a_token_signed_with_another_secret_is_not_taken_from_the_remembered_ones(seeded) -> None:
    token, _ = await _token(seeded)
    assert (await _resolve(seeded, token)).email == AGENT
    async with seeded() as session:
        with pytest.raises(Unauthorized):
            await resolve_principal(
                session=session,
                token=token,
                on_behalf_of=None,
                session_secret="another-session-secret-0123456789ab",
                widget_secret="test-widget-secret-0123456789abcdef",
                service_token="test-service-token-0123456789abcdef",
            )
