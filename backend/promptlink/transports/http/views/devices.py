"""The JSON of `/api/v1/customers/{code}/devices` (shapes in `schemas/devices.py`)."""

from __future__ import annotations

from typing import Any

from promptlink.models import Customer, Device


def customer_devices(customer: Customer, devices: list[Device]) -> dict[str, Any]:
    return {
        "customer": customer.code,
        "timezone": customer.timezone,
        "devices": [{"name": d.name, "serial": d.serial, "model": d.model} for d in devices],
    }
