"""Request and response models of `/api/v1/rmas` (hardware replacements)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from promptlink.transports.http.api import RequestModel, ResponseModel
from promptlink.transports.http.schemas.common import EventOut, PageQuery

RmaStatus = Literal["requested", "approved", "shipped", "delivered", "closed"]


class RmaListQuery(PageQuery):
    status: RmaStatus | None = Field(None, description="Only RMAs in this status")
    customer: str | None = Field(None, max_length=64, description="Customer code (staff only)")


class RmaUpdate(RequestModel):
    status: str = Field(max_length=32, description="The next status: approved, shipped (tracking required), "
                        "delivered or closed")
    tracking: str | None = Field(None, max_length=100, description="Carrier tracking number (for shipped)")


class RmaOut(ResponseModel):
    number: str | None
    ticket: str | None = Field(description="The hardware-failure ticket that opened it")
    customer: str
    device: str | None
    serial: str
    shipping_method: str
    status: RmaStatus
    status_name: str = Field(description="The status in Spanish")
    next_statuses: list[str]
    tracking: str
    created_at: str
    updated_at: str


class RmaList(ResponseModel):
    items: list[RmaOut]


class RmaUpdated(ResponseModel):
    rma: RmaOut
    event: EventOut
