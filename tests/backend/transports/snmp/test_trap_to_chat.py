"""Trap → chat through real processes: the backend's own receiver, and the separate
`python -m promptlink snmp` process reaching the backend's sockets through Redis."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pyasn1.type.univ import Integer

from testkit.chat_client import ChatClient, widget_token
from testkit.demo import SERVICE_TOKEN, service_headers
from testkit.metrics import by_series, processes
from testkit.processes import BACKEND_PY, ROOT, Running, free_udp_port, start_lone_backend
from testkit.traps import LINK_DOWN, LINK_UP, link_varbinds, snmptrap, v2c_packet

REDIS_URL = "redis://127.0.0.1:6379/0"
ANA = "ana.gomez@cableandina.example"
SERVICE = {"Authorization": f"Bearer {SERVICE_TOKEN}"}


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_lone_backend(tmp_path_factory.mktemp("snmp-backend"))
    yield running
    running.stop()


def _alarm_notice(device: str):
    return lambda m: m["role"] == "system" and device in m["text"] and "Aviso de monitoreo" in m["text"]


async def test_link_down_reaches_the_open_chat_at_once_and_link_up_tells_the_customer(backend: Running) -> None:
    port = int(backend.env["PROMPTLINK_SNMP_PORT"])
    chat = await ChatClient(backend.base_url).connect(identity=widget_token(backend.base_url, ANA))
    try:
        started = time.monotonic()
        await asyncio.to_thread(snmptrap, port, "-v", "2c", "-c", "public", "--", "", LINK_DOWN, *link_varbinds(2))
        notice = await chat.wait_for(_alarm_notice("cmts-bog-01"), timeout=15)
        elapsed = time.monotonic() - started
        assert notice["conversation_id"] == chat.session["conversation_id"]
        assert "P2" in notice["text"] and "PL-" in notice["text"] and notice["author_name"]
        # The notice waits for the wave to be quiet (notice_quiet_seconds, 3 s), then goes within a second.
        assert elapsed < 10, f"trap to chat took {elapsed:.2f} s"
        await asyncio.to_thread(snmptrap, port, "-v", "2c", "-c", "public", "--", "", LINK_UP, *link_varbinds(2))
        resolved = await chat.wait_for(lambda m: "resuelto" in m["text"], timeout=15)
        assert "volvió a funcionar" in resolved["text"]
    finally:
        await chat.close()
    async with httpx.AsyncClient(base_url=backend.base_url + "/api/v1", timeout=10) as api:
        assert (await api.get("/metrics")).status_code == 401
        customer = {"Authorization": f"Bearer {widget_token(backend.base_url, ANA)}"}
        assert (await api.get("/metrics", headers=customer)).status_code == 403
        metrics = by_series((await api.get("/metrics", headers=SERVICE)).text)
        assert metrics['promptlink_snmp_traps_received_total{version="v2c"}'] == 2
        assert metrics["promptlink_snmp_traps_processed_total"] == 2
        assert "promptlink_udp_rcvbuf_errors_total" in metrics
        alarms = (await api.get("/alarms", headers=service_headers(ANA))).json()
        assert alarms["customer"] == "CABLEANDINA" and alarms["alarms"] == []  # cleared


async def test_twenty_interfaces_going_down_are_one_ticket_one_chat_message_and_one_email(backend: Running) -> None:
    port = int(backend.env["PROMPTLINK_SNMP_PORT"])
    interfaces = range(101, 121)
    chat = await ChatClient(backend.base_url).connect(identity=widget_token(backend.base_url, ANA))
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.21", 0))  # cmts-bog-01
            for i in interfaces:  # real v2c linkDown traps, one every 50 ms
                varbinds = [(f"1.3.6.1.2.1.2.2.1.1.{i}", Integer(i)), (f"1.3.6.1.2.1.2.2.1.8.{i}", Integer(2))]
                sock.sendto(v2c_packet("public", LINK_DOWN, varbinds, request_id=i), ("127.0.0.1", port))
                await asyncio.sleep(0.05)
        notice = await chat.wait_for(_alarm_notice("cmts-bog-01"), timeout=30)
        for i in interfaces:
            assert f"la interfaz {i} dejó de funcionar" in notice["text"]
        await asyncio.sleep(5)  # longer than the quiet time: nothing else comes
        assert [m for m in chat.messages if _alarm_notice("cmts-bog-01")(m)] == [notice]
    finally:
        await chat.close()
    async with httpx.AsyncClient(base_url=backend.base_url, timeout=10) as api:
        alarms = (await api.get("/api/v1/alarms", headers=service_headers(ANA))).json()["alarms"]
        mails = (await api.get("/demo/api/mailbox", params={"to": ANA})).json()["items"]
    assert len(alarms) == 20 and len({a["ticket"] for a in alarms}) == 1
    wave = [m for m in mails if alarms[0]["ticket"] in m["subject"]]
    assert len(wave) == 1 and "la interfaz 120 dejó de funcionar" in wave[0]["body"]


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def _start_receiver_process(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log_file:
        return subprocess.Popen(
            [str(BACKEND_PY), "-m", "promptlink", "snmp"], cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=15)


async def test_the_separate_receiver_process_reaches_the_chat_through_redis(tmp_path: Path) -> None:
    if not _redis_up():
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    running = start_lone_backend(tmp_path, PROMPTLINK_REDIS_URL=REDIS_URL, PROMPTLINK_SNMP_ENABLED="0")
    port = free_udp_port()
    env = {**running.env, "PROMPTLINK_SNMP_PORT": str(port)}
    log_path = tmp_path / "snmp.log"
    receiver = _start_receiver_process(env, log_path)
    try:
        deadline = time.monotonic() + 30
        while "SNMP receiver on" not in log_path.read_text(errors="replace"):
            assert receiver.poll() is None and time.monotonic() < deadline, log_path.read_text(errors="replace")
            await asyncio.sleep(0.2)
        chat = await ChatClient(running.base_url).connect(identity=widget_token(running.base_url, ANA))
        try:
            await asyncio.to_thread(
                snmptrap, port, "-v", "2c", "-c", "public", "--", "", LINK_DOWN, *link_varbinds(4), client="127.0.0.22"
            )
            notice = await chat.wait_for(_alarm_notice("cmts-bog-02"), timeout=10)
            assert notice["conversation_id"] == chat.session["conversation_id"]
        finally:
            await chat.close()
        async with httpx.AsyncClient(base_url=running.base_url + "/api/v1", timeout=10) as api:
            alarms = (await api.get("/alarms", headers=service_headers(ANA))).json()["alarms"]
            backend_metrics = (await api.get("/metrics", headers=SERVICE)).text
        assert [a["device"] for a in alarms] == ["cmts-bog-02"] and alarms[0]["ticket"].startswith("PL-")
        # The receiver's counters are on its own port, labelled as its process (no token: internal address).
        metrics_port = env["PROMPTLINK_SNMP_METRICS_PORT"]
        assert f"SNMP metrics on http://127.0.0.1:{metrics_port}/metrics" in log_path.read_text(errors="replace")
        scraped = await asyncio.to_thread(httpx.get, f"http://127.0.0.1:{metrics_port}/metrics", timeout=10)
        assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
        assert processes(scraped.text) == {f"snmp@127.0.0.1:{metrics_port}"}
        receiver_metrics = by_series(scraped.text)
        assert receiver_metrics['promptlink_snmp_traps_received_total{version="v2c"}'] == 1
        assert receiver_metrics["promptlink_snmp_traps_processed_total"] == 1
        assert receiver_metrics["promptlink_snmp_tickets_created_total"] == 1
        assert receiver_metrics["process_resident_memory_bytes"] > 0
        # ... and not on the backend's, whose receiver is off.
        assert "promptlink_snmp_traps_received_total" not in backend_metrics
        assert processes(backend_metrics) == {f"backend@127.0.0.1:{running.env['PROMPTLINK_PORT']}"}
    finally:
        _stop(receiver)
        running.stop()
