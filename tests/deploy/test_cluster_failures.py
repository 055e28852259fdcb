"""The deploy/ topology on one machine (`python -m promptlink cluster`: HAProxy, 2 backends, 2 Rasa servers
on a PostgreSQL tracker store with a Redis lock store, the action server), with customers and agents
chatting through HAProxy while a backend and then a Rasa server are SIGKILLed: nothing acknowledged is
lost or stored twice, every turn is answered or its notice shown, and the cluster is healthy again.

The reduced form of bench/cluster.py (200 customers, every failure, rolling restarts).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from testkit.cluster import Agent, ChatLoad, Cluster, Visitor, start_cluster
from testkit.processes import stack_timeout

CUSTOMERS = 20


def _unavailable() -> str | None:
    if shutil.which("haproxy") is None:
        return "haproxy is not installed (apt-get install haproxy)"
    for host, port, what in (("127.0.0.1", 6379, "Redis"), ("127.0.0.1", 5432, "PostgreSQL")):
        try:
            with socket.create_connection((host, port), timeout=2):
                pass
        except OSError as exc:
            return f"{what} not reachable at {host}:{port}: {exc}"
    return None


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    reason = _unavailable()
    if reason:
        pytest.skip(reason)
    running = start_cluster(tmp_path_factory.mktemp("cluster"), timeout=stack_timeout())
    yield running
    running.stop()


async def test_the_demo_works_through_haproxy(cluster: Cluster) -> None:
    async with httpx.AsyncClient(base_url=cluster.public_url, timeout=15) as http:
        assert (await http.get("/")).status_code == 200
        assert (await http.get("/console")).status_code == 200
        # socket.io's polling fallback is pinned to one backend by HAProxy's cookie.
        handshake = await http.get("/socket.io/", params={"EIO": "4", "transport": "polling"})
        assert handshake.status_code == 200
        assert http.cookies.get("SERVERID") in {"backend-1", "backend-2"}
    # The widget through HAProxy: a turn answered by the assistant.
    assert await cluster.probe_turn(timeout=60)
    # Live chat with the customer on one backend and the agent on the other (events through Redis).
    customer = await Visitor(cluster.backend_urls[0]).connect()
    agent = None
    try:
        ack = await customer.send("hola")
        assert ack and await customer.wait_reply(ack["seq"], 60)
        load = ChatLoad(cluster, 0)
        await asyncio.to_thread(load._hand_off, customer.conversation_id)
        token = await asyncio.to_thread(cluster.agent_token, "l2@promptlink.example")
        agent = await Agent(cluster.backend_urls[1], token).connect()
        await agent.watch(customer.conversation_id)
        said = await agent.say(customer.conversation_id, "Hola, le atiende Diego.")
        assert said is not None
        key = (customer.conversation_id, said["seq"])
        for _ in range(200):
            if key in customer.seen:
                break
            await asyncio.sleep(0.05)
        assert customer.seen[key]["text"] == "Hola, le atiende Diego."
        answer = await customer.send("Gracias, Diego.")
        assert answer is not None
        for _ in range(200):
            if (customer.conversation_id, answer["seq"]) in agent.seen:
                break
            await asyncio.sleep(0.05)
        assert agent.seen[(customer.conversation_id, answer["seq"])]["text"] == "Gracias, Diego."
    finally:
        await customer.close()
        if agent is not None:
            await agent.close()


async def _under_traffic(cluster: Cluster, victim: str) -> None:
    load = ChatLoad(cluster, CUSTOMERS, interval=2.0)
    await load.setup()
    load.start()
    try:
        await asyncio.sleep(6)
        old = cluster.kill(victim)
        killed_at = time.monotonic()
        await asyncio.to_thread(cluster.wait_new_pid, victim, old)
        recovered = await cluster.recovery(killed_at)
        await asyncio.sleep(4)  # traffic goes on after recovery
    finally:
        await load.stop()
    tally = await load.tally()
    await load.close()
    print(f"\nSIGKILL {victim}: {tally.row()} recovery {recovered:.1f} s")
    assert load.errors == []
    assert tally.sent > 0 and tally.acked == tally.sent, "every message acknowledged once the clients reconnected"
    assert tally.stored == tally.acked
    assert tally.lost == 0, tally.lost_ids
    assert tally.duplicated == 0
    assert tally.turns > 0 and tally.unanswered == 0, "every turn answered or its notice shown"
    assert tally.answered > 0
    assert cluster.health()[0] == 200


async def test_sigkill_of_a_backend_loses_nothing(cluster: Cluster) -> None:
    # The backend that does not hold the singletons' leases (killing the holder is bench/cluster.py's run).
    holder = cluster.singleton_holder()
    await _under_traffic(cluster, "backend-2" if holder == "backend-1" else "backend-1")


async def test_sigkill_of_a_rasa_server_loses_nothing(cluster: Cluster) -> None:
    await _under_traffic(cluster, "rasa-1")
