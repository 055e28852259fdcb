"""The production files under deploy/ are valid for the tools that read them: systemd's own
checker on every unit, HAProxy's on its configuration, YAML for Rasa's endpoints."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


def test_the_units_are_the_documented_ones() -> None:
    assert [u.name for u in UNITS] == [
        "promptlink-actions.service",
        "promptlink-backend@.service",
        "promptlink-rasa@.service",
        "promptlink-snmp.service",
    ]
    for unit in UNITS:
        text = unit.read_text()
        for hardening in ("NoNewPrivileges=yes", "ProtectSystem=strict", "Restart=on-failure"):
            assert hardening in text, f"{unit.name}: {hardening} missing"
        assert "EnvironmentFile=/etc/promptlink/secrets.env" in text, f"{unit.name}: secrets not from a file"
        assert "TOKEN=" not in text and "SECRET=" not in text, f"{unit.name}: a secret in the unit itself"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verify_accepts_every_unit(tmp_path: Path) -> None:
    # The units name the install prefix /opt/promptlink; systemd checks that ExecStart exists, so
    # they are verified with the prefix pointing at this checkout (same interpreters, same layout).
    copies = []
    for unit in UNITS:
        copy = tmp_path / unit.name
        copy.write_text(unit.read_text().replace("/opt/promptlink", str(ROOT)))
        copies.append(str(copy))
    result = subprocess.run(
        ["systemd-analyze", "verify", *copies], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "promptlink" not in result.stderr, result.stderr  # no warning about our units either


def test_systemd_analyze_verify_rejects_a_broken_unit(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    broken = tmp_path / "promptlink-broken.service"
    broken.write_text("[Service]\nExecStart=/nonexistent/python -m promptlink serve\n")
    result = subprocess.run(["systemd-analyze", "verify", str(broken)], capture_output=True, text=True, check=False)
    assert result.returncode != 0  # the check above can fail


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed (apt-get install haproxy)")
def test_haproxy_accepts_the_configuration() -> None:
    result = subprocess.run(
        ["haproxy", "-c", "-f", str(DEPLOY / "haproxy.cfg")], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Configuration file is valid" in result.stdout + result.stderr


def test_haproxy_configuration_has_what_socket_io_needs() -> None:
    text = (DEPLOY / "haproxy.cfg").read_text()
    assert "cookie SERVERID insert indirect nocache" in text  # sticky polling sessions
    assert "timeout tunnel" in text  # websockets outlive `timeout client`
    assert "option httpchk GET /api/v1/health" in text
    assert "stats socket" in text
    assert "ssl crt" in text  # TLS termination documented


def test_rasa_endpoints_share_a_postgresql_tracker_store_and_a_redis_lock_store() -> None:
    endpoints = yaml.safe_load((DEPLOY / "rasa" / "endpoints.yml").read_text())
    assert endpoints["tracker_store"]["type"] == "bot.tracker_store.PromptlinkSQLTrackerStore"
    assert endpoints["tracker_store"]["dialect"] == "postgresql"
    assert endpoints["lock_store"]["type"] == "redis"
    assert endpoints["action_endpoint"]["headers"]["Authorization"] == "Bearer ${PROMPTLINK_ACTIONS_TOKEN}"
