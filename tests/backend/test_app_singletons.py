"""Two real backend processes on one PostgreSQL database: each singleton (SMTP intake, SNMP
receiver, sweeper, training notices) runs in exactly one of them; SIGKILL the holder and the other
takes over within a bound, and a P1 reminder due across the takeover is sent exactly once."""

from __future__ import annotations

import asyncio
import signal
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from promptlink.transports.http.schemas.health import Degraded

from testkit.databases import PG_ADMIN_URL, pg_admin, pg_url
from testkit.demo import agent_headers
from testkit.processes import Running, lone_env, start

REDIS = ("127.0.0.1", 6379)
SINGLETONS = ("smtp-intake", "snmp-receiver", "sweeper", "training-notices", "unanswered-turns")
TAKEOVER_BOUND = 30.0  # generous: the design bound is about 1.5 poll intervals (3 s by default)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            return conn.recv(100).startswith(b"220")  # the SMTP greeting
    except OSError:
        return False


def _singletons(backend: Running) -> dict[str, Any]:
    response = httpx.get(backend.base_url + "/api/v1/health", timeout=10)
    body = Degraded.model_validate(response.json())  # Rasa and the action server are down there
    return {name: state.model_dump() for name, state in body.singletons.items()} | {
        "_snmp": body.components.snmp,
        "_failing": body.failing,
    }


def _reminders(database: str, number: str) -> list[str]:
    import asyncpg

    async def query() -> list[str]:
        conn = await asyncpg.connect(pg_url(database).replace("+asyncpg", ""), timeout=5)
        try:
            rows = await conn.fetch(
                "SELECT o.recipient FROM outbox o JOIN tickets t ON t.id = o.ticket_id "
                "WHERE t.number = $1 AND o.subject LIKE '%pendiente%'",
                number,
            )
            return [r["recipient"] for r in rows]
        finally:
            await conn.close()

    return asyncio.run(query())


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[str, list[Running]]]:
    """Two backends on one PostgreSQL database and Redis, distinct ports, every singleton enabled in both."""
    try:
        socket.create_connection(REDIS, timeout=2).close()
    except OSError as exc:
        pytest.skip(f"Redis not reachable at {REDIS[0]}:{REDIS[1]}: {exc}")
    import asyncpg

    name = f"promptlink_lease_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    shared = {
        "PROMPTLINK_DATABASE_URL": pg_url(name),
        "PROMPTLINK_REDIS_URL": f"redis://{REDIS[0]}:{REDIS[1]}/0",
        "PROMPTLINK_REDIS_CHANNEL": f"promptlink-test-{uuid.uuid4().hex[:8]}",
        "PROMPTLINK_LEASE_POLL_SECONDS": "2",  # the default, stated: the takeover figure is for it
        "PROMPTLINK_SWEEPER_INTERVAL_SECONDS": "0.5",
        "PROMPTLINK_REMINDER_LEAD_MINUTES": "600",  # a new P1 (update due in 2 h) is due for its reminder at once
    }
    running: list[Running] = []
    try:
        for label in ("a", "b"):
            var_dir = tmp_path / label
            var_dir.mkdir()
            # As start_lone_backend, with more time to come up: two backends on a loaded 2-core machine.
            running.append(start(var_dir, ["serve"], lone_env(var_dir, **shared), health_timeout=180, accept=(503,)))
        yield name, running
    finally:
        for backend in running:
            backend.stop()
        asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_one_process_runs_each_singleton_and_the_other_takes_over_when_it_dies(
    cluster: tuple[str, list[Running]],
) -> None:
    database, backends = cluster
    smtp_ports = [int(b.env["PROMPTLINK_SMTP_INTAKE_PORT"]) for b in backends]
    assert smtp_ports[0] != smtp_ports[1]

    states = [_singletons(b) for b in backends]
    for name in SINGLETONS:
        assert sorted(s[name]["here"] for s in states) == ["active", "standby"], (name, states)
    holder = next(i for i, s in enumerate(states) if s["smtp-intake"]["here"] == "active")
    standby = 1 - holder
    assert [_listening(port) for port in smtp_ports] == [i == holder for i in range(2)]
    # Both answer health the same way: the standby's SNMP receiver is not a failure.
    for s in states:
        assert "snmp" not in s["_failing"] and s["_snmp"] in ("ok", "standby")
    first_generation = states[0]["smtp-intake"]["generation"]
    assert states[0]["smtp-intake"]["holder"] == states[1]["smtp-intake"]["holder"]

    # A P1 whose reminder is due, filed just before the sweeper's holder dies.
    supervisor = agent_headers(backends[standby].base_url, "supervisor@promptlink.example")
    created = httpx.post(
        f"{backends[standby].base_url}/api/v1/tickets",
        json={
            "customer": "CABLEANDINA",
            "contact": "ana.gomez@cableandina.example",
            "type": "network_outage",
            "title": "Nodo caído en Bogotá",
            "facts": {"production_down": True},
        },
        headers=supervisor,
        timeout=15,
    )
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    assert created.json()["priority"] == 1

    sweeper_holder = next(i for i, s in enumerate(states) if s["sweeper"]["here"] == "active")
    killed = backends[holder]
    killed.process.send_signal(signal.SIGKILL)
    killed.process.wait(timeout=10)
    began = time.monotonic()
    while not _listening(smtp_ports[standby]):
        assert time.monotonic() - began < TAKEOVER_BOUND, "the standby did not start the SMTP intake"
        time.sleep(0.05)
    takeover = time.monotonic() - began
    print(f"\nSMTP intake takeover after SIGKILL of its holder: {takeover:.2f} s (lease poll 2 s)")

    survivor = backends[standby]
    deadline = time.monotonic() + TAKEOVER_BOUND
    while True:
        after = _singletons(survivor)
        if all(after[name]["here"] == "active" for name in SINGLETONS):
            break
        assert time.monotonic() < deadline, after
        time.sleep(0.2)
    assert after["smtp-intake"]["generation"] == first_generation + 1
    assert after["_snmp"] == "ok"

    # The reminder: made by whichever sweeper committed first, never twice.
    deadline = time.monotonic() + TAKEOVER_BOUND
    while not (mails := _reminders(database, number)):
        assert time.monotonic() < deadline, "no reminder was queued"
        time.sleep(0.2)
    time.sleep(2)  # several more sweeps of the survivor (every 0.5 s)
    mails = _reminders(database, number)
    assert mails and len(mails) == len(set(mails)), mails
    print(f"sweeper holder before the kill: process {'ab'[sweeper_holder]}; reminder recipients: {mails}")
