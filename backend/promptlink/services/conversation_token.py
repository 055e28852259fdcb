"""Conversation tokens: the backend's proof that an action server call is about one conversation.

The backend puts a short-lived token in the metadata of every message it sends to Rasa
(`conversation_token`); the action server passes it back on each API call
(`X-Conversation-Token`). The service token alone acts for no customer: a call on behalf of a
contact, and a handoff or verification of a conversation, needs the token of a conversation
that belongs to that contact (or of that conversation). Rasa and the action server never hold
the signing key, so whoever can call them cannot make one (docs/security.md).

The key is derived from the session secret (HMAC with a label of its own), and the token is
a JWT with its own `typ` and audience, so it is never mistaken for an agent's token.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

import jwt

from promptlink.services.errors import Unauthorized

HEADER = "X-Conversation-Token"
METADATA_KEY = "conversation_token"
TOKEN_TYPE = "conversation"
AUDIENCE = "promptlink-actions"
# A token rides with one message; the actions of its turn use it within seconds.
LIFETIME_SECONDS = 300
MAX_TOKEN_CHARS = 2048
_KEY_LABEL = b"promptlink/conversation-token/v1"
PUBLIC = "El asistente no pudo comprobar la conversación; inténtelo de nuevo."

# The gateway asks for a token on every assistant turn; signing one (PyJWT: JSON, base64, HMAC) cost
# 0.1-0.25 ms of the backend's CPU per turn. A token made less than REUSE_SECONDS ago for the same
# conversation and contact is handed out again: it is still valid for LIFETIME_SECONDS - REUSE_SECONDS
# at least, far longer than a turn's actions take. At most MAX_REUSED are kept (then all are dropped).
REUSE_SECONDS = 60
MAX_REUSED = 10_000

_signing_key: bytes | None = None
_recent: dict[tuple[str, str | None], tuple[float, str]] = {}


@dataclass(frozen=True)
class ConversationClaims:
    conversation_id: str
    contact: str | None  # the contact the conversation belonged to when the token was made


def key_from(session_secret: str) -> bytes:
    """The signing key of conversation tokens, derived from the session secret."""
    return hmac.new(session_secret.encode(), _KEY_LABEL, hashlib.sha256).digest()


def configure(session_secret: str) -> None:
    """Set the process's signing key (the app does at start; `issue` needs it)."""
    global _signing_key
    _signing_key = key_from(session_secret)
    _recent.clear()


def sign(
    *,
    key: bytes,
    conversation_id: str,
    contact: str | None,
    now: float | None = None,
    lifetime: int = LIFETIME_SECONDS,
) -> str:
    """A token for `conversation_id` (of `contact`, when known), valid `lifetime` seconds from `now`."""
    issued = int(time.time() if now is None else now)
    claims: dict[str, object] = {
        "typ": TOKEN_TYPE,
        "aud": AUDIENCE,
        "cid": conversation_id,
        "iat": issued,
        "exp": issued + lifetime,
    }
    if contact:
        claims["contact"] = contact.strip().lower()
    return jwt.encode(claims, key, algorithm="HS256")


def issue(conversation_id: str, contact: str | None = None) -> str | None:
    """A token for `conversation_id` (and its contact, when known); None before `configure`."""
    if _signing_key is None:
        return None
    now = time.time()
    key = (conversation_id, contact)
    found = _recent.get(key)
    if found is not None and 0 <= now - found[0] < REUSE_SECONDS:
        return found[1]
    token = sign(key=_signing_key, conversation_id=conversation_id, contact=contact, now=now)
    if len(_recent) >= MAX_REUSED:
        _recent.clear()
    _recent[key] = (now, token)
    return token


def verify(token: str, *, session_secret: str) -> ConversationClaims:
    """The claims of a valid token; Unauthorized when it is forged, expired or not a conversation token."""
    if len(token) > MAX_TOKEN_CHARS:
        raise Unauthorized("conversation token too long", public=PUBLIC)
    try:
        claims = jwt.decode(
            token,
            key_from(session_secret),
            algorithms=["HS256"],
            audience=AUDIENCE,
            options={"require": ["typ", "aud", "cid", "exp"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("conversation token expired", public=PUBLIC) from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"invalid conversation token: {type(exc).__name__}", public=PUBLIC) from exc
    cid, contact = claims.get("cid"), claims.get("contact")
    if claims.get("typ") != TOKEN_TYPE or not isinstance(cid, str) or not cid or len(cid) > 64:
        raise Unauthorized("not a conversation token", public=PUBLIC)
    return ConversationClaims(cid, contact if isinstance(contact, str) and contact else None)
