"""Response models of `/api/v1/customers/{code}/devices`."""

from __future__ import annotations

from pydantic import Field

from promptlink.transports.http.api import ResponseModel


class DeviceOut(ResponseModel):
    name: str
    serial: str
    model: str


class CustomerDevices(ResponseModel):
    customer: str = Field(description="Customer code")
    timezone: str = Field(description="IANA time zone, to read «since» on the customer's clock")
    devices: list[DeviceOut] = Field(description="By name")
