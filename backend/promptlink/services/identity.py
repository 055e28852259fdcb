"""Widget identity tokens (HS256, signed by the site) and conversation resume tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Contact
from .errors import Unauthorized

WIDGET_ALGORITHM = "HS256"
RESUME_PURPOSE = "resume"


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


async def verify_widget_token(*, session: AsyncSession, secret: str, token: str) -> WidgetIdentity:
    """Check signature, expiry and that the contact belongs to the named customer."""
    if not isinstance(token, str) or len(token) > 4096:
        raise Unauthorized("identity token malformed", public="Su identificación no es válida. Recargue la página.")
    try:
        claims = jwt.decode(token, secret, algorithms=[WIDGET_ALGORITHM], options={"require": ["sub", "customer"]})
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("identity token expired", public="Su sesión ha caducado. Recargue la página.") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized(
            f"identity token rejected: {exc}", public="Su identificación no es válida. Recargue la página."
        ) from exc
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
