"""`/api/v1/alarms` (equipment alarms from SNMP traps) and `/api/v1/metrics`."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, text
from sanic_ext.extensions.openapi import openapi
from sanic_ext.extensions.openapi.definitions import Component
from sqlalchemy.exc import SQLAlchemyError

from promptlink.assistant.client import AssistantUnavailable
from promptlink.infra import metrics as process_metrics
from promptlink.infra.db import transaction
from promptlink.models import Message
from promptlink.services import alarms as svc
from promptlink.services import backlog
from promptlink.services.alarm_assignment import assign_alarm
from promptlink.services.alarm_queries import open_alarms_for
from promptlink.services.auth import Forbidden, Principal
from promptlink.services.errors import InvalidInput, NotFound
from promptlink.services.trap_rules import RulesError, RulesFile, TrapRules
from promptlink.transports.http.api import endpoint, parse_body, parse_query, reply
from promptlink.transports.http.common import caller
from promptlink.transports.http.schemas.alarms import (
    AlarmAssigned,
    AlarmList,
    AssignIn,
    OpenAlarms,
    OpenAlarmsQuery,
    PrometheusText,
    RulesReloaded,
    UnassignedQuery,
)
from promptlink.transports.http.views import alarms as views

bp = Blueprint("alarms", url_prefix="/api/v1")
log = logging.getLogger(__name__)
FORBIDDEN = "No tiene permiso para esta acción."


def _staff(p: Principal) -> None:
    if not p.is_staff:
        raise Forbidden(f"role {p.role} is not support staff", public=FORBIDDEN)


@bp.get("/alarms")
@endpoint(
    summary="Open equipment alarms",
    description="A customer (widget identity, or the service token with `X-On-Behalf-Of`) sees its own open "
    "alarms; staff see every customer's, or one customer's with `?customer=CODE`.",
    query=OpenAlarmsQuery,
    responses={200: OpenAlarms, 401: None, 403: None, 404: None, 422: None},
)
async def list_open(request: Request) -> HTTPResponse:
    p = await caller(request)
    query = parse_query(request, OpenAlarmsQuery)
    customer_id, customer_code = None, None
    if p.role == "customer":
        assert p.customer_id is not None
        customer_id = p.customer_id
    elif p.is_staff:
        customer_code = query.customer
    else:
        raise Forbidden("the service token must act on behalf of a contact", public=FORBIDDEN)
    async with request.app.ctx.sessions() as session:
        found = await open_alarms_for(
            session=session, customer_id=customer_id, customer_code=customer_code, limit=query.limit
        )
        return reply(views.open_alarms(found))


@bp.get("/alarms/unassigned")
@endpoint(
    summary="Alarms from unknown equipment",
    description="«Alarmas sin asignar»: traps from addresses no customer device has (staff).",
    query=UnassignedQuery,
    responses={200: AlarmList, 401: None, 403: None, 422: None},
)
async def list_unassigned(request: Request) -> HTTPResponse:
    p = await caller(request)
    _staff(p)
    query = parse_query(request, UnassignedQuery)
    async with request.app.ctx.sessions() as session:
        rows = await svc.unassigned_alarms(session=session, limit=query.limit)
        return reply(views.alarm_list(rows))


@bp.post("/alarms/<alarm_id:int>/assign")
@endpoint(
    summary="Assign an alarm from unknown equipment to a customer device",
    description="Body `{device}` (a device name). Level 1 agents, supervisors and admins. The device takes the "
    "alarm's source address, so later traps from it reach the customer; every unassigned alarm from that address "
    "is attached, and each still open opens its ticket and tells the customer (chat and e-mail), as a trap from a "
    "known device does. 404 for an unknown alarm, 422 for an unknown device, 409 if already assigned. "
    "Audited (`alarm.assign`).",
    body=AssignIn,
    responses={200: AlarmAssigned, 401: None, 403: None, 404: None, 409: None, 422: None},
)
async def assign(request: Request, alarm_id: int) -> HTTPResponse:
    p = await caller(request)
    if not (p.is_staff and p.may_work_tier("L1")):
        raise Forbidden(f"{p.email} does not work Level 1", public=FORBIDDEN)
    data = parse_body(request, AssignIn)
    rules = _current_rules(request)
    outcome = svc.Outcome()
    async with transaction(request.app.ctx.sessions) as session:
        alarm = await assign_alarm(
            session=session,
            alarm_id=alarm_id,
            device_name=data.device,
            rules=rules,
            actor=p.email,
            now=request.app.ctx.clock.now(),
            outcome=outcome,
        )
        result = views.assigned(alarm, outcome)
    intake = getattr(request.app.ctx, "trap_intake", None)
    if intake is not None:
        intake.worker.forget_devices()  # the next trap from that address finds the device (a separate
        # `promptlink snmp` process finds it within DEVICE_MISS_REFRESH_SECONDS)
    await _deliver(request, outcome.messages)
    return reply(result)


def _current_rules(request: Request) -> TrapRules | None:
    """The SNMP rules the receiver runs (or the file's); None when unreadable (the ticket type then
    falls back to the SNMP default)."""
    intake = getattr(request.app.ctx, "trap_intake", None)
    try:
        return intake.rules.current() if intake else RulesFile(request.app.ctx.settings.snmp_rules_path).rules
    except (RulesError, OSError) as exc:
        log.error("snmp rules unreadable while assigning an alarm", extra={"error": str(exc)})
        return None


async def _deliver(request: Request, messages: list[Message]) -> None:
    """Emit the stored notices; a failed emit is seen on the customer's next resume."""
    for message in messages:
        try:
            await request.app.ctx.gateway.deliver(message)
        except Exception:  # noqa: BLE001
            log.warning("alarm notice not emitted", extra={"conversation_id": message.conversation_id})


@bp.post("/alarms/rules/reload")
@endpoint(
    summary="Reload the SNMP trap rules",
    description="Supervisors and admins. 422 if the file is invalid.",
    responses={200: RulesReloaded, 401: None, 403: None, 404: None, 422: None},
)
async def reload_rules(request: Request) -> HTTPResponse:
    p = await caller(request)
    if p.role not in ("supervisor", "admin"):
        raise Forbidden(f"role {p.role} may not reload rules", public=FORBIDDEN)
    intake = getattr(request.app.ctx, "trap_intake", None)
    if intake is None:
        raise NotFound("the SNMP receiver is not running in this process", public="El receptor SNMP no está activo.")
    try:
        rules = intake.rules.reload()
    except (RulesError, OSError) as exc:
        raise InvalidInput(str(exc), public="El archivo de reglas SNMP no es válido.") from exc
    return reply(views.rules_reloaded(rules))


@bp.get("/metrics")
@openapi.response(200, {"text/plain": Component(PrometheusText)}, "Prometheus text exposition format")
@endpoint(
    summary="Prometheus metrics",
    description="Text exposition format: this backend process's metrics, each labelled `process` "
    "(docs/operations.md). Readable by staff and by the service token (a scraper's bearer token).",
    responses={401: None, 403: None},
)
async def metrics(request: Request) -> HTTPResponse:
    p = await caller(request)
    if not (p.is_staff or p.role == "service"):
        raise Forbidden(f"role {p.role} may not read metrics", public=FORBIDDEN)
    await refresh_scraped(request.app.ctx)
    return text(process_metrics.render().decode(), content_type=process_metrics.CONTENT_TYPE)


async def refresh_scraped(ctx: Any) -> None:
    """The figures only a query knows, read now: queues, outbox backlog, Rasa servers up."""
    now = ctx.clock.now()
    try:
        async with ctx.sessions() as session:
            queues = await backlog.queued_per_tier(session=session, now=now)
            outbox, failed = await backlog.outbox_pending(session=session, now=now)
    except (SQLAlchemyError, OSError) as exc:
        # The database is down: the process's other metrics (pool, turns, Rasa) still go out.
        log.warning("metrics: queues and outbox not read", extra={"error": str(exc)[:300]})
        queues, outbox, failed = {}, {}, None
    for tier, waiting in queues.items():
        process_metrics.QUEUE_LENGTH.labels(tier).set(waiting.count)
        process_metrics.QUEUE_OLDEST_WAIT.labels(tier).set(waiting.oldest_seconds)
    for kind, waiting in outbox.items():
        process_metrics.OUTBOX_PENDING.labels(kind).set(waiting.count)
    if failed is not None:
        process_metrics.OUTBOX_OLDEST_PENDING.set(max((w.oldest_seconds for w in outbox.values()), default=0.0))
        process_metrics.OUTBOX_FAILED.set(failed)
    with contextlib.suppress(AssistantUnavailable):
        await ctx.assistant.rasa_ready()  # marks each server up or down (3 s timeout each, in parallel)
