"""Identity verification of anonymous chat visitors: a one-time code by e-mail.

An anonymous visitor may ask questions, but before a ticket is opened it proves to be a
customer's contact: customer code + contact e-mail + the code sent to that e-mail. On
success the conversation becomes the contact's own.

Only an HMAC of the code is stored. Starting answers the same whether or not the e-mail
belongs to the customer, so the assistant cannot be used to discover customers' e-mails.

These functions own their transactions: a wrong code must be counted (committed) even
though the call then fails.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from promptlink.infra.db import transaction
from promptlink.models import Contact, Conversation, Verification
from promptlink.services.errors import DomainError, InvalidInput, NotFound
from promptlink.services.outbox import enqueue_email
from promptlink.services.spanish import plural

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
STARTS_PER_WINDOW = 3
START_WINDOW = timedelta(hours=1)
MAX_FIELD = 254

EMAIL_SUBJECT = "Código de verificación de Soporte Técnico Promptlink"


class VerificationFailed(InvalidInput):
    """The code could not be accepted; `attempts_left` is given for a wrong code."""

    def __init__(self, detail: str, *, public: str, attempts_left: int | None = None) -> None:
        super().__init__(detail, public=public)
        self.attempts_left = attempts_left

    def fields(self) -> dict[str, Any]:
        return {} if self.attempts_left is None else {"attempts_left": self.attempts_left}


class TooManyCodes(DomainError):
    """More codes asked for one conversation than the rate limit allows."""

    status = 429


class AlreadyVerified(DomainError):
    """The conversation already belongs to a contact; there is nothing to verify."""

    status = 409


@dataclass(frozen=True)
class VerifiedContact:
    email: str
    name: str
    customer_code: str
    customer_name: str


def code_digest(*, secret: str, conversation_id: str, code: str) -> str:
    """HMAC-SHA256 of the code, bound to its conversation (a leaked table reveals no code)."""
    return hmac.new(secret.encode(), f"{conversation_id}:{code}".encode(), hashlib.sha256).hexdigest()


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def _text(value: Any, name: str, public: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_FIELD:
        raise InvalidInput(f"{name} must be a non-empty string of at most {MAX_FIELD} characters", public=public)
    return value.strip()


async def _conversation(session: AsyncSession, conversation_id: Any) -> Conversation:
    conversation = None
    if isinstance(conversation_id, str) and len(conversation_id) <= 36:
        conversation = await session.scalar(
            select(Conversation).where(Conversation.id == conversation_id).with_for_update(of=Conversation)
        )
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} not found", public="La conversación no existe.")
    return conversation


async def start_verification(
    *,
    sessions: async_sessionmaker[AsyncSession],
    conversation_id: Any,
    customer: Any,
    email: Any,
    secret: str,
    now: datetime,
) -> None:
    """Send a one-time code to `email` when it is a contact of customer `customer`.

    Returns the same (nothing) whether or not it is: every start is recorded and counts
    towards the limit of `STARTS_PER_WINDOW` per conversation and hour.
    """
    code_of_customer = _text(customer, "customer", "Indique el código de cliente.").upper()
    address = _text(email, "email", "Indique el correo electrónico del contacto.").lower()
    async with transaction(sessions) as session:
        conversation = await _conversation(session, conversation_id)
        if conversation.contact_id is not None:
            raise AlreadyVerified(
                f"conversation {conversation.id} already belongs to a contact",
                public="Esta conversación ya está identificada.",
            )
        recent = await session.scalar(
            select(func.count())
            .select_from(Verification)
            .where(Verification.conversation_id == conversation.id, Verification.created_at > now - START_WINDOW)
        )
        if int(recent or 0) >= STARTS_PER_WINDOW:
            raise TooManyCodes(
                f"more than {STARTS_PER_WINDOW} verification codes in an hour for conversation {conversation.id}",
                public="Ha solicitado demasiados códigos de verificación. Inténtelo de nuevo dentro de una hora.",
            )
        attempt = Verification(conversation_id=conversation.id, attempts=0, created_at=now, expires_at=now + CODE_TTL)
        contact = await session.scalar(select(Contact).where(Contact.email == address))
        if contact is not None and contact.customer.code.upper() == code_of_customer:
            code = new_code()
            attempt.contact_id = contact.id
            attempt.code_hash = code_digest(secret=secret, conversation_id=conversation.id, code=code)
            minutes = int(CODE_TTL.total_seconds() // 60)
            enqueue_email(
                session=session,
                to=contact.email,
                subject=EMAIL_SUBJECT,
                body=(
                    f"Su código de verificación de Soporte Técnico Promptlink es {code}. "
                    f"Vence en {plural(minutes, 'minuto', 'minutos')}.\n\n"
                    "Si usted no lo solicitó, ignore este mensaje.\n\n"
                    "Soporte Técnico Promptlink"
                ),
                now=now,
            )
        session.add(attempt)


async def confirm_verification(
    *,
    sessions: async_sessionmaker[AsyncSession],
    conversation_id: Any,
    code: Any,
    secret: str,
    now: datetime,
) -> VerifiedContact:
    """Check the code of the conversation's latest start; on success the conversation
    becomes the contact's. A wrong code is counted before the error is raised."""
    if not isinstance(code, str | int) or isinstance(code, bool) or len(str(code)) > 32:
        raise InvalidInput("code must be a string", public="El código no es válido.")
    given = "".join(str(code).split())
    async with transaction(sessions) as session:
        conversation = await _conversation(session, conversation_id)
        latest = await session.scalar(
            select(Verification)
            .where(Verification.conversation_id == conversation.id)
            .order_by(Verification.created_at.desc(), Verification.id.desc())
            .limit(1)
            .with_for_update()
        )
        failure = _refusal(latest, given=given, secret=secret, now=now)
        if failure is None:
            assert latest is not None and latest.contact_id is not None
            contact = await session.get(Contact, latest.contact_id)
            assert contact is not None
            if latest.verified_at is None:
                latest.verified_at = now
                conversation.customer_id = contact.customer_id
                conversation.contact_id = contact.id
                conversation.verified_at = now
            verified = VerifiedContact(
                email=contact.email,
                name=contact.name,
                customer_code=contact.customer.code,
                customer_name=contact.customer.name,
            )
    # Raised after the commit, so a wrong attempt stays counted.
    if failure is not None:
        raise failure
    return verified


def _refusal(latest: Verification | None, *, given: str, secret: str, now: datetime) -> VerificationFailed | None:
    """Why `given` cannot be accepted for the latest start, or None when it can.

    A wrong code is counted on `latest`. A start for an e-mail that named no contact has
    no code, so any code is wrong: the answers match those for a real contact.
    """
    if latest is None:
        return VerificationFailed("no verification started", public="Primero debe solicitar un código de verificación.")
    matches = latest.code_hash is not None and hmac.compare_digest(
        latest.code_hash, code_digest(secret=secret, conversation_id=latest.conversation_id, code=given)
    )
    if latest.verified_at is not None:
        # A retried confirmation with the right code answers the same success again.
        return (
            None
            if matches
            else VerificationFailed("verification already completed", public="Esta conversación ya está verificada.")
        )
    if latest.attempts >= MAX_ATTEMPTS:
        return VerificationFailed(
            "too many attempts",
            public="Se agotaron los intentos para este código. Solicite un código nuevo.",
            attempts_left=0,
        )
    if now >= latest.expires_at:
        return VerificationFailed("code expired", public="El código de verificación venció. Solicite un código nuevo.")
    if not matches:
        latest.attempts += 1
        left = MAX_ATTEMPTS - latest.attempts
        return VerificationFailed("wrong code", public=_wrong_code_public(left), attempts_left=left)
    return None


def _wrong_code_public(left: int) -> str:
    if left <= 0:
        return "El código no es correcto y se agotaron los intentos. Solicite un código nuevo."
    verb = "Le queda" if left == 1 else "Le quedan"
    return f"El código no es correcto. {verb} {plural(left, 'intento', 'intentos')}."
