"""Response models of `/api/v1/queues` (ticket queues per tier) and `/api/v1/customers`."""

from __future__ import annotations

from pydantic import Field

from promptlink.transports.http.api import ResponseModel
from promptlink.transports.http.schemas.tickets import TicketOut


class TierQueueOut(ResponseModel):
    tier: str = Field(description="L1, L2 or L3")
    total: int = Field(description="Open tickets of the tier (the first 200 are listed)")
    overdue: int = Field(description="Listed tickets whose next update is past due")
    tickets: list[TicketOut] = Field(description="The tickets as `GET /tickets` lists them to staff")


class QueuesOut(ResponseModel):
    now: str = Field(description="The server's time (ISO 8601) the queues were read at")
    queues: list[TierQueueOut]


class ContractOut(ResponseModel):
    kind: str = Field(description="software or hardware")
    starts_on: str = Field(description="ISO 8601 date")
    ends_on: str = Field(description="ISO 8601 date")


class EntitlementOut(ResponseModel):
    software: bool = Field(description="A software support contract is in force today")
    hardware: bool = Field(description="A hardware support contract is in force today")


class ContactOut(ResponseModel):
    email: str
    name: str
    notification_party: bool = Field(description="Informed of every ticket of the company")


class DeviceOut(ResponseModel):
    name: str
    serial: str
    model: str
    address: str = Field(description="Management address (traps from it are this device's)")


class CustomerOut(ResponseModel):
    code: str
    name: str
    timezone: str = Field(description="IANA time zone")
    business_hours: list[str] = Field(description="Start and end, `HH:MM` on the customer's clock")
    contracts: list[ContractOut]
    entitlement: EntitlementOut
    contacts: list[ContactOut]
    devices: list[DeviceOut]


class CustomerList(ResponseModel):
    items: list[CustomerOut]
