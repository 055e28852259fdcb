"""Live chat that survives the backend: a SIGKILL and restart in the middle of an exchange, and
two backend processes sharing PostgreSQL and Redis (customer on one, agent on the other)."""

from __future__ import annotations

import asyncio
import signal
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit.chat_client import widget_token
from testkit.databases import PG_ADMIN_URL, pg_admin, pg_url
from testkit.demo import DEMO_PASSWORDS, agent_token, service_headers
from testkit.live_clients import SEND_ERRORS, AgentPeer, Customer, _Peer
from testkit.processes import Running, start, start_lone_backend, start_redis

ANA = "ana.gomez@cableandina.example"
REDIS = ("127.0.0.1", 6379)


def _token(base: str, who: str) -> str:
    email = f"{who}@promptlink.example"
    return agent_token(base, email, DEMO_PASSWORDS[email])


async def _reconnect(peer: _Peer, timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            await peer.connect()  # type: ignore[attr-defined]
            return
        except (*SEND_ERRORS, OSError):
            if asyncio.get_running_loop().time() > deadline:
                raise
            await peer.drop()
            await asyncio.sleep(0.5)


def _post(base: str, path: str, headers: dict[str, str], **kw: Any) -> httpx.Response:
    return httpx.post(f"{base}/api/v1{path}", headers=headers, timeout=15, **kw)


async def _live_pair(customer_base: str, agent_base: str) -> tuple[Customer, AgentPeer, str]:
    customer = await Customer(customer_base, widget_token(customer_base, ANA)).connect()
    cid = customer.conversation_id or ""
    handoff = {"tier": "L2", "reason": "x"}
    response = _post(customer_base, f"/conversations/{cid}/handoff", service_headers(conversation_id=cid), json=handoff)
    assert response.status_code == 200, response.text
    token = _token(agent_base, "l2")
    claimed = _post(agent_base, f"/conversations/{cid}/claim", {"Authorization": f"Bearer {token}"})
    assert claimed.status_code == 200, claimed.text
    agent = await AgentPeer(agent_base, token).connect()
    await agent.watch(cid)
    return customer, agent, cid


def _transcript(base: str, cid: str) -> list[dict[str, Any]]:
    token = _token(base, "supervisor")
    response = httpx.get(f"{base}/api/v1/conversations/{cid}", headers={"Authorization": f"Bearer {token}"}, timeout=15)
    assert response.status_code == 200, response.text
    return response.json()["messages"]  # type: ignore[no-any-return]


def _assert_complete(stored: list[dict[str, Any]], peers: list[_Peer], rounds: int) -> None:
    seqs = [m["seq"] for m in stored]
    assert seqs == list(range(1, len(seqs) + 1))
    for who in ("cliente", "agente"):
        texts = [m["text"] for m in stored if m["text"].startswith(who + " ")]
        assert texts == [f"{who} {n}" for n in range(rounds)], f"{who}: lost, duplicated or reordered"
    for peer in peers:
        assert not peer.pending
        assert set(peer.seen) | set(peer.acked.values()) == set(seqs)


async def _wait_all_seen(peers: list[_Peer], last: int) -> None:
    for _ in range(200):
        if all(set(p.seen) | set(p.acked.values()) >= set(range(1, last + 1)) for p in peers):
            return
        await asyncio.sleep(0.05)


async def test_sigkill_of_the_backend_loses_nothing(tmp_path: Path) -> None:
    (tmp_path / "killed").mkdir()
    # Rate limits have their own test; here the exchange runs at full speed.
    running = start_lone_backend(tmp_path / "killed", PROMPTLINK_CHAT_RATE_BURST="1000")
    base = running.base_url
    customer, agent, cid = await _live_pair(base, base)
    try:
        rounds = 30
        for n in range(rounds):
            if n == 12:
                # Messages in flight when the process dies: some stored without an ack, some never.
                sending = [
                    asyncio.ensure_future(customer.send(f"cliente {n}")),
                    asyncio.ensure_future(agent.say(f"agente {n}")),
                ]
                await asyncio.sleep(0.01)
                running.process.send_signal(signal.SIGKILL)
                running.process.wait(timeout=10)
                await asyncio.gather(*sending)
                await customer.drop()
                await agent.drop()
                running = start(running.var_dir, ["serve"], running.env, health_timeout=90, accept=(200, 503))
                await _reconnect(customer)
                await _reconnect(agent)
                continue
            await customer.send(f"cliente {n}")
            await agent.say(f"agente {n}")
        stored = _transcript(base, cid)
        await _wait_all_seen([customer, agent], stored[-1]["seq"])
        _assert_complete(stored, [customer, agent], rounds)
    finally:
        await customer.close()
        await agent.close()
        running.stop()


def _redis_up() -> str | None:
    try:
        with socket.create_connection(REDIS, timeout=2):
            return None
    except OSError as exc:
        return f"Redis not reachable at {REDIS[0]}:{REDIS[1]}: {exc}"


@contextmanager
def _backends_on(tmp_path: Path, redis_url: str) -> Iterator[tuple[Running, Running]]:
    """Two backend processes on one PostgreSQL database and one Redis channel."""
    import asyncpg

    name = f"promptlink_two_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    shared = {
        "PROMPTLINK_DATABASE_URL": pg_url(name),
        "PROMPTLINK_REDIS_URL": redis_url,
        "PROMPTLINK_REDIS_CHANNEL": f"promptlink-test-{uuid.uuid4().hex[:8]}",
        "PROMPTLINK_CHAT_RATE_BURST": "1000",
    }
    first: Running | None = None
    second: Running | None = None
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    try:
        first = start_lone_backend(tmp_path / "a", **shared)
        # The SMTP intake runs in one process anyway (its lease); switched off, this one never even competes.
        second = start_lone_backend(tmp_path / "b", PROMPTLINK_SMTP_INTAKE_ENABLED="false", **shared)
        yield first, second
    finally:
        for running in (first, second):
            if running is not None:
                running.stop()
        asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def two_backends(tmp_path: Path) -> Iterator[tuple[Running, Running]]:
    reason = _redis_up()
    if reason:
        pytest.skip(reason)
    with _backends_on(tmp_path, f"redis://{REDIS[0]}:{REDIS[1]}/0") as backends:
        yield backends


async def test_customer_on_one_process_and_agent_on_the_other(two_backends: tuple[Running, Running]) -> None:
    first, second = two_backends
    assert first.process.pid != second.process.pid and first.base_url != second.base_url
    customer, agent, cid = await _live_pair(first.base_url, second.base_url)
    try:
        # The handoff notice, the agent's name and typing cross processes through Redis.
        assert await customer.wait_event("agent_joined") == {"name": "Diego Nivel Dos", "tier": "L2"}
        await customer.emit("typing", {"on": True})
        assert (await agent.wait_event("typing"))["role"] == "customer"
        await agent.emit("typing", {"conversation_id": cid, "on": True})
        assert (await customer.wait_event("typing", lambda d: d.get("role") == "agent"))["on"] is True
        rounds = 20
        for n in range(rounds):
            await customer.send(f"cliente {n}")
            await agent.say(f"agente {n}")
        # A second tab of the same customer on the other process sees the same conversation.
        tab = Customer(second.base_url, customer.identity)
        tab.conversation_id = cid
        await tab.connect()
        stored = _transcript(second.base_url, cid)
        await _wait_all_seen([customer, agent, tab], stored[-1]["seq"])
        _assert_complete(stored, [customer, agent], rounds)
        assert set(tab.seen) == {m["seq"] for m in stored}
        await tab.close()
    finally:
        await customer.close()
        await agent.close()


async def _disconnected(peer: _Peer, timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while peer.sio.connected:
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the backend did not make the client reconnect after the Redis restart")
        await asyncio.sleep(0.05)


@pytest.fixture
def two_backends_on_private_redis(private_redis, tmp_path: Path) -> Iterator[tuple[Running, Running]]:
    port, _processes = private_redis
    with _backends_on(tmp_path, f"redis://127.0.0.1:{port}/0") as backends:
        yield backends


async def test_a_redis_restart_loses_no_live_chat_message(
    two_backends_on_private_redis: tuple[Running, Running], private_redis, tmp_path: Path
) -> None:
    """What crosses processes while Redis restarts is published nowhere; once the bus is back each
    backend makes its clients reconnect, and they resume from their last seq (transports/socket/bus.py)."""
    port, redis_processes = private_redis
    first, second = two_backends_on_private_redis
    customer, agent, cid = await _live_pair(first.base_url, second.base_url)
    try:
        rounds = 12
        for n in range(rounds):
            if n == 4:
                redis_processes[0].terminate()
                redis_processes[0].wait(10)
            if n == 7:
                redis_processes.append(start_redis(port, tmp_path))
                # The customer (on the first process) missed the agent's lines 4-6, and the agent
                # the customer's: both are told to reconnect, and catch up.
                await asyncio.gather(_disconnected(customer), _disconnected(agent))
                await customer.drop()
                await agent.drop()
                await _reconnect(customer)
                await _reconnect(agent)
            await customer.send(f"cliente {n}")
            await agent.say(f"agente {n}")
        stored = _transcript(second.base_url, cid)
        await _wait_all_seen([customer, agent], stored[-1]["seq"])
        _assert_complete(stored, [customer, agent], rounds)
    finally:
        await customer.close()
        await agent.close()
