"""`/api/v1/auth`: agent login (token + session cookie), logout, who am I.

Failed logins are limited per client address and per account (`services/login_throttle.py`).
The client address is the peer's, or the one a trusted reverse proxy forwards when Sanic is told
to trust it (`SANIC_PROXIES_COUNT`, `SANIC_REAL_IP_HEADER` or `SANIC_FORWARDED_SECRET`).
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from promptlink.infra.db import transaction
from promptlink.models import Agent
from promptlink.services.auth import login, revoke_sessions
from promptlink.services.errors import DomainError
from promptlink.services.login_throttle import LoginThrottle, TooManyAttempts
from promptlink.transports.http.api import endpoint, parse_body, reply
from promptlink.transports.http.common import SESSION_COOKIE, SIGNED_IN_COOKIE, caller
from promptlink.transports.http.schemas.auth import LoggedOut, LoginIn, LoginOut, MeOut, TooManyAttemptsOut
from promptlink.transports.http.views import auth as views

bp = Blueprint("auth", url_prefix="/api/v1/auth")


@bp.post("/login")
@endpoint(
    summary="Agent login",
    description="Body `{email, password}`. Returns `{token, agent}`; the token is a bearer token for the API "
    "and is also set as the `pl_session` cookie (HttpOnly, SameSite=Strict) for the console pages, with "
    "`pl_signed_in=1` beside it (readable by the pages' scripts, not a credential). "
    "Any refusal is one 401 `invalid credentials`. Failed logins are limited per client address and per "
    "account (`PROMPTLINK_LOGIN_RATE_PER_IP`, `PROMPTLINK_LOGIN_RATE_PER_ACCOUNT`): over either, 429 with "
    "`Retry-After` (seconds) and `retry_after` in the body, whatever the password.",
    body=LoginIn,
    responses={200: LoginOut, 401: None, 422: None, 429: TooManyAttemptsOut, 503: None},
)
async def do_login(request: Request) -> HTTPResponse:
    data = parse_body(request, LoginIn)
    settings = request.app.ctx.settings

    async def attempt() -> tuple[str, Agent]:
        async with transaction(request.app.ctx.sessions) as session:
            return await login(
                session=session,
                email=data.email,
                password=data.password,
                now=request.app.ctx.clock.now(),
                secret=settings.secret("session_secret"),
                hours=settings.agent_token_hours,
            )

    try:
        token, agent = await _throttle(request).run(
            address=request.remote_addr or request.ip, email=data.email, attempt=attempt
        )
    except TooManyAttempts as exc:
        return json(views.error(exc), status=exc.status, headers={"Retry-After": str(exc.retry_after)})
    response = reply(views.login(token, agent))
    for name, value, httponly in ((SESSION_COOKIE, token, True), (SIGNED_IN_COOKIE, "1", False)):
        response.add_cookie(
            name,
            value,
            httponly=httponly,
            samesite="Strict",
            path="/",
            secure=settings.public_url.startswith("https"),
            max_age=settings.agent_token_hours * 3600,
        )
    return response


@bp.post("/logout")
@endpoint(
    summary="End the session: clears the cookie and revokes the agent's login tokens",
    description="With an agent's token (bearer or cookie), every token issued to that agent so far stops "
    "working (401), on every device. Without a valid token it only clears the cookie.",
    responses={200: LoggedOut},
)
async def do_logout(request: Request) -> HTTPResponse:
    try:
        principal = await caller(request)
    except DomainError:
        principal = None  # expired or already revoked: nothing left to revoke
    if principal is not None and principal.is_staff and principal.agent_id is not None:
        async with transaction(request.app.ctx.sessions) as session:
            await revoke_sessions(session, principal.agent_id)
        await request.app.ctx.end_agent_sockets(principal.agent_id)  # open console sockets close now
    response = reply(views.logged_out())
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(SIGNED_IN_COOKIE, path="/")
    return response


@bp.get("/me")
@endpoint(summary="The caller: agent, service or customer identity", responses={200: MeOut, 401: None})
async def me(request: Request) -> HTTPResponse:
    return reply(views.me(await caller(request)))


def _throttle(request: Request) -> LoginThrottle:
    """The login throttle of this process, made on first use (its storage is Redis when configured)."""
    throttle: LoginThrottle | None = getattr(request.app.ctx, "login_throttle", None)
    if throttle is None:
        settings = request.app.ctx.settings
        throttle = LoginThrottle(
            per_ip=settings.login_rate_per_ip,
            per_account=settings.login_rate_per_account,
            redis_url=settings.redis_url,
            namespace=settings.redis_channel,
        )
        request.app.ctx.login_throttle = throttle
    return throttle

