"""Trap rules as data: `rules/snmp.yml` turns a trap into an alarm (or a clear)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptlink.services.yaml_files import read_yaml
from promptlink.vocabulary import PRIORITIES, TYPES

log = logging.getLogger(__name__)

DEFAULT_RULES = Path(__file__).resolve().parents[1] / "rules" / "snmp.yml"


class RulesError(ValueError):
    """The rules file cannot be used; the message says where."""


@dataclass(frozen=True)
class Correlation:
    window_minutes: float = 60
    flapping_cycles: int = 3
    flapping_minutes: float = 10
    escalate_share: float = 0.5
    escalate_min_devices: int = 2
    escalate_priority: int = 1
    # At most this many new tickets per device per window; further alarms join its open ticket.
    device_tickets: int = 5
    device_ticket_window_minutes: float = 60
    # A new alarm of a device joins the device's open ticket of the same rule when that ticket's
    # latest alarm came less than this many seconds before (0: every alarm has its own ticket).
    device_group_seconds: float = 60.0
    # ... else another of the customer's devices' open ticket of the same rule, within this many seconds.
    customer_group_seconds: float = 60.0
    # The customer's notice of a wave goes this long after the wave's latest new alarm ...
    notice_quiet_seconds: float = 3.0
    # ... but at most this long after its first; and it waits for an open form question at most this long.
    notice_max_wait_seconds: float = 30.0
    notice_hold_max_minutes: float = 10.0


@dataclass(frozen=True)
class TrapRule:
    name: str
    type: str
    priority: int
    title: str
    detected: str
    cleared: str = ""
    trap: str = ""
    trap_prefix: str = ""
    when: dict[str, str] = field(default_factory=dict)
    key: tuple[str, ...] = ()
    clear_trap: str = ""
    alarm: str = ""  # correlation name; rules that share it share alarms (default: the rule's name)

    @property
    def alarm_name(self) -> str:
        return self.alarm or self.name

    def matches(self, trap_oid: str, named: dict[str, str]) -> bool:
        if self.trap and trap_oid != self.trap:
            return False
        if self.trap_prefix and not (trap_oid + ".").startswith(self.trap_prefix + "."):
            return False
        return all(named.get(k) == v for k, v in self.when.items())


@dataclass(frozen=True)
class Match:
    """What a trap means: raise or clear the alarm `key_suffix` (alarm name + key varbinds)."""

    rule: TrapRule
    clears: bool
    key_suffix: str
    named: dict[str, str]

    def text(self, template: str, **extra: str) -> str:
        values = {**self.named, **extra}
        try:
            return template.format_map(_Missing(values))
        except (ValueError, IndexError):
            return template


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


@dataclass(frozen=True)
class TrapRules:
    rules: tuple[TrapRule, ...]
    varbinds: dict[str, str]
    correlation: Correlation
    enterprise_prefix: str

    def name_varbinds(self, varbinds: dict[str, str]) -> dict[str, str]:
        """Varbind values by rule name (ifIndex.3 → ifIndex); the instance suffix is ignored."""
        named: dict[str, str] = {}
        for oid, value in varbinds.items():
            for name, prefix in self.varbinds.items():
                if oid == prefix or oid.startswith(prefix + "."):
                    named[name] = value
        return named

    def match(self, trap_oid: str, varbinds: dict[str, str]) -> Match | None:
        """The rule a trap falls under; clearing traps first (a vendor clear shares its raise prefix)."""
        named = self.name_varbinds(varbinds)
        for rule in self.rules:
            if rule.clear_trap and rule.clear_trap == trap_oid:
                return Match(rule, True, _suffix(rule, named), named)
        for rule in self.rules:
            if rule.matches(trap_oid, named):
                return Match(rule, False, _suffix(rule, named), named)
        return None


def _suffix(rule: TrapRule, named: dict[str, str]) -> str:
    return rule.alarm_name + "".join(f"|{k}={named.get(k, '')}" for k in rule.key)


def parse_rules(
    raw: Any, *, enterprise_prefix: str | None = None, correlation_overrides: dict[str, Any] | None = None
) -> TrapRules:
    """Validate a rules document; `enterprise_prefix` and `correlation_overrides` (settings) override the file's."""
    if not isinstance(raw, dict) or not isinstance(raw.get("rules"), list) or not raw["rules"]:
        raise RulesError("snmp rules: a non-empty `rules` list is required")
    prefix = str(enterprise_prefix or raw.get("enterprise_prefix") or "1.3.6.1.4.1.55555").strip(".")

    def oid(value: Any) -> str:
        return str(value).replace("{enterprise}", prefix).strip(".") if value else ""

    varbinds = {str(k): oid(v) for k, v in (raw.get("varbinds") or {}).items()}
    corr = raw.get("correlation") or {}
    if not isinstance(corr, dict):
        raise RulesError("snmp rules: `correlation` must be a mapping")
    corr = {**corr, **{k: v for k, v in (correlation_overrides or {}).items() if v is not None}}
    try:
        correlation = Correlation(**{k: type(getattr(Correlation, k))(v) for k, v in corr.items()})
    except (TypeError, AttributeError, ValueError) as exc:
        raise RulesError(f"snmp rules: bad correlation settings: {exc}") from exc
    if correlation.device_tickets < 1 or correlation.device_ticket_window_minutes <= 0:
        raise RulesError("snmp rules: device_tickets must be at least 1 and device_ticket_window_minutes positive")
    waits = ("device_group_seconds", "customer_group_seconds", "notice_quiet_seconds", "notice_hold_max_minutes")
    if min(getattr(correlation, name) for name in waits) < 0:
        raise RulesError(f"snmp rules: {', '.join(waits)} cannot be negative")
    if correlation.notice_max_wait_seconds < correlation.notice_quiet_seconds:
        raise RulesError("snmp rules: notice_max_wait_seconds cannot be shorter than notice_quiet_seconds")
    rules: list[TrapRule] = []
    for i, item in enumerate(raw["rules"]):
        where = f"snmp rules: rule {i + 1} ({item.get('name', '?') if isinstance(item, dict) else '?'})"
        if not isinstance(item, dict) or not item.get("name"):
            raise RulesError(f"{where}: needs a name")
        if not item.get("trap") and not item.get("trap_prefix"):
            raise RulesError(f"{where}: needs `trap` or `trap_prefix`")
        if item.get("type") not in TYPES:
            raise RulesError(f"{where}: unknown ticket type {item.get('type')!r}")
        if item.get("priority") not in PRIORITIES:
            raise RulesError(f"{where}: priority must be 1-4")
        unknown = [k for k in [*(item.get("when") or {}), *(item.get("key") or [])] if k not in varbinds]
        if unknown:
            raise RulesError(f"{where}: unknown varbind names {unknown} (declare them under `varbinds`)")
        rules.append(
            TrapRule(
                name=str(item["name"]),
                type=str(item["type"]),
                priority=int(item["priority"]),
                title=str(item.get("title") or item["name"]),
                detected=str(item.get("detected") or item.get("title") or item["name"]),
                cleared=str(item.get("cleared") or ""),
                trap=oid(item.get("trap")),
                trap_prefix=oid(item.get("trap_prefix")),
                when={str(k): str(v) for k, v in (item.get("when") or {}).items()},
                key=tuple(str(k) for k in item.get("key") or ()),
                clear_trap=oid(item.get("clear_trap")),
                alarm=str(item.get("alarm") or ""),
            )
        )
    return TrapRules(tuple(rules), varbinds, correlation, prefix)


class RulesFile:
    """The rules of one YAML file, re-read when its modification time changes."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        enterprise_prefix: str | None = None,
        correlation_overrides: dict[str, Any] | None = None,
    ) -> None:
        self.path = path or DEFAULT_RULES
        self.enterprise_prefix = enterprise_prefix
        self.correlation_overrides = correlation_overrides
        self._mtime: int | None = None
        self.rules = self.reload()

    def reload(self) -> TrapRules:
        """Read the file now; a broken file raises RulesError and the previous rules stay."""
        raw, mtime = read_yaml(self.path, RulesError)
        self.rules = parse_rules(
            raw, enterprise_prefix=self.enterprise_prefix, correlation_overrides=self.correlation_overrides
        )
        self._mtime = mtime
        return self.rules

    def current(self) -> TrapRules:
        """The rules, reloaded first if the file changed (a broken edit keeps the old rules)."""
        try:
            mtime = os.stat(self.path).st_mtime_ns
            if mtime != self._mtime:
                self._mtime = mtime  # one log line per broken edit, not one per batch
                self.reload()
                log.info("snmp rules reloaded", extra={"path": str(self.path), "rules": len(self.rules.rules)})
        except (OSError, RulesError) as exc:
            log.error("snmp rules not reloaded; the previous rules stay", extra={"error": str(exc)})
        return self.rules
