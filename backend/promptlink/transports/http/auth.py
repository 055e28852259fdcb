"""`/api/v1/auth`: agent login (token + session cookie), logout, who am I."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi

from ...db import transaction
from ...services.auth import login
from .common import SESSION_COOKIE, body, caller

bp = Blueprint("auth", url_prefix="/api/v1/auth")


@bp.post("/login")
@openapi.definition(
    summary="Agent login",
    description="Body `{email, password}`. Returns `{token, agent}`; the token is a bearer token for the API "
    "and is also set as the `pl_session` cookie (HttpOnly, SameSite=Strict) for the console pages.",
)
async def do_login(request: Request) -> HTTPResponse:
    data = body(request)
    settings = request.app.ctx.settings
    async with transaction(request.app.ctx.sessions) as session:
        token, agent = await login(
            session=session,
            email=data.get("email"),
            password=data.get("password"),
            now=request.app.ctx.clock.now(),
            secret=settings.secret("session_secret"),
            hours=settings.agent_token_hours,
        )
    response = json(
        {
            "token": token,
            "agent": {"email": agent.email, "name": agent.name, "role": agent.role, "tiers": agent.tier_list},
        }
    )
    response.add_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        path="/",
        secure=settings.public_url.startswith("https"),
        max_age=settings.agent_token_hours * 3600,
    )
    return response


@bp.post("/logout")
@openapi.definition(summary="End the console session (clears the cookie)")
async def do_logout(request: Request) -> HTTPResponse:
    response = json({"status": "logged out"})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@bp.get("/me")
@openapi.definition(summary="The caller: agent, service or customer identity")
async def me(request: Request) -> HTTPResponse:
    p = await caller(request)
    return json(
        {"role": p.role, "email": p.email, "name": p.name, "tiers": list(p.tiers), "customer_id": p.customer_id}
    )
