"""SNMP trap receiver against a real backend (issue #13: F2, F10 and the traps part of the abuse run).

F2: the configured minimum v3 security level (default authPriv) is enforced: net-snmp's
`snmptrap -l noAuthNoPriv|authNoPriv` naming the configured user and engine id (both travel in
clear text) open nothing; only authPriv opens an alarm.
F10: the device is the trap's authenticated source (the UDP source address, or an agent address
only from a configured trusted relay), never a varbind the sender chooses; a flood of traps with
distinct keys opens at most the configured number of tickets per device and window, and the rest
of the alarms are attached to the device's open ticket.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pysnmp.proto.rfc1902 import Integer

from testkit.demo import DEMO_PASSWORDS, SERVICE_TOKEN, agent_token
from testkit.metrics import by_series
from testkit.processes import Running, start_lone_backend
from testkit.traps import COLD_START, ENGINE_ID, LINK_DOWN, link_varbinds, snmptrap, v2c_packet

SERVICE = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
SNMP_TRAP_ADDRESS = "1.3.6.1.6.3.18.1.3.0"
FLOOD = 50
DEVICE_TICKETS = 5  # PROMPTLINK_SNMP_DEVICE_TICKETS's default


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """A backend of its own (demo configuration): the traps' tickets do not reach other tests."""
    running = start_lone_backend(tmp_path_factory.mktemp("security-snmp"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def staff(backend: Running) -> dict[str, str]:
    email = "supervisor@promptlink.example"
    return {"Authorization": f"Bearer {agent_token(backend.base_url, email, DEMO_PASSWORDS[email])}"}


def _port(backend: Running) -> int:
    return int(backend.env["PROMPTLINK_SNMP_PORT"])


def _metrics(backend: Running) -> dict[str, float]:
    text = httpx.get(f"{backend.base_url}/api/v1/metrics", headers=SERVICE, timeout=10).text
    return {k: v for k, v in by_series(text).items() if k.startswith("promptlink_snmp_")}


def _handled(backend: Running) -> float:
    """Traps processed or dropped after the engine accepted them (what `settle` waits for)."""
    m = _metrics(backend)
    dropped = sum(v for k, v in m.items() if k.startswith("promptlink_snmp_traps_dropped_total"))
    return m.get("promptlink_snmp_traps_processed_total", 0) + dropped


def _settle(backend: Running, before: float, count: int, *, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = _metrics(backend)
        if _handled(backend) - before >= count and m.get("promptlink_snmp_queue_depth", 1) == 0:
            return
        time.sleep(0.1)
    raise TimeoutError(f"traps not handled: {_metrics(backend)}")


def _alarms(backend: Running, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = httpx.get(f"{backend.base_url}/api/v1/alarms", headers=headers, params=params, timeout=10)
    response.raise_for_status()
    alarms: list[dict[str, Any]] = response.json()["alarms"]
    return alarms


def _unassigned(backend: Running, staff: dict[str, str]) -> list[dict[str, Any]]:
    response = httpx.get(f"{backend.base_url}/api/v1/alarms/unassigned", headers=staff, timeout=10)
    response.raise_for_status()
    alarms: list[dict[str, Any]] = response.json()["alarms"]
    return alarms


def _v3(level: str) -> list[str]:
    """snmptrap options of a v3 trap at `level` as the demo user with the demo engine id."""
    args = ["-v", "3", "-e", f"0x{ENGINE_ID}", "-u", "promptlink", "-l", level]
    if level in ("authNoPriv", "authPriv"):
        args += ["-a", "SHA-256", "-A", "demo-auth-pass"]
    if level == "authPriv":
        args += ["-x", "AES", "-X", "demo-priv-pass"]
    return args


def test_only_auth_priv_v3_traps_open_an_alarm(backend: Running, staff: dict[str, str]) -> None:
    """F2: noAuthNoPriv and authNoPriv traps naming the configured user and engine id are dropped."""
    port = _port(backend)
    before = _handled(backend)
    for level, if_index in (("noAuthNoPriv", 101), ("authNoPriv", 102), ("authPriv", 103)):
        snmptrap(port, *_v3(level), "--", "", LINK_DOWN, *link_varbinds(if_index), client="127.0.0.21")
    _settle(backend, before, 3)
    titles = [a["title"] for a in _alarms(backend, staff, customer="CABLEANDINA", limit=100)]
    assert any("interfaz 103" in t for t in titles), titles
    assert not any("interfaz 101" in t or "interfaz 102" in t for t in titles), titles
    metrics = _metrics(backend)
    assert metrics.get('promptlink_snmp_traps_dropped_total{reason="security_level"}') == 2, metrics
    assert "below the minimum" in backend.log() and "noAuthNoPriv" in backend.log()


def test_a_varbind_cannot_choose_another_customers_device(backend: Running, staff: dict[str, str]) -> None:
    """F10: snmpTrapAddress.0 (v2c) and the v1 agent-addr naming TeleCaribe's OLT from an unknown
    address neither reach TeleCaribe nor open a ticket: the alarm waits unassigned under the real source."""
    port = _port(backend)
    before = _handled(backend)
    snmptrap(port, "-v", "2c", "-c", "public", "--", "", COLD_START, SNMP_TRAP_ADDRESS, "a", "127.0.0.31",
             client="127.0.0.50")  # fmt: skip
    snmptrap(port, "-v", "1", "-c", "public", "--", "1.3.6.1.4.1.8072", "127.0.0.31", "0", "0", "",
             client="127.0.0.51")  # fmt: skip
    _settle(backend, before, 2)
    assert _alarms(backend, staff, customer="TELECARIBE") == []
    sources = {a["source_address"] for a in _unassigned(backend, staff)}
    assert {"127.0.0.50", "127.0.0.51"} <= sources and "127.0.0.31" not in sources


def test_a_flood_of_distinct_keys_opens_a_bounded_number_of_tickets(backend: Running, staff: dict[str, str]) -> None:
    """F10 + abuse run: 50 linkDown traps with distinct ifIndex from one device open at most
    DEVICE_TICKETS tickets; every alarm is recorded and attached to one of them."""
    port = _port(backend)
    before = _handled(backend)
    packets = [
        v2c_packet("public", LINK_DOWN, [(f"1.3.6.1.2.1.2.2.1.1.{i}", Integer(i))], request_id=i)
        for i in range(1000, 1000 + FLOOD)
    ]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.22", 0))
        for packet in packets:
            sock.sendto(packet, ("127.0.0.1", port))
    _settle(backend, before, FLOOD, timeout=45)
    alarms = [
        a
        for a in _alarms(backend, staff, customer="CABLEANDINA", limit=100)
        if a["device"] == "cmts-bog-02" and re.search(r"interfaz 1\d\d\d\b", a["title"])
    ]
    assert len(alarms) == FLOOD  # nothing lost: every trap is an alarm
    tickets = {a["ticket"] for a in alarms}
    assert None not in tickets and 1 <= len(tickets) <= DEVICE_TICKETS, tickets
    # Within a minute they are one wave of the device (device_group_seconds): one ticket lists them all,
    # before the per-device bound (which still holds for alarms outside a wave) is reached.
    assert len(tickets) == 1, tickets


async def test_the_receiver_still_serves_after_the_abuse(backend: Running, staff: dict[str, str]) -> None:
    """After the drops and the flood, an authPriv trap still reaches the customer at once."""
    port = _port(backend)
    before = _handled(backend)
    await asyncio.to_thread(
        snmptrap, port, *_v3("authPriv"), "--", "", LINK_DOWN, *link_varbinds(104), client="127.0.0.21"
    )
    await asyncio.to_thread(_settle, backend, before, 1)
    titles = [a["title"] for a in _alarms(backend, staff, customer="CABLEANDINA", limit=100)]
    assert any("interfaz 104" in t for t in titles), titles


def test_trap_trust_settings_default_to_the_safe_side(tmp_path: Any) -> None:
    """authPriv by default; community traps only in demo mode (or when set); relays must be addresses."""
    from promptlink.infra.settings import DEMO_SECRETS, Settings, SettingsError

    secrets = {name: f"{name}-{'x' * 40}" for name in DEMO_SECRETS}
    production = Settings(demo=False, var_dir=tmp_path, snmp_communities=["legacy-community"], **secrets)
    assert production.snmp_allow_communities is False and production.snmp_v3_users == []
    demo = Settings(demo=True, var_dir=tmp_path)
    assert demo.snmp_min_security_level == "authPriv" and demo.snmp_allow_communities is True
    assert demo.snmp_trusted_relays == []
    assert Settings(demo=True, var_dir=tmp_path, snmp_allow_communities=False).snmp_allow_communities is False
    with pytest.raises(SettingsError, match="PROMPTLINK_SNMP_TRUSTED_RELAYS"):
        Settings(demo=True, var_dir=tmp_path, snmp_trusted_relays=["not-an-address"])
    with pytest.raises(ValueError):
        Settings(demo=True, var_dir=tmp_path, snmp_min_security_level="none")
