"""The JSON of `/api/v1/customers/{code}/deployment-plan` (shapes in `schemas/deployment.py`)."""

from __future__ import annotations

from typing import Any

from promptlink.models import Customer, DeploymentPlan
from promptlink.models.deployment import STAGES
from promptlink.services import deployment as svc


def plan(customer: Customer, found: DeploymentPlan) -> dict[str, Any]:
    return {
        "customer": customer.code,
        "customer_name": customer.name,
        "current_stage": found.stage,
        "current_stage_name": found.stage_name,
        "updated_at": found.updated_at.isoformat(),
        "stages": [{"number": s.number, "name": s.name, "state": s.state} for s in svc.stage_states(found.stage)],
        "history": [
            {
                "stage": change.stage,
                "stage_name": STAGES[change.stage],
                "note": change.note,
                "author": change.author,
                "at": change.at.isoformat(),
            }
            for change in found.history
        ],
    }
