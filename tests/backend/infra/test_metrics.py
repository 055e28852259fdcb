"""Prometheus metrics of a backend process: every sample labelled with the process, and the
figures move with what happens (a chat turn, a handoff, a claim, a trap, HTTP requests).

One real backend process (Rasa down, as `start_lone_backend` runs it) and a real chat socket;
the exposition is read with prometheus-client's own parser."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from promptlink.infra import metrics
from promptlink.infra.db import create_engine
from sqlalchemy import text

from testkit.chat_client import ChatClient, widget_token
from testkit.demo import SERVICE_TOKEN, agent_headers
from testkit.metrics import by_series, processes
from testkit.processes import Running, start_lone_backend
from testkit.traps import LINK_DOWN, link_varbinds, snmptrap

ANA = "ana.gomez@cableandina.example"
SERVICE = {"Authorization": f"Bearer {SERVICE_TOKEN}"}


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_lone_backend(tmp_path_factory.mktemp("metrics-backend"))
    yield running
    running.stop()


def scrape(backend: Running) -> str:
    response = httpx.get(f"{backend.base_url}/api/v1/metrics", headers=SERVICE, timeout=15)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return response.text


async def wait_until(backend: Running, condition, timeout: float = 20) -> dict[str, float]:
    """Scrape until `condition(values)` holds (what the process did is asynchronous to our calls)."""
    deadline = time.monotonic() + timeout
    while True:
        values = by_series(await asyncio.to_thread(scrape, backend))
        if condition(values):
            return values
        if time.monotonic() > deadline:
            raise TimeoutError(f"metrics never matched: { {k: v for k, v in values.items() if 'promptlink' in k} }")
        await asyncio.sleep(0.2)


def test_every_sample_names_the_process_and_the_documented_metrics_are_there(backend: Running) -> None:
    body = scrape(backend)
    assert processes(body) == {f"backend@127.0.0.1:{backend.env['PROMPTLINK_PORT']}"}
    values = by_series(body)
    for name in (
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "promptlink_rasa_servers",
        "promptlink_rasa_servers_up",
        'promptlink_queue_length{tier="L1"}',
        'promptlink_queue_oldest_wait_seconds{tier="L3"}',
        'promptlink_outbox_pending{kind="email"}',
        'promptlink_outbox_pending{kind="chat"}',
        "promptlink_outbox_oldest_pending_seconds",
        "promptlink_outbox_failed",
        'promptlink_db_pool_checkedout{dialect="sqlite"}',
        'promptlink_db_pool_size{dialect="sqlite"}',
        'promptlink_snmp_traps_received_total{version="v2c"}',
        "promptlink_snmp_queue_depth",
    ):
        assert name in values, name
    # One Rasa URL configured, and nothing listens there: the scrape's status check says so.
    assert values["promptlink_rasa_servers"] == 1 and values["promptlink_rasa_servers_up"] == 0
    assert values["process_resident_memory_bytes"] > 10_000_000


def test_the_metrics_keep_their_access_rule(backend: Running) -> None:
    api = f"{backend.base_url}/api/v1/metrics"
    assert httpx.get(api, timeout=10).status_code == 401
    customer = {"Authorization": f"Bearer {widget_token(backend.base_url, ANA)}"}
    assert httpx.get(api, headers=customer, timeout=10).status_code == 403
    staff = agent_headers(backend.base_url, "l1@promptlink.example")
    assert httpx.get(api, headers=staff, timeout=10).status_code == 200
    values = by_series(scrape(backend))
    # Requests are counted by the route's pattern and status, never by the raw URL.
    assert values['promptlink_http_requests_total{method="GET",route="/api/v1/metrics",status="401"}'] >= 1
    assert values['promptlink_http_requests_total{method="GET",route="/api/v1/metrics",status="403"}'] >= 1
    assert values['promptlink_http_requests_total{method="GET",route="/api/v1/metrics",status="200"}'] >= 1


async def test_turns_handoffs_queues_and_claims_move_their_metrics(backend: Running) -> None:
    def count(values: dict[str, float], series: str) -> float:
        return values.get(series, 0.0)

    assistant = 'promptlink_turn_seconds_count{path="assistant"}'
    handoff = 'promptlink_turn_seconds_count{path="handoff"}'
    agent = 'promptlink_turn_seconds_count{path="agent"}'
    rasa_errors = 'promptlink_rasa_call_seconds_count{outcome="error"}'
    l1 = 'promptlink_queue_length{tier="L1"}'
    waited = 'promptlink_queue_wait_seconds_count{tier="L1"}'
    before = by_series(await asyncio.to_thread(scrape, backend))

    chat = await ChatClient(backend.base_url).connect(identity=widget_token(backend.base_url, ANA))
    try:
        # Rasa is down: the turn ends with the Spanish notice, and still counts as an assistant turn.
        await chat.send("hola", "m-1")
        await chat.wait_for(lambda m: m["role"] == "system" and "no está disponible" in m["text"])
        values = await wait_until(backend, lambda v: count(v, assistant) >= count(before, assistant) + 1)
        assert count(values, rasa_errors) >= count(before, rasa_errors) + 1
        assert values[assistant.replace("_count", "_sum")] > 0

        # The customer takes the offered person: a handoff queued for Level 1.
        await chat.send("Hablar con una persona", "m-2", payload="/request_human")
        values = await wait_until(backend, lambda v: count(v, handoff) >= count(before, handoff) + 1)
        assert values[l1] == count(before, l1) + 1
        assert values['promptlink_queue_oldest_wait_seconds{tier="L1"}'] >= 0

        # Writing while waiting: the message goes to the people's path, not to the assistant.
        await chat.send("sigo esperando", "m-3")
        await wait_until(backend, lambda v: count(v, agent) >= count(before, agent) + 1)

        # An L1 agent takes it: the wait is observed and the queue is one shorter.
        cid = chat.session["conversation_id"]
        claimed = await asyncio.to_thread(
            httpx.post,
            f"{backend.base_url}/api/v1/conversations/{cid}/claim",
            headers=await asyncio.to_thread(agent_headers, backend.base_url, "l1@promptlink.example"),
            timeout=15,
        )
        assert claimed.status_code == 200, claimed.text
        values = await wait_until(backend, lambda v: count(v, waited) >= count(before, waited) + 1)
        assert values[l1] == count(before, l1)

        # With a person on the chat, the customer's message takes the agent path again.
        await chat.send("gracias", "m-4")
        await wait_until(backend, lambda v: count(v, agent) >= count(before, agent) + 2)
    finally:
        await chat.close()
    after = by_series(await asyncio.to_thread(scrape, backend))
    # «hola» and the button went to the assistant (whose turn queued the chat); the two written to people did not.
    assert count(after, assistant) == count(before, assistant) + 2


async def test_a_trap_moves_the_snmp_counters_of_this_process(backend: Running) -> None:
    received = 'promptlink_snmp_traps_received_total{version="v2c"}'
    before = by_series(await asyncio.to_thread(scrape, backend))
    port = int(backend.env["PROMPTLINK_SNMP_PORT"])
    await asyncio.to_thread(snmptrap, port, "-v", "2c", "-c", "public", "--", "", LINK_DOWN, *link_varbinds(7))
    values = await wait_until(
        backend,
        lambda v: v["promptlink_snmp_traps_processed_total"] >= before["promptlink_snmp_traps_processed_total"] + 1,
    )
    assert values[received] == before[received] + 1
    assert values["promptlink_snmp_datagrams_total"] >= before["promptlink_snmp_datagrams_total"] + 1


def test_the_process_label_is_added_to_every_metric_of_the_registry() -> None:
    """In this (test) process: `configure` names the process of every sample, default collectors included."""
    previous = metrics.process_name()
    metrics.configure("backend@test-host:8123")
    try:
        metrics.TURN_SECONDS.labels("assistant").observe(0.02)
        body = metrics.render().decode()
    finally:
        metrics.configure(previous)
    assert processes(body) == {"backend@test-host:8123"}
    values = by_series(body)
    assert values['promptlink_turn_seconds_bucket{le="0.025",path="assistant"}'] >= 1
    assert "process_virtual_memory_bytes" in values and 'python_gc_collections_total{generation="0"}' in values


async def test_the_pool_collector_counts_connections_in_use(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}")
    unregister = metrics.register(metrics.PoolCollector(engine))
    checked_out = 'promptlink_db_pool_checkedout{dialect="sqlite"}'
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            assert by_series(metrics.render().decode())[checked_out] == 1
        assert by_series(metrics.render().decode())[checked_out] == 0
    finally:
        unregister()
        await engine.dispose()
    assert checked_out not in by_series(metrics.render().decode())
