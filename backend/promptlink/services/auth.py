"""Who is calling: agents (bearer token or session cookie), the action server (service
token), and customers (widget identity). Roles decide what each may do."""

from __future__ import annotations

import hmac
import logging
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import jwt
from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Agent, Contact, Conversation
from promptlink.services import conversation_token
from promptlink.services.errors import DomainError, Unauthorized
from promptlink.services.identity import WIDGET_MAX_LIFETIME, verify_widget_token
from promptlink.services.passwords import hash_password, hash_password_async, needs_rehash, verify_password_async
from promptlink.vocabulary import TIERS

log = logging.getLogger(__name__)

AGENT_TOKEN_TYPE = "agent"
STAFF_ROLES = ("agent", "supervisor", "admin")
# Support levels, lowest first: an agent reads the work of its own levels and the ones below.
TIER_RANK = {tier: rank for rank, tier in enumerate(TIERS, start=1)}


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
    # The action server's calls: the conversation its conversation token proved (service token only).
    # Also a customer's chat socket (`end`): the conversation it holds, which `services.access` lets it close.
    conversation_id: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def sees_all_tiers(self) -> bool:
        return self.role in ("supervisor", "admin", "service")

    def may_work_tier(self, tier: str) -> bool:
        return self.sees_all_tiers or (self.role == "agent" and tier in self.tiers)

    def can_see_tier(self, tier: str | None) -> bool:
        """Reading by tier: supervisors, admins and the service read every tier; an agent reads
        its own tiers and the lower ones (an L3 agent reads L1 and L2 work, an L1 agent only L1).
        Working a ticket or chat (`may_work_tier`) still needs one of the agent's own tiers."""
        if self.sees_all_tiers:
            return True
        if self.role != "agent" or tier not in TIER_RANK:
            return False
        return TIER_RANK[tier] <= max((TIER_RANK.get(t, 0) for t in self.tiers), default=0)


# A hash to verify against when the e-mail is unknown, so timing does not reveal it.
_DUMMY_HASH = hash_password("not-a-real-password")
BAD_LOGIN = "Correo o contraseña incorrectos."
SESSION_ENDED = "Su sesión ha terminado; inicie sesión de nuevo."


async def login(
    *, session: AsyncSession, email: Any, password: Any, secret: str, now: datetime, hours: int
) -> tuple[str, Agent]:
    """Check an agent's password; return a signed token (also used as the session cookie).

    Every refusal is the same 401 (`invalid credentials`) after the same work: an unknown
    account is checked against a dummy hash, an inactive one against its own. The reason is
    logged, never answered. Hashing runs off the event loop."""
    reason = None
    agent = None
    if not isinstance(email, str) or not isinstance(password, str) or len(email) > 254 or len(password) > 256:
        reason = "malformed credentials"
    else:
        agent = await session.scalar(select(Agent).where(Agent.email == email.strip().lower()))
        if agent is None:
            await verify_password_async(password, _DUMMY_HASH)
            reason = "unknown account"
        elif not await verify_password_async(password, agent.password_hash):
            reason = "wrong password"
        elif not agent.active:
            reason = "inactive account"
    if reason is not None or agent is None:
        log.info("login refused", extra={"reason": reason, "agent": agent.email if agent is not None else None})
        raise Unauthorized("invalid credentials", public=BAD_LOGIN)
    assert isinstance(password, str)
    if needs_rehash(agent.password_hash):
        agent.password_hash = await hash_password_async(password)
    claims = {
        "sub": str(agent.id),
        "typ": AGENT_TOKEN_TYPE,
        "role": agent.role,
        "ver": agent.token_version,
        "iat": now,
        "exp": now + timedelta(hours=hours),
    }
    return jwt.encode(claims, secret, algorithm="HS256"), agent


async def revoke_sessions(session: AsyncSession, agent_id: int) -> None:
    """End every login token of an agent (logout, password reset): tokens carry the version."""
    await session.execute(update(Agent).where(Agent.id == agent_id).values(token_version=Agent.token_version + 1))


def _agent_id(sub: object) -> int | None:
    """The agent id of a token's `sub`: a decimal string within the id column's range."""
    if isinstance(sub, str) and 0 < len(sub) <= 10 and sub.isascii() and sub.isdigit():
        value = int(sub)
        return value if 0 < value < 2**31 else None
    return None


async def _agent_from_claims(session: AsyncSession, claims: dict[str, Any]) -> Principal:
    """The agent of a correctly signed agent token, if that token is still its current one."""
    agent_id = _agent_id(claims.get("sub"))
    if agent_id is None:
        raise Unauthorized("agent token with a malformed sub", public=SESSION_ENDED)
    # Read on every request (a logout, password reset or deactivation is refused at once), as a
    # Core query of the few columns needed: no ORM object, identity map or loader per request.
    connection = await session.connection()
    agent = (await connection.execute(_AGENT_LOGIN, {"agent_id": agent_id})).one_or_none()
    if agent is None or not agent.active:
        raise Unauthorized("agent no longer active", public="Su cuenta no está activa.")
    version = claims.get("ver")
    if isinstance(version, bool) or not isinstance(version, int) or version != agent.token_version:
        raise Unauthorized("token revoked (logout or password change)", public=SESSION_ENDED)
    return Principal(
        role=agent.role,
        email=agent.email,
        name=agent.name,
        agent_id=agent.id,
        tiers=tuple(t for t in agent.tiers.split(",") if t),  # Agent.tier_list
    )


_AGENTS = Agent.__table__
# What a login token's check reads of its agent; built once (its cache key is computed once too).
_AGENT_LOGIN = select(
    _AGENTS.c.id,
    _AGENTS.c.email,
    _AGENTS.c.name,
    _AGENTS.c.role,
    _AGENTS.c.tiers,
    _AGENTS.c.active,
    _AGENTS.c.token_version,
).where(_AGENTS.c.id == bindparam("agent_id"))


async def _contact_principal(session: AsyncSession, email: str) -> Principal:
    contact = await session.scalar(select(Contact).where(Contact.email == email.strip().lower()))
    if contact is None:
        raise Unauthorized(f"unknown contact {email}", public="El contacto no existe.")
    return Principal(
        role="customer", email=contact.email, name=contact.name, customer_id=contact.customer_id, contact_id=contact.id
    )


async def _service_principal(
    session: AsyncSession, on_behalf_of: str | None, token: str | None, session_secret: str
) -> Principal:
    """The action server (service token). It acts for a contact only with the conversation token of a
    conversation of that contact (F4: the service token alone named any customer); the token also scopes
    the conversation it may hand off or verify (`require_conversation`). Without either: plain service."""
    service = Principal(role="service", email="actions@service", name="Servidor de acciones")
    if not token:
        if on_behalf_of:
            raise Unauthorized(
                "acting on behalf of a contact needs the conversation token", public=conversation_token.PUBLIC
            )
        return service
    claims = conversation_token.verify(token, session_secret=session_secret)
    if not on_behalf_of:
        return replace(service, conversation_id=claims.conversation_id)
    email = on_behalf_of.strip().lower()
    if claims.contact != email:
        # Identified since the token was made (e-mail verification): the conversation's stored contact decides.
        stored = await session.scalar(
            select(Contact.email)
            .join(Conversation, Conversation.contact_id == Contact.id)
            .where(Conversation.id == claims.conversation_id)
        )
        if stored is None or stored.strip().lower() != email:
            raise Forbidden(
                f"conversation {claims.conversation_id} does not belong to {email}",
                public="No tiene permiso para esta acción.",
            )
    principal = await _contact_principal(session, email)
    return replace(principal, conversation_id=claims.conversation_id)


def require_conversation(principal: Principal, conversation_id: object) -> None:
    """The action server may hand off or verify only the conversation its conversation token proves."""
    if principal.role == "service" and (
        principal.conversation_id is None or principal.conversation_id != conversation_id
    ):
        raise Forbidden(
            f"the service token may act on conversation {conversation_id!r} only with its conversation token",
            public="No tiene permiso para esta acción.",
        )


# Signed tokens already checked: (token, secret) -> claims. The check is a pure function of the two
# (HMAC and JSON, about a tenth of a request's CPU when every request carries the token); the expiry is
# checked again on every use, and whether the login is still valid (token_version, active) is always
# read from the database. Bounded: emptied when full.
_CHECKED: dict[tuple[str, str], dict[str, Any]] = {}
MAX_CHECKED_TOKENS = 4096


def _decode(token: str, secret: str) -> dict[str, Any]:
    """`jwt.decode` of a session token (HS256; sub, typ and exp required), remembered while valid."""
    key = (token, secret)
    claims = _CHECKED.get(key)
    if claims is not None:
        if time.time() < claims["exp"]:
            return dict(claims)
        del _CHECKED[key]  # expired: decoding again raises ExpiredSignatureError
    claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["sub", "typ", "exp"]})
    if isinstance(claims.get("exp"), int | float) and not isinstance(claims["exp"], bool):
        if len(_CHECKED) >= MAX_CHECKED_TOKENS:
            _CHECKED.clear()
        _CHECKED[key] = dict(claims)
    return claims


async def resolve_principal(
    *,
    session: AsyncSession,
    token: str | None,
    on_behalf_of: str | None,
    session_secret: str,
    widget_secret: str,
    service_token: str,
    conversation_token: str | None = None,
    widget_max_lifetime: timedelta = WIDGET_MAX_LIFETIME,
) -> Principal:
    """The caller of an API request, from its bearer token or session cookie."""
    if not token:
        raise Unauthorized("authentication required", public="Debe iniciar sesión.")
    if hmac.compare_digest(token.encode(), service_token.encode()):
        return await _service_principal(session, on_behalf_of, conversation_token, session_secret)
    try:
        claims = _decode(token, session_secret)
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("session expired", public="Su sesión ha caducado; inicie sesión de nuevo.") from exc
    except jwt.PyJWTError:
        claims = None
    if claims is not None and claims.get("typ") == AGENT_TOKEN_TYPE:
        return await _agent_from_claims(session, claims)
    identity = await verify_widget_token(
        session=session, secret=widget_secret, token=token, max_lifetime=widget_max_lifetime
    )
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
