"""Who is calling: agents (bearer token or session cookie), the action server (service
token), and customers (widget identity). Roles decide what each may do."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Agent, Contact
from .errors import DomainError, Unauthorized
from .identity import verify_widget_token
from .passwords import hash_password, needs_rehash, verify_password

AGENT_TOKEN_TYPE = "agent"
STAFF_ROLES = ("agent", "supervisor", "admin")


class Forbidden(DomainError):
    status = 403


@dataclass(frozen=True)
class Principal:
    role: str  # agent | supervisor | admin | service | customer
    email: str
    name: str
    agent_id: int | None = None
    tiers: tuple[str, ...] = field(default_factory=tuple)
    customer_id: int | None = None
    contact_id: int | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def sees_all_tiers(self) -> bool:
        return self.role in ("supervisor", "admin", "service")

    def may_work_tier(self, tier: str) -> bool:
        return self.sees_all_tiers or (self.role == "agent" and tier in self.tiers)


# A hash to verify against when the e-mail is unknown, so timing does not reveal it.
_DUMMY_HASH = hash_password("not-a-real-password")


async def login(
    *, session: AsyncSession, email: Any, password: Any, secret: str, now: datetime, hours: int
) -> tuple[str, Agent]:
    """Check an agent's password; return a signed token (also used as the session cookie)."""
    if not isinstance(email, str) or not isinstance(password, str) or len(email) > 254 or len(password) > 256:
        raise Unauthorized("email and password must be strings", public="Correo o contraseña incorrectos.")
    agent = await session.scalar(select(Agent).where(Agent.email == email.strip().lower()))
    if agent is None or not agent.active:
        verify_password(password, _DUMMY_HASH)
        raise Unauthorized("unknown or inactive agent", public="Correo o contraseña incorrectos.")
    if not verify_password(password, agent.password_hash):
        raise Unauthorized("wrong password", public="Correo o contraseña incorrectos.")
    if needs_rehash(agent.password_hash):
        agent.password_hash = hash_password(password)
    claims = {
        "sub": str(agent.id),
        "typ": AGENT_TOKEN_TYPE,
        "role": agent.role,
        "iat": now,
        "exp": now + timedelta(hours=hours),
    }
    return jwt.encode(claims, secret, algorithm="HS256"), agent


def _agent_principal(agent: Agent) -> Principal:
    return Principal(
        role=agent.role, email=agent.email, name=agent.name, agent_id=agent.id, tiers=tuple(agent.tier_list)
    )


async def _contact_principal(session: AsyncSession, email: str) -> Principal:
    contact = await session.scalar(select(Contact).where(Contact.email == email.strip().lower()))
    if contact is None:
        raise Unauthorized(f"unknown contact {email}", public="El contacto no existe.")
    return Principal(
        role="customer", email=contact.email, name=contact.name, customer_id=contact.customer_id, contact_id=contact.id
    )


async def resolve_principal(
    *,
    session: AsyncSession,
    token: str | None,
    on_behalf_of: str | None,
    session_secret: str,
    widget_secret: str,
    service_token: str,
) -> Principal:
    """The caller of an API request, from its bearer token or session cookie."""
    if not token:
        raise Unauthorized("authentication required", public="Debe iniciar sesión.")
    if hmac.compare_digest(token.encode(), service_token.encode()):
        if on_behalf_of:
            return await _contact_principal(session, on_behalf_of)
        return Principal(role="service", email="actions@service", name="Servidor de acciones")
    try:
        claims = jwt.decode(token, session_secret, algorithms=["HS256"], options={"require": ["sub", "typ", "exp"]})
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("session expired", public="Su sesión ha caducado; inicie sesión de nuevo.") from exc
    except jwt.PyJWTError:
        claims = None
    if claims is not None and claims.get("typ") == AGENT_TOKEN_TYPE:
        agent = await session.get(Agent, int(claims["sub"]))
        if agent is None or not agent.active:
            raise Unauthorized("agent no longer active", public="Su cuenta no está activa.")
        return _agent_principal(agent)
    identity = await verify_widget_token(session=session, secret=widget_secret, token=token)
    return Principal(
        role="customer",
        email=identity.email,
        name=identity.name,
        customer_id=identity.customer_id,
        contact_id=identity.contact_id,
    )


def require_role(principal: Principal, *roles: str) -> None:
    if principal.role not in roles:
        raise Forbidden(f"role {principal.role} may not do this", public="No tiene permiso para esta acción.")
