"""Widget identity tokens (HS256, signed by the site) and conversation resume tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Contact
from promptlink.services.errors import Unauthorized

WIDGET_ALGORITHM = "HS256"
RESUME_PURPOSE = "resume"
# The longest a widget identity may still be valid (`PROMPTLINK_WIDGET_TOKEN_MAX_HOURS`): a site
# signs short-lived identities; a leaked one without `exp`, or with a far one, is refused.
WIDGET_MAX_LIFETIME = timedelta(hours=24)
CLOCK_LEEWAY = timedelta(seconds=60)
INVALID_IDENTITY = "Su identificación no es válida. Recargue la página."


@dataclass(frozen=True)
class WidgetIdentity:
    """A verified customer contact, from the widget token."""

    contact_id: int
    email: str
    name: str
    customer_id: int
    customer_code: str
    customer_name: str


def issue_widget_token(
    *, secret: str, email: str, customer: str, name: str, ttl: timedelta = timedelta(hours=12)
) -> str:
    """Sign a widget identity token as a customer's website would."""
    now = datetime.now(UTC)
    claims = {"sub": email, "customer": customer, "name": name, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm=WIDGET_ALGORITHM)


async def verify_widget_token(
    *, session: AsyncSession, secret: str, token: str, max_lifetime: timedelta = WIDGET_MAX_LIFETIME
) -> WidgetIdentity:
    """Check signature, expiry (`exp` is required, at most `max_lifetime` ahead) and that the
    contact belongs to the named customer."""
    if not isinstance(token, str) or len(token) > 4096:
        raise Unauthorized("identity token malformed", public=INVALID_IDENTITY)
    try:
        claims = jwt.decode(
            token, secret, algorithms=[WIDGET_ALGORITHM], options={"require": ["sub", "customer", "exp"]}
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("identity token expired", public="Su sesión ha caducado. Recargue la página.") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"identity token rejected: {exc}", public=INVALID_IDENTITY) from exc
    # PyJWT checked `exp` is a number in the future; compared as a number (1e300 is no datetime).
    latest = datetime.now(UTC) + max_lifetime + CLOCK_LEEWAY
    if claims["exp"] > latest.timestamp():
        raise Unauthorized(
            f"identity token expires more than {max_lifetime} ahead (exp {claims['exp']})", public=INVALID_IDENTITY
        )
    email = str(claims["sub"]).strip().lower()
    contact = await session.scalar(select(Contact).where(Contact.email == email))
    if contact is None or contact.customer.code != str(claims["customer"]):
        raise Unauthorized(
            "identity token names an unknown contact",
            public="No encontramos su contacto registrado. Comuníquese con su administrador.",
        )
    return WidgetIdentity(
        contact_id=contact.id,
        email=contact.email,
        name=contact.name,
        customer_id=contact.customer_id,
        customer_code=contact.customer.code,
        customer_name=contact.customer.name,
    )


def issue_resume_token(*, secret: str, conversation_id: str) -> str:
    """A token that lets an anonymous visitor's browser resume its own conversation."""
    return jwt.encode({"cid": conversation_id, "pur": RESUME_PURPOSE}, secret, algorithm="HS256")


def resume_token_conversation(*, secret: str, token: str) -> str | None:
    """The conversation a resume token grants, or None when the token is not valid."""
    if not isinstance(token, str) or len(token) > 1024:
        return None
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    if claims.get("pur") != RESUME_PURPOSE:
        return None
    cid = claims.get("cid")
    return cid if isinstance(cid, str) else None
