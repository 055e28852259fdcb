"""The JSON of `/api/v1/alarms` (shapes in `schemas/alarms.py`)."""

from __future__ import annotations

from typing import Any

from promptlink.models import Alarm
from promptlink.services.alarm_queries import OpenAlarms
from promptlink.services.alarms import Outcome, alarm_json
from promptlink.services.trap_rules import TrapRules


def open_alarms(found: OpenAlarms) -> dict[str, Any]:
    """Every customer's open alarms (times in UTC), or one customer's on its own clock."""
    customer = found.customer
    if customer is None:
        return alarm_list(found.alarms)
    return {
        "customer": customer.code,
        "customer_name": customer.name,
        "alarms": [alarm_json(a, timezone=customer.timezone) for a in found.alarms],
    }


def alarm_list(alarms: list[Alarm]) -> dict[str, Any]:
    return {"alarms": [alarm_json(a) for a in alarms]}


def assigned(alarm: Alarm, outcome: Outcome) -> dict[str, Any]:
    return {"alarm": alarm_json(alarm), "tickets": outcome.tickets, "notices": len(outcome.messages)}


def rules_reloaded(rules: TrapRules) -> dict[str, Any]:
    return {"rules": [r.name for r in rules.rules], "enterprise_prefix": rules.enterprise_prefix}
