"""Shared pieces of the REST transport: the caller, JSON bodies, path and query checks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sanic import Request
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.services.auth import Principal, resolve_principal
from promptlink.services.conversation_token import HEADER as CONVERSATION_TOKEN_HEADER
from promptlink.services.errors import InvalidInput, NotFound
from promptlink.services.text import check_strings

SESSION_COOKIE = "pl_session"
# Readable by the pages' scripts (not a credential, only «a session was started here»): the console and
# admin pages ask `/auth/me` only when it is set, so a first visit shows the login without a 401.
SIGNED_IN_COOKIE = "pl_signed_in"


async def caller(request: Request, session: AsyncSession | None = None) -> Principal:
    """Resolve (once per request) who is calling, from the bearer token or the session cookie.

    Read in `session` when the handler has one open already (its transaction): the account is
    still read on every request, so a logout, a password reset or a deactivation (token_version)
    takes effect at once in every process, but without a session and a connection of its own.
    """
    cached = getattr(request.ctx, "principal", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    if session is not None:
        principal = await _resolve(request, session)
    else:
        async with request.app.ctx.sessions() as own:
            principal = await _resolve(request, own)
    request.ctx.principal = principal
    return principal


async def _resolve(request: Request, session: AsyncSession) -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        token = request.cookies.get(SESSION_COOKIE) or ""
    settings = request.app.ctx.settings
    return await resolve_principal(
        session=session,
        token=token.strip() or None,
        on_behalf_of=request.headers.get("X-On-Behalf-Of"),
        session_secret=settings.secret("session_secret"),
        widget_secret=settings.secret("widget_secret"),
        service_token=settings.secret("service_token"),
        conversation_token=request.headers.get(CONVERSATION_TOKEN_HEADER),
        widget_max_lifetime=timedelta(hours=settings.widget_token_max_hours),
    )


def has_credentials(request: Request) -> bool:
    """Whether the request carries a bearer token or a session cookie at all (no I/O)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return bool(scheme.lower() == "bearer" and token.strip()) or bool(request.cookies.get(SESSION_COOKIE))


def body(request: Request) -> dict[str, Any]:
    """The JSON object body, or a clear 422."""
    try:
        data = request.json
    except Exception as exc:  # noqa: BLE001 - Sanic raises several types for bad JSON
        raise InvalidInput("body is not valid JSON", public="El cuerpo de la solicitud no es JSON válido.") from exc
    if not isinstance(data, dict):
        raise InvalidInput("body must be a JSON object", public="El cuerpo de la solicitud debe ser un objeto JSON.")
    # Lone surrogates, NUL and other control characters are refused here, before any handler
    # stores a part of the request (issue #13 F3/F13: they failed at the database, as a 500).
    check_strings(data)
    return data


# The largest id an INTEGER primary key holds (PostgreSQL's int4; asyncpg refuses larger values
# as a DataError, SQLite's driver beyond int64 with an OverflowError).
MAX_ID = 2**31 - 1


async def bounded_path_ids(request: Request) -> None:
    """Request middleware: an integer path parameter beyond the ids' integer range (e.g.
    `/alarms/999999999999999999999/assign`) names nothing: 404, instead of an overflow in the
    driver as a 500 (issue #13 F13). Registered once for the whole app."""
    for name, value in (request.match_info or {}).items():
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_ID:
            await caller(request)  # who asks first: an anonymous caller gets 401, as for any other id
            raise NotFound(f"{name} {str(value)[:40]} is out of range", public="El recurso no existe.")
        if isinstance(value, str):
            check_strings(value, field=f"path {name}")
    # Query strings are text from the caller too (`?q=%00` would reach the database).
    check_strings({key: request.args.getlist(key) for key in request.args}, field="query")


def int_arg(request: Request, name: str, default: int, *, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise InvalidInput(f"{name} must be an integer", public="Parámetro no válido.") from exc
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}", public="Parámetro fuera de rango.")
    return value
