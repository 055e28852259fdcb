"""Request and response models of `/api/v1/alarms` (equipment alarms) and `/api/v1/metrics`."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, RootModel, WithJsonSchema

from promptlink.transports.http.api import QueryModel, RequestModel, ResponseModel


class OpenAlarmsQuery(QueryModel):
    limit: int = Field(20, ge=1, le=100, description="How many alarms (1–100)")
    customer: str | None = Field(None, max_length=64, description="Customer code (staff only)")


class UnassignedQuery(QueryModel):
    limit: int = Field(100, ge=1, le=500, description="How many alarms (1–500)")


class AssignIn(RequestModel):
    # Checked by `services.alarms.assign_alarm` (its message, «Indique el nombre del equipo.», is the tested one).
    device: Annotated[Any, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 100})] = Field(
        None, description="The name of the customer device that sent the alarm"
    )


class AlarmOut(ResponseModel):
    id: int
    title: str
    rule: str
    state: str = Field(description="open or cleared")
    priority: int
    count: int = Field(description="Traps folded into this alarm")
    flapping: bool
    device: str | None
    source_address: str
    customer: str | None = Field(description="Customer code; none for equipment no customer owns")
    ticket: str | None = Field(description="The ticket the alarm opened or joined")
    trap_oid: str
    first_seen: str = Field(description="ISO 8601 time")
    last_seen: str = Field(description="ISO 8601 time")
    last_seen_local: str = Field(description="`dd/mm/yyyy HH:MM` on the clock of `timezone`")
    timezone: str
    cleared_at: str | None


class OpenAlarms(ResponseModel):
    """One customer's open alarms (`customer`, `customer_name` set), or every customer's (staff)."""

    customer: str | None = Field(None, description="Present when the list is one customer's")
    customer_name: str | None = Field(None, description="Present when the list is one customer's")
    alarms: list[AlarmOut]


class AlarmList(ResponseModel):
    alarms: list[AlarmOut]


class AlarmAssigned(ResponseModel):
    alarm: AlarmOut
    tickets: int = Field(description="Tickets opened for the alarms now attached to the device")
    notices: int = Field(description="Messages written to the customer's chats")


class RulesReloaded(ResponseModel):
    rules: list[str] = Field(description="The rules' names, in file order")
    enterprise_prefix: str


class PrometheusText(RootModel[str]):
    """Prometheus text exposition format (version 0.0.4)."""
