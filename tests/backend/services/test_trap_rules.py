"""Trap rules as data: matching, varbind conditions, clears, the enterprise prefix, reloads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from promptlink.services.trap_rules import DEFAULT_RULES, RulesError, RulesFile, parse_rules

LINK_DOWN, LINK_UP = "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.6.3.1.1.5.4"
IF = "1.3.6.1.2.1.2.2.1"


def test_link_down_admin_status_decides_the_rule_and_link_up_clears_the_same_alarm() -> None:
    rules = RulesFile().rules
    down = rules.match(LINK_DOWN, {f"{IF}.1.4": "4", f"{IF}.7.4": "1"})
    shut = rules.match(LINK_DOWN, {f"{IF}.1.4": "4", f"{IF}.7.4": "2"})
    up = rules.match(LINK_UP, {f"{IF}.1.4": "4"})
    assert down and shut and up
    assert (down.rule.name, down.rule.priority, down.clears) == ("link_down", 2, False)
    assert (shut.rule.name, shut.rule.priority) == ("link_down_admin", 4)
    assert up.clears and up.key_suffix == down.key_suffix == shut.key_suffix == "link_down|ifIndex=4"
    assert down.text(down.rule.title, device="cmts-bog-01") == "Enlace caído en cmts-bog-01 (interfaz 4)"
    assert rules.match("1.3.6.1.4.1.9.9.9", {}) is None


def test_vendor_traps_follow_the_configured_enterprise_prefix() -> None:
    rules = RulesFile(enterprise_prefix="1.3.6.1.4.1.4242").rules
    critical = rules.match("1.3.6.1.4.1.4242.0.1", {"1.3.6.1.4.1.4242.1.1": "1", "1.3.6.1.4.1.4242.1.3": "Fuente"})
    minor = rules.match("1.3.6.1.4.1.4242.0.1", {"1.3.6.1.4.1.4242.1.1": "3"})
    clear = rules.match("1.3.6.1.4.1.4242.0.2", {})
    assert critical and critical.rule.priority == 1 and "Fuente" in critical.text(critical.rule.title, device="x")
    assert minor and minor.rule.name == "vendor_alarm" and clear and clear.clears
    assert RulesFile().rules.match("1.3.6.1.4.1.4242.0.1", {}) is None  # the default prefix differs


def test_a_changed_file_is_reloaded_and_a_broken_one_keeps_the_previous_rules(tmp_path: Path) -> None:
    path = tmp_path / "snmp.yml"
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    rules = RulesFile(path)
    assert rules.current().rules[1].priority == 2
    path.write_text(text.replace("    priority: 2\n", "    priority: 1\n", 1), encoding="utf-8")
    os.utime(path, ns=(1, 10**18))
    assert rules.current().rules[1].priority == 1
    path.write_text("rules: [", encoding="utf-8")
    os.utime(path, ns=(1, 2 * 10**18))
    assert rules.current().rules[1].priority == 1
    with pytest.raises(RulesError):
        rules.reload()


OK = {"rules": [{"name": "x", "trap": "1.3", "type": "network_outage", "priority": 2}]}


def test_the_shipped_rules_group_waves_and_batch_notices() -> None:
    correlation = RulesFile().rules.correlation
    assert correlation.device_group_seconds == 60 and correlation.customer_group_seconds == 60
    assert (correlation.notice_quiet_seconds, correlation.notice_max_wait_seconds) == (3, 30)
    assert correlation.notice_hold_max_minutes == 10


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "non-empty `rules`"),
        ({"rules": [{"name": "x", "type": "network_outage", "priority": 2}]}, "needs `trap`"),
        ({"rules": [{"name": "x", "trap": "1.3", "type": "nope", "priority": 2}]}, "unknown ticket type"),
        ({"rules": [{"name": "x", "trap": "1.3", "type": "network_outage", "priority": 7}]}, "priority"),
        ({"rules": [{"name": "x", "trap": "1.3", "type": "network_outage", "priority": 2, "key": ["ifX"]}]}, "ifX"),
        ({**OK, "correlation": {"device_group_seconds": -1}}, "cannot be negative"),
        ({**OK, "correlation": {"notice_quiet_seconds": 10, "notice_max_wait_seconds": 5}}, "notice_max_wait"),
    ],
)
def test_invalid_rules_are_refused_with_the_reason(raw: dict, message: str) -> None:
    with pytest.raises(RulesError, match=message):
        parse_rules(raw)
