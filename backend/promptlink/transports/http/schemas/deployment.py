"""Request and response models of `/api/v1/customers/{code}/deployment-plan`."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from promptlink.services.deployment import MAX_NOTE
from promptlink.transports.http.api import RequestModel, ResponseModel
from promptlink.transports.http.schemas.common import checked


class PlanMove(RequestModel):
    # Checked by `services.deployment.move_stage` («stage must be an integer from 1 to 5» is the tested message).
    stage: Any = checked("The stage to move to (forward or back)", type="integer", minimum=1, maximum=5)
    note: Any = checked("Why (logged with the move)", type="string", maxLength=MAX_NOTE)


class StageOut(ResponseModel):
    number: int
    name: str
    state: str = Field(description="done, current or pending")


class StageChangeOut(ResponseModel):
    stage: int
    stage_name: str
    note: str
    author: str
    at: str


class PlanOut(ResponseModel):
    customer: str
    customer_name: str
    current_stage: int
    current_stage_name: str
    updated_at: str
    stages: list[StageOut]
    history: list[StageChangeOut] = Field(description="Every stage change, oldest first")
