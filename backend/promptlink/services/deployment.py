"""Deployment plans: each customer's Individual Deployment Plan through its five stages.

The stages are the support plan's (docs/support-plan.md#deployment-plan).

The plan is read by staff, by the customer and by the assistant (on the customer's
behalf); staff move it forward or back, and every move is kept with its author.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Customer, DeploymentPlan, DeploymentStageChange
from promptlink.models.deployment import STAGES
from promptlink.services.errors import InvalidInput, NotFound

MAX_NOTE = 2_000
STAGE_STATES = ("done", "current", "pending")


@dataclass(frozen=True)
class StageView:
    number: int
    name: str
    state: str  # done | current | pending


def stage_states(current: int) -> list[StageView]:
    """The five stages, each done, current or pending relative to `current`."""
    return [
        StageView(number, name, "done" if number < current else "current" if number == current else "pending")
        for number, name in STAGES.items()
    ]


async def get_customer(*, session: AsyncSession, code: str) -> Customer:
    customer = await session.scalar(select(Customer).where(Customer.code == code))
    if customer is None:
        raise NotFound(f"customer {code} not found", public="El cliente no existe.")
    return customer


async def get_plan(*, session: AsyncSession, customer: Customer) -> DeploymentPlan:
    plan = await session.scalar(select(DeploymentPlan).where(DeploymentPlan.customer_id == customer.id))
    if plan is None:
        raise NotFound(
            f"customer {customer.code} has no deployment plan", public="El cliente no tiene un plan de despliegue."
        )
    return plan


def _stage(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in STAGES:
        raise InvalidInput("stage must be an integer from 1 to 5", public="La etapa debe ser un número del 1 al 5.")
    return value


def _note(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_NOTE:
        raise InvalidInput(
            f"note must be text of at most {MAX_NOTE} characters", public="La nota no es válida o es demasiado larga."
        )
    return value.strip()


async def move_stage(
    *, session: AsyncSession, customer: Customer, stage: Any, note: Any, author: str, now: datetime
) -> DeploymentPlan:
    """Move the customer's plan to `stage` (forward or back) and log the move.

    A customer without a plan gets one, starting at `stage`.
    """
    stage = _stage(stage)
    note = _note(note)
    plan = await session.scalar(select(DeploymentPlan).where(DeploymentPlan.customer_id == customer.id))
    if plan is None:
        plan = DeploymentPlan(customer_id=customer.id, stage=stage, updated_at=now)
        session.add(plan)
        await session.flush()
    elif plan.stage == stage:
        raise InvalidInput(
            f"the plan is already at stage {stage}", public=f"El plan ya está en la etapa {stage}: {STAGES[stage]}."
        )
    plan.stage, plan.updated_at = stage, now
    session.add(DeploymentStageChange(plan_id=plan.id, stage=stage, note=note, author=author, at=now))
    await session.flush()
    await session.refresh(plan, ["history"])
    return plan
