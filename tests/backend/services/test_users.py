"""Administrators manage staff accounts; the last active administrator is protected; all audited."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from promptlink.infra.db import transaction
from promptlink.models import Agent, AuditLog
from promptlink.services import users
from promptlink.services.auth import login, resolve_principal, revoke_sessions
from promptlink.services.errors import InvalidInput, NotFound, Unauthorized
from sqlalchemy import select

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
ADMIN = "admin@promptlink.example"


async def _admin_id(sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(Agent.id).where(Agent.email == ADMIN)))


async def test_create_change_and_reset_an_agent_who_can_then_log_in(seeded) -> None:
    async with transaction(seeded) as session:
        agent = await users.create_agent(
            session=session,
            data={
                "email": " Nueva.Agente@Promptlink.example ",
                "name": "Nueva Agente",
                "role": "agent",
                "tiers": ["L2", "L1"],
                "password": "una-clave-larga",
            },
            actor=ADMIN,
            now=NOW,
        )
        agent_id = agent.id
    assert (agent.email, agent.tiers) == ("nueva.agente@promptlink.example", "L1,L2")
    async with transaction(seeded) as session:
        changed = await users.update_agent(
            session=session, agent_id=agent_id, data={"role": "supervisor", "tiers": []}, actor=ADMIN, now=NOW
        )
        assert (changed.role, changed.tier_list) == ("supervisor", [])
        await users.reset_password(session=session, agent_id=agent_id, password="otra-clave-mas", actor=ADMIN, now=NOW)
    async with transaction(seeded) as session:
        _token, who = await login(
            session=session,
            email="nueva.agente@promptlink.example",
            password="otra-clave-mas",
            secret="s" * 32,
            now=NOW,
            hours=1,
        )
        assert who.role == "supervisor"
        entries = list(await session.scalars(select(AuditLog).order_by(AuditLog.id)))
    assert [(e.action, e.actor) for e in entries] == [
        ("user.create", ADMIN),
        ("user.update", ADMIN),
        ("user.reset_password", ADMIN),
    ]
    assert entries[1].detail["before"]["role"] == "agent" and entries[1].detail["after"]["role"] == "supervisor"
    assert "otra-clave" not in str([e.detail for e in entries])


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"email": "no-es-correo", "name": "X", "role": "agent", "tiers": ["L1"], "password": "x" * 10}, "e-mail"),
        ({"email": "a@b.example", "name": "X", "role": "agent", "tiers": ["L1"], "password": "corta"}, "10-256"),
        ({"email": "a@b.example", "name": "X", "role": "jefe", "tiers": ["L1"], "password": "x" * 10}, "role"),
        ({"email": "a@b.example", "name": "X", "role": "agent", "tiers": ["L9"], "password": "x" * 10}, "tiers"),
        ({"email": "a@b.example", "name": "X", "role": "agent", "tiers": [], "password": "x" * 10}, "needs a tier"),
        ({"email": "a@b.example", "name": "", "role": "agent", "tiers": ["L1"], "password": "x" * 10}, "name"),
        ({"email": "a@b.example", "name": "X" * 201, "role": "admin", "tiers": [], "password": "x" * 10}, "name"),
    ],
)
async def test_invalid_accounts_are_refused_in_spanish(seeded, data, error) -> None:
    async with transaction(seeded) as session:
        with pytest.raises(InvalidInput, match=error) as raised:
            await users.create_agent(session=session, data=data, actor=ADMIN, now=NOW)
    assert raised.value.public and raised.value.public[0].isupper()


async def test_duplicate_email_and_unknown_agent(seeded) -> None:
    data = {"email": "l1@promptlink.example", "name": "X", "role": "agent", "tiers": ["L1"], "password": "x" * 10}
    async with transaction(seeded) as session:
        with pytest.raises(users.Conflict):
            await users.create_agent(session=session, data=data, actor=ADMIN, now=NOW)
    async with transaction(seeded) as session:
        with pytest.raises(NotFound):
            await users.update_agent(session=session, agent_id=999999, data={"active": False}, actor=ADMIN, now=NOW)


async def test_the_last_active_admin_cannot_be_demoted_or_deactivated(seeded) -> None:
    admin_id = await _admin_id(seeded)
    for change in ({"role": "supervisor"}, {"active": False}):
        async with transaction(seeded) as session:
            with pytest.raises(users.Conflict, match="last active administrator"):
                await users.update_agent(session=session, agent_id=admin_id, data=change, actor=ADMIN, now=NOW)
    # With a second administrator, the first may step down.
    async with transaction(seeded) as session:
        await users.create_agent(
            session=session,
            data={
                "email": "admin2@promptlink.example",
                "name": "Otra",
                "role": "admin",
                "tiers": [],
                "password": "x" * 12,
            },
            actor=ADMIN,
            now=NOW,
        )
    async with transaction(seeded) as session:
        demoted = await users.update_agent(
            session=session, agent_id=admin_id, data={"role": "supervisor"}, actor=ADMIN, now=NOW
        )
        assert demoted.role == "supervisor"


SESSION = "session-secret-" + "s" * 32


async def _caller(sessions, token: str):  # type: ignore[no-untyped-def]
    async with sessions() as session:
        return await resolve_principal(
            session=session,
            token=token,
            on_behalf_of=None,
            session_secret=SESSION,
            widget_secret="widget-secret-" + "w" * 32,
            service_token="service-token-" + "x" * 32,
        )


async def _login(sessions, email: str, password: str) -> str:  # type: ignore[no-untyped-def]
    async with transaction(sessions) as session:
        token, _agent = await login(
            session=session, email=email, password=password, secret=SESSION, now=datetime.now(UTC), hours=1
        )
    return token


async def test_reset_deactivation_and_logout_revoke_login_tokens(seeded) -> None:
    token = await _login(seeded, "l1@promptlink.example", "demo-l1-pass")
    l1 = await _caller(seeded, token)
    assert l1.email == "l1@promptlink.example"
    async with transaction(seeded) as session:
        await users.reset_password(
            session=session, agent_id=l1.agent_id, password="otra-clave-mas", actor=ADMIN, now=NOW
        )
    with pytest.raises(Unauthorized, match="revoked"):
        await _caller(seeded, token)
    token = await _login(seeded, "l1@promptlink.example", "otra-clave-mas")
    async with transaction(seeded) as session:
        await revoke_sessions(session, l1.agent_id)  # logout
    with pytest.raises(Unauthorized, match="revoked"):
        await _caller(seeded, token)
    token = await _login(seeded, "l1@promptlink.example", "otra-clave-mas")
    for active in (False, True):  # deactivated, then reactivated: the old token stays dead
        async with transaction(seeded) as session:
            await users.update_agent(
                session=session, agent_id=l1.agent_id, data={"active": active}, actor=ADMIN, now=NOW
            )
    with pytest.raises(Unauthorized):
        await _caller(seeded, token)
    assert (
        await _caller(seeded, await _login(seeded, "l1@promptlink.example", "otra-clave-mas"))
    ).agent_id == l1.agent_id


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("l1@promptlink.example", "wrong-password"),
        ("nobody@promptlink.example", "wrong-password"),
        ("l1@promptlink.example", None),
        (["l1@promptlink.example"], "demo-l1-pass"),
    ],
)
async def test_every_login_refusal_is_the_same_error(seeded, email, password) -> None:
    with pytest.raises(Unauthorized) as refused:
        await _login(seeded, email, password)
    assert (refused.value.detail, refused.value.public) == ("invalid credentials", "Correo o contraseña incorrectos.")
