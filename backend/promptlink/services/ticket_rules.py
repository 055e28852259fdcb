"""Priority (P1–P4) and routing (L1/L2/L3) decisions, driven by the YAML rule tables."""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from promptlink.services.errors import InvalidInput
from promptlink.vocabulary import TYPES

RULES_DIR = Path(__file__).resolve().parents[1] / "rules"


@dataclass(frozen=True)
class IncidentFacts:
    """Structured facts that mirror the priority definitions (docs/support-plan.md#priorities)."""

    production_down: bool = False
    severely_damaged: bool = False
    damaged: bool = False
    solution_available: bool = False
    most_operations_proceed: bool = True
    information_request: bool = False

    @classmethod
    def from_dict(cls, raw: Any) -> IncidentFacts:
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise InvalidInput("facts must be an object", public="Los datos del incidente no son válidos.")
        known = {f.name for f in fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise InvalidInput(
                f"unknown facts: {', '.join(sorted(unknown))}", public="Los datos del incidente no son válidos."
            )
        for key, value in raw.items():
            if not isinstance(value, bool):
                raise InvalidInput(
                    f"fact {key} must be true or false", public="Los datos del incidente no son válidos."
                )
        return cls(**raw)

    def as_dict(self) -> dict[str, bool]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class PriorityDecision:
    priority: int
    reason: str


@dataclass(frozen=True)
class RoutingDecision:
    tier: str
    rule: str
    reason: str
    open_bug: bool = False
    rma: bool = False
    quote_request: bool = False


@cache
def _load(name: str) -> dict[str, list[dict[str, Any]]]:
    with (RULES_DIR / f"{name}.yml").open(encoding="utf-8") as handle:
        table: dict[str, list[dict[str, Any]]] = yaml.safe_load(handle)
    first = "rules" if name == "priority" else "tiers"
    if not table.get(first) or table[first][-1].get("when") != {}:
        raise ValueError(f"{name}.yml: `{first}` must end with a catch-all rule (when: {{}})")
    return table


def reload_rules() -> None:
    """Forget the cached rule tables (after editing the YAML files)."""
    _load.cache_clear()


def classify_priority(facts: IncidentFacts) -> PriorityDecision:
    """The plan's priority for these facts (first matching rule of rules/priority.yml)."""
    values = facts.as_dict()
    for rule in _load("priority")["rules"]:
        if all(values[k] == v for k, v in rule["when"].items()):
            return PriorityDecision(int(rule["priority"]), " ".join(rule["reason"].split()))
    raise AssertionError("unreachable: the catch-all rule matches")


def _matches(
    when: dict[str, Any], *, ticket_type: str, priority: int, complex_case: bool, hardware_covered: bool
) -> bool:
    return (
        ("priority" not in when or priority in when["priority"])
        and ("types" not in when or ticket_type in when["types"])
        and ("complex" not in when or complex_case == when["complex"])
        and ("hardware_covered" not in when or hardware_covered == when["hardware_covered"])
    )


def route_ticket(*, ticket_type: str, priority: int, complex_case: bool, hardware_covered: bool) -> RoutingDecision:
    """Tier and follow-ups (bug, RMA, hardware quote) for a ticket, from rules/routing.yml."""
    if ticket_type not in TYPES:
        raise InvalidInput(f"unknown ticket type {ticket_type!r}", public="El tipo de incidencia no es válido.")
    table = _load("routing")

    def matches(when: dict[str, Any]) -> bool:
        return _matches(
            when,
            ticket_type=ticket_type,
            priority=priority,
            complex_case=complex_case,
            hardware_covered=hardware_covered,
        )

    tier_rule = next(r for r in table["tiers"] if matches(r["when"]))
    follow = [r for r in table.get("follow_ups", []) if matches(r["when"])]
    return RoutingDecision(
        tier=tier_rule["tier"],
        rule=tier_rule["name"],
        reason=tier_rule["reason"],
        open_bug=any(r.get("open_bug") for r in follow),
        rma=any(r.get("rma") for r in follow),
        quote_request=any(r.get("quote_request") for r in follow),
    )
