"""`/api/v1/queues` and `/api/v1/customers`: what support staff work from."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from promptlink.models import Customer, Device
from promptlink.models.agent import TIERS
from promptlink.models.ticket import OPEN_STATUSES
from promptlink.services import tickets as svc
from promptlink.services.access import require_own_customer
from promptlink.services.auth import Forbidden
from promptlink.services.entitlement import entitlement_for
from promptlink.services.errors import NotFound
from promptlink.transports.http.common import caller, tickets_json

bp = Blueprint("queues", url_prefix="/api/v1")


@bp.get("/queues")
@openapi.definition(
    summary="Open tickets per tier, most urgent update first",
    description="Agents see their own tiers; supervisors and admins see all three. Each queue lists its open "
    "tickets with `next_update_due`; `overdue` counts those past due.",
)
async def queues(request: Request) -> HTTPResponse:
    p = await caller(request)
    if not p.is_staff:
        raise Forbidden("queues are for support staff", public="No tiene permiso para esta acción.")
    now = request.app.ctx.clock.now()
    tiers = [t for t in TIERS if p.may_work_tier(t)]
    result = []
    async with request.app.ctx.sessions() as session:
        for tier in tiers:
            items, total = await svc.list_tickets(
                session=session, filters=svc.TicketFilter(tiers=(tier,), statuses=OPEN_STATUSES), limit=200
            )
            overdue = sum(1 for t in items if t.next_update_due is not None and t.next_update_due < now)
            result.append(
                {
                    "tier": tier,
                    "total": total,
                    "overdue": overdue,
                    "tickets": await tickets_json(session, items, staff=True),
                }
            )
    return json({"now": now.isoformat(), "queues": result})


def _customer_json(customer: Customer, devices: list[Device], on_date: object) -> dict[str, object]:
    ent = entitlement_for(customer, on=on_date)  # type: ignore[arg-type]
    return {
        "code": customer.code,
        "name": customer.name,
        "timezone": customer.timezone,
        "business_hours": [customer.business_start.strftime("%H:%M"), customer.business_end.strftime("%H:%M")],
        "contracts": [
            {"kind": c.kind, "starts_on": c.starts_on.isoformat(), "ends_on": c.ends_on.isoformat()}
            for c in customer.contracts
        ],
        "entitlement": {"software": ent.software, "hardware": ent.hardware},
        "contacts": [
            {"email": c.email, "name": c.name, "notification_party": c.notification_party} for c in customer.contacts
        ],
        "devices": [{"name": d.name, "serial": d.serial, "model": d.model, "address": d.mgmt_address} for d in devices],
    }


@bp.get("/customers")
@openapi.definition(summary="Customers with contracts, contacts and devices (staff: all; customer: its own)")
async def customers(request: Request) -> HTTPResponse:
    p = await caller(request)
    today = request.app.ctx.clock.now().date()
    async with request.app.ctx.sessions() as session:
        query = (
            select(Customer)
            .options(selectinload(Customer.contracts), selectinload(Customer.contacts))
            .order_by(Customer.code)
        )
        if p.role == "customer":
            query = query.where(Customer.id == p.customer_id)
        rows = list(await session.scalars(query))
        devices = list(await session.scalars(select(Device).order_by(Device.name)))
    return json({"items": [_customer_json(c, [d for d in devices if d.customer_id == c.id], today) for c in rows]})


@bp.get("/customers/<code:str>")
@openapi.definition(summary="One customer (customers may read only their own)")
async def customer(request: Request, code: str) -> HTTPResponse:
    p = await caller(request)
    async with request.app.ctx.sessions() as session:
        found = await session.scalar(
            select(Customer)
            .options(selectinload(Customer.contracts), selectinload(Customer.contacts))
            .where(Customer.code == code)
        )
        if found is None:
            raise NotFound(f"customer {code} not found", public="El cliente no existe.")
        require_own_customer(p, found.id, what=f"customer {code}", public="El cliente no existe.")
        devices = list(await session.scalars(select(Device).where(Device.customer_id == found.id)))
    return json(_customer_json(found, devices, request.app.ctx.clock.now().date()))
