"""Administrators manage support staff: create, role, tiers, active, password."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Agent
from promptlink.models.agent import ROLES
from promptlink.services.audit import record
from promptlink.services.errors import DomainError, InvalidInput, NotFound
from promptlink.services.passwords import hash_password_async
from promptlink.vocabulary import TIERS

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{2,}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 256
ROLE_NAMES = {"agent": "agente", "supervisor": "supervisor", "admin": "administrador"}


class Conflict(DomainError):
    status = 409


def _name(value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= 200:
        raise InvalidInput("name must be 1-200 characters", public="El nombre es obligatorio (máx. 200 caracteres).")
    return value.strip()


def _role(value: Any) -> str:
    if value not in ROLES:
        raise InvalidInput(f"role must be one of {ROLES}", public="El rol debe ser agente, supervisor o administrador.")
    return str(value)


def _tiers(value: Any) -> str:
    if not isinstance(value, list) or any(t not in TIERS for t in value):
        raise InvalidInput("tiers must be a list of L1, L2, L3", public="Los niveles deben ser L1, L2 o L3.")
    return ",".join(t for t in TIERS if t in value)


def _password(value: Any) -> str:
    if not isinstance(value, str) or not MIN_PASSWORD <= len(value) <= MAX_PASSWORD:
        raise InvalidInput(
            "password must be 10-256 characters",
            public="La contraseña debe tener al menos 10 caracteres (máx. 256).",
        )
    return value


async def list_agents(*, session: AsyncSession) -> list[Agent]:
    return list(await session.scalars(select(Agent).order_by(Agent.email)))


async def create_agent(*, session: AsyncSession, data: dict[str, Any], actor: str, now: datetime) -> Agent:
    email = data.get("email")
    if not isinstance(email, str) or len(email) > 254 or not EMAIL.match(email.strip()):
        raise InvalidInput("invalid e-mail", public="El correo electrónico no es válido.")
    email = email.strip().lower()
    if await session.scalar(select(Agent).where(Agent.email == email)) is not None:
        raise Conflict(f"agent {email} exists", public="Ya existe una cuenta con ese correo.")
    role = _role(data.get("role", "agent"))
    tiers = _tiers(data.get("tiers", []))
    if role == "agent" and not tiers:
        raise InvalidInput("an agent needs a tier", public="Un agente debe atender al menos un nivel (L1, L2 o L3).")
    agent = Agent(
        email=email,
        name=_name(data.get("name")),
        role=role,
        tiers=tiers,
        password_hash=await hash_password_async(_password(data.get("password"))),
        active=True,
    )
    session.add(agent)
    await session.flush()
    record(
        session=session,
        actor=actor,
        action="user.create",
        target=f"agent:{email}",
        detail={"role": role, "tiers": agent.tier_list},
        now=now,
    )
    return agent


async def _get(session: AsyncSession, agent_id: int) -> Agent:
    agent = await session.get(Agent, agent_id)
    if agent is None:
        raise NotFound(f"agent {agent_id} not found", public="La cuenta no existe.")
    return agent


async def _other_active_admins(session: AsyncSession, agent: Agent) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(Agent).where(Agent.role == "admin", Agent.active, Agent.id != agent.id)
        )
        or 0
    )


async def update_agent(
    *, session: AsyncSession, agent_id: int, data: dict[str, Any], actor: str, now: datetime
) -> Agent:
    """Change name, role, tiers or active; the last active administrator stays one."""
    agent = await _get(session, agent_id)
    changes: dict[str, Any] = {}
    if "name" in data:
        changes["name"] = _name(data["name"])
    if "role" in data:
        changes["role"] = _role(data["role"])
    if "tiers" in data:
        changes["tiers"] = _tiers(data["tiers"])
    if "active" in data:
        if not isinstance(data["active"], bool):
            raise InvalidInput("active must be a boolean", public="El campo «activo» no es válido.")
        changes["active"] = data["active"]
    if not changes:
        raise InvalidInput("nothing to change", public="No hay cambios que guardar.")
    loses_admin = (
        agent.role == "admin"
        and agent.active
        and (changes.get("role", "admin") != "admin" or changes.get("active", True) is False)
    )
    if loses_admin and await _other_active_admins(session, agent) == 0:
        raise Conflict(
            "cannot demote or deactivate the last active administrator",
            public="No se puede quitar el rol ni desactivar al último administrador activo.",
        )
    role = changes.get("role", agent.role)
    tiers = changes.get("tiers", agent.tiers)
    if role == "agent" and not tiers:
        raise InvalidInput("an agent needs a tier", public="Un agente debe atender al menos un nivel (L1, L2 o L3).")
    before = {"name": agent.name, "role": agent.role, "tiers": agent.tier_list, "active": agent.active}
    for key, value in changes.items():
        setattr(agent, key, value)
    if before["active"] and not agent.active:
        agent.token_version += 1  # a deactivated account's tokens stay dead if it is reactivated
    after = {"name": agent.name, "role": agent.role, "tiers": agent.tier_list, "active": agent.active}
    record(
        session=session,
        actor=actor,
        action="user.update",
        target=f"agent:{agent.email}",
        detail={"before": before, "after": after},
        now=now,
    )
    return agent


async def reset_password(*, session: AsyncSession, agent_id: int, password: Any, actor: str, now: datetime) -> Agent:
    """Set a new password; every login token of the account stops working (issue #13 F11)."""
    agent = await _get(session, agent_id)
    agent.password_hash = await hash_password_async(_password(password))
    agent.token_version += 1
    record(session=session, actor=actor, action="user.reset_password", target=f"agent:{agent.email}", now=now)
    return agent
