"""`GET /api/v1/health`: the database, Rasa and the action server, each named."""

from __future__ import annotations

import asyncio
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from promptlink.assistant.client import AssistantUnavailable
from promptlink.infra.db import ping
from promptlink.transports.http.api import endpoint, reply
from promptlink.transports.http.schemas.health import Degraded, Healthy
from promptlink.transports.http.views import health as views

bp = Blueprint("health", url_prefix="/api/v1")


def snmp_state(ctx: Any) -> str:
    """The trap receiver of this process (when enabled): bound and its alarm worker running."""
    intake = getattr(ctx, "trap_intake", None)
    if intake is None:
        return f"down: {getattr(ctx, 'snmp_error', None) or 'not started'}"[:160]
    if intake.task.done():
        return "down: the alarm worker stopped"
    return "ok"


@bp.get("/health")
@endpoint(
    summary="Health of the backend and the components it needs",
    description=(
        "200 when the database, the Rasa servers (each with a model loaded), the action server and, when "
        "enabled, the SNMP trap receiver (bound, alarm worker running) answer; 503 otherwise, with `failing` "
        "naming the components that are down. No authentication."
    ),
    responses={200: Healthy, 503: Degraded},
)
async def health(request: Request) -> HTTPResponse:
    ctx = request.app.ctx

    async def db() -> str:
        try:
            await asyncio.wait_for(ping(ctx.engine), timeout=3)
            return "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means "down"; the type is reported
            return f"down: {type(exc).__name__}"

    async def component(check: object) -> str:
        try:
            await check()  # type: ignore[operator]
            return "ok"
        except AssistantUnavailable as exc:
            return f"down: {exc.detail[:120]}"

    db_state, rasa_state, actions_state = await asyncio.gather(
        db(), component(ctx.assistant.rasa_ready), component(ctx.assistant.actions_ready)
    )
    components = {"db": db_state, "rasa": rasa_state, "actions": actions_state}
    if ctx.settings.snmp_enabled:
        components["snmp"] = snmp_state(ctx)
    body, status = views.health(components)
    return reply(body, status=status)
