"""`GET /api/v1/health`: the database, Rasa and the action server, each named."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from promptlink.assistant.client import AssistantUnavailable
from promptlink.infra.db import ping
from promptlink.infra.lease import lease_records
from promptlink.transports.http.api import endpoint, reply
from promptlink.transports.http.schemas.health import Degraded, Healthy
from promptlink.transports.http.views import health as views

bp = Blueprint("health", url_prefix="/api/v1")

# The health answer is bounded: a component that does not answer within this is reported down, so
# the endpoint itself always answers well within a load balancer's check timeout (deploy/haproxy.cfg:
# `timeout check 3s`). A Rasa server loading a model (an activation) or frozen blocks its `/status`;
# waiting longer for it made every backend's check time out at once and HAProxy took the whole site
# out (bench/cluster.py --only activation, issue 16).
CHECK_SECONDS = 1.5


def snmp_state(ctx: Any) -> str:
    """The trap receiver of this process (when enabled): bound and its alarm worker running, or
    `standby` while another process holds the "snmp-receiver" lease (not a failure)."""
    intake = getattr(ctx, "trap_intake", None)
    singleton = getattr(ctx, "singletons", {}).get("snmp-receiver")
    if intake is None:
        if singleton is not None and singleton.state == "standby":
            return "standby"
        return f"down: {getattr(ctx, 'snmp_error', None) or 'not started'}"[:160]
    if intake.task.done():
        return "down: the alarm worker stopped"
    return "ok"


async def singleton_states(ctx: Any) -> dict[str, dict[str, Any]]:
    """This process's part in each singleton it competes for (`active`, `standby`, `down: …`) and,
    from the `leases` table, who last acquired it, its fencing generation and when."""
    try:
        records = await asyncio.wait_for(lease_records(ctx.sessions), timeout=CHECK_SECONDS)
    except Exception:  # noqa: BLE001 - the database being down is reported as `db` already
        records = {}
    out: dict[str, dict[str, Any]] = {}
    for name in sorted(set(records) | set(getattr(ctx, "singletons", {}))):
        record = records.get(name, {})
        singleton = ctx.singletons.get(name)
        out[name] = {
            "here": singleton.state if singleton is not None else "off",
            "holder": record.get("holder"),
            "generation": record.get("generation"),
            "acquired_at": record["acquired_at"].isoformat() if record.get("acquired_at") else None,
        }
    return out


@bp.get("/health")
@endpoint(
    summary="Health of the backend and the components it needs",
    description=(
        "200 when the database, the Rasa servers (each with a model loaded), the action server and, when "
        "enabled, the SNMP trap receiver (bound, alarm worker running; or `standby` while another process "
        "holds it) answer; 503 otherwise, with `failing` naming the components that are down. `singletons` "
        "says which process holds each cluster-wide singleton. No authentication."
    ),
    responses={200: Healthy, 503: Degraded},
)
async def health(request: Request) -> HTTPResponse:
    ctx = request.app.ctx

    async def db() -> str:
        try:
            await asyncio.wait_for(ping(ctx.engine), timeout=CHECK_SECONDS)
            return "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means "down"; the type is reported
            return f"down: {type(exc).__name__}"

    async def component(check: Callable[..., Awaitable[None]]) -> str:
        try:
            # The client's own timeout names the server that did not answer; wait_for bounds the rest.
            await asyncio.wait_for(check(timeout=CHECK_SECONDS - 0.2), timeout=CHECK_SECONDS)
            return "ok"
        except AssistantUnavailable as exc:
            return f"down: {exc.detail[:120]}"
        except TimeoutError:
            return f"down: no answer within {CHECK_SECONDS} s"

    db_state, rasa_state, actions_state, leases = await asyncio.gather(
        db(), component(ctx.assistant.rasa_ready), component(ctx.assistant.actions_ready), singleton_states(ctx)
    )
    components = {"db": db_state, "rasa": rasa_state, "actions": actions_state}
    if ctx.settings.snmp_enabled:
        components["snmp"] = snmp_state(ctx)
    body, status = views.health(components, singletons=leases)
    return reply(body, status=status)
