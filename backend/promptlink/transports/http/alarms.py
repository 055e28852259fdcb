"""`/api/v1/alarms` (equipment alarms from SNMP traps) and `/api/v1/metrics`."""

from __future__ import annotations

import logging

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, text
from sanic_ext.extensions.openapi import openapi
from sqlalchemy import select

from promptlink.infra.db import transaction
from promptlink.models import Customer
from promptlink.services import alarms as svc
from promptlink.services.auth import Forbidden, Principal
from promptlink.services.errors import InvalidInput, NotFound
from promptlink.services.trap_rules import RulesError, RulesFile
from promptlink.transports.http.common import body, caller, int_arg
from promptlink.transports.snmp.metrics import render_prometheus

bp = Blueprint("alarms", url_prefix="/api/v1")
log = logging.getLogger(__name__)
FORBIDDEN = "No tiene permiso para esta acción."


def _staff(p: Principal) -> None:
    if not p.is_staff:
        raise Forbidden(f"role {p.role} is not support staff", public=FORBIDDEN)


@bp.get("/alarms")
@openapi.definition(
    summary="Open equipment alarms",
    description="A customer (widget identity, or the service token with `X-On-Behalf-Of`) sees its own open "
    "alarms; staff see every customer's, or one customer's with `?customer=CODE`.",
)
async def list_open(request: Request) -> HTTPResponse:
    p = await caller(request)
    limit = int_arg(request, "limit", 20, low=1, high=100)
    async with request.app.ctx.sessions() as session:
        if p.role == "customer":
            assert p.customer_id is not None
            customer = await session.get(Customer, p.customer_id)
        elif p.is_staff and request.args.get("customer"):
            customer = await session.scalar(select(Customer).where(Customer.code == request.args.get("customer")))
            if customer is None:
                raise NotFound("unknown customer", public="El cliente no existe.")
        elif p.is_staff:
            customer = None
        else:
            raise Forbidden("the service token must act on behalf of a contact", public=FORBIDDEN)
        if customer is None:
            rows = await svc.all_open_alarms(session=session, limit=limit)
            return json({"alarms": [svc.alarm_json(a) for a in rows]})
        rows = await svc.open_alarms(session=session, customer_id=customer.id, limit=limit)
        return json(
            {
                "customer": customer.code,
                "customer_name": customer.name,
                "alarms": [svc.alarm_json(a, timezone=customer.timezone) for a in rows],
            }
        )


@bp.get("/alarms/unassigned")
@openapi.definition(
    summary="Alarms from unknown equipment",
    description="«Alarmas sin asignar»: traps from addresses no customer device has (staff).",
)
async def list_unassigned(request: Request) -> HTTPResponse:
    p = await caller(request)
    _staff(p)
    limit = int_arg(request, "limit", 100, low=1, high=500)
    async with request.app.ctx.sessions() as session:
        rows = await svc.unassigned_alarms(session=session, limit=limit)
    return json({"alarms": [svc.alarm_json(a) for a in rows]})


@bp.post("/alarms/<alarm_id:int>/assign")
@openapi.definition(
    summary="Assign an alarm from unknown equipment to a customer device",
    description="Body `{device}` (a device name). Level 1 agents, supervisors and admins. The device takes the "
    "alarm's source address, so later traps from it reach the customer; every unassigned alarm from that address "
    "is attached, and each still open opens its ticket and tells the customer (chat and e-mail), as a trap from a "
    "known device does. 404 for an unknown alarm, 422 for an unknown device, 409 if already assigned. "
    "Audited (`alarm.assign`).",
)
async def assign(request: Request, alarm_id: int) -> HTTPResponse:
    p = await caller(request)
    if not (p.is_staff and p.may_work_tier("L1")):
        raise Forbidden(f"{p.email} does not work Level 1", public=FORBIDDEN)
    data = body(request)
    intake = getattr(request.app.ctx, "trap_intake", None)
    try:
        rules = intake.rules.current() if intake else RulesFile(request.app.ctx.settings.snmp_rules_path).rules
    except (RulesError, OSError) as exc:  # the ticket type then falls back to the SNMP default
        log.error("snmp rules unreadable while assigning an alarm", extra={"error": str(exc)})
        rules = None
    outcome = svc.Outcome()
    async with transaction(request.app.ctx.sessions) as session:
        alarm = await svc.assign_alarm(
            session=session,
            alarm_id=alarm_id,
            device_name=data.get("device"),
            rules=rules,
            actor=p.email,
            now=request.app.ctx.clock.now(),
            outcome=outcome,
        )
        result = svc.alarm_json(alarm)
    if intake is not None:
        intake.worker.forget_devices()  # the next trap from that address finds the device (a separate
        # `promptlink snmp` process finds it within DEVICE_MISS_REFRESH_SECONDS)
    for message in outcome.messages:  # stored; a failed emit is seen on the customer's next resume
        try:
            await request.app.ctx.gateway.deliver(message)
        except Exception:  # noqa: BLE001
            log.warning("alarm notice not emitted", extra={"conversation_id": message.conversation_id})
    return json({"alarm": result, "tickets": outcome.tickets, "notices": len(outcome.messages)})


@bp.post("/alarms/rules/reload")
@openapi.definition(
    summary="Reload the SNMP trap rules", description="Supervisors and admins. 422 if the file is invalid."
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
    return json({"rules": [r.name for r in rules.rules], "enterprise_prefix": rules.enterprise_prefix})


@bp.get("/metrics")
@openapi.definition(
    summary="Prometheus metrics",
    description="Text exposition format. Readable by staff and by the service token (a scraper's bearer token).",
)
async def metrics(request: Request) -> HTTPResponse:
    p = await caller(request)
    if not (p.is_staff or p.role == "service"):
        raise Forbidden(f"role {p.role} may not read metrics", public=FORBIDDEN)
    intake = getattr(request.app.ctx, "trap_intake", None)
    body = intake.metrics() if intake is not None else render_prometheus(None)
    return text(body, content_type="text/plain; version=0.0.4; charset=utf-8")
