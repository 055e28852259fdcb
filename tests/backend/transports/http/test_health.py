"""`GET /api/v1/health`: names the SNMP trap receiver when it could not listen, and answers in bounded time."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
from promptlink.transports.http.health import CHECK_SECONDS
from promptlink.transports.http.schemas.health import Degraded

from testkit.processes import start_lone_backend


def test_health_names_a_trap_receiver_that_could_not_bind(tmp_path: Path) -> None:
    taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    taken.bind(("127.0.0.1", 0))  # another program holds the trap port
    port = taken.getsockname()[1]
    try:
        backend = start_lone_backend(tmp_path, PROMPTLINK_SNMP_PORT=str(port))
        try:
            body = httpx.get(backend.base_url + "/api/v1/health", timeout=10).json()
            # The rest of the backend serves (the chat, the API); the receiver is reported down.
            assert httpx.get(backend.base_url + "/docs/openapi.json", timeout=10).status_code == 200
        finally:
            backend.stop()
    finally:
        taken.close()
    assert body["components"]["snmp"].startswith(f"down: cannot listen on UDP 127.0.0.1:{port}")
    assert "snmp" in body["failing"] and body["components"]["db"] == "ok"
    assert '"snmp receiver not started"' in backend.log()


def test_health_reports_a_listening_trap_receiver(lone_backend) -> None:
    response = httpx.get(lone_backend.base_url + "/api/v1/health", timeout=10)
    body = response.json()
    assert response.status_code == 503  # Rasa and the action server are down there
    Degraded.model_validate(body)
    assert body["components"]["snmp"] == "ok"
    assert "snmp" not in body["failing"]  # only Rasa and the action server are down there


def test_health_answers_in_bounded_time_when_a_server_behind_it_hangs(tmp_path: Path) -> None:
    """A Rasa server and an action server that accept the connection and never answer (a Rasa server
    loading a model blocks its `/status` like this): health still answers within its budget, naming
    them down. Waiting for them made every backend miss HAProxy's check at once (issue 16)."""
    hung = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(2)]
    for s in hung:
        s.bind(("127.0.0.1", 0))
        s.listen(16)  # the kernel accepts; nothing ever reads or answers
    rasa, actions = (f"http://127.0.0.1:{s.getsockname()[1]}" for s in hung)
    try:
        backend = start_lone_backend(tmp_path, PROMPTLINK_RASA_URLS=rasa, PROMPTLINK_ACTIONS_URL=actions)
        try:
            timings = []
            for _ in range(2):
                started = time.monotonic()
                response = httpx.get(backend.base_url + "/api/v1/health", timeout=10)
                timings.append(time.monotonic() - started)
        finally:
            backend.stop()
    finally:
        for s in hung:
            s.close()
    body = response.json()
    assert response.status_code == 503 and Degraded.model_validate(body)
    assert body["components"]["db"] == "ok"
    assert body["components"]["rasa"].startswith("down: 0 of 1 servers up") and rasa in body["components"]["rasa"]
    assert body["components"]["actions"].startswith("down: ReadTimeout")
    assert max(timings) < CHECK_SECONDS + 1.0, timings  # well within deploy/haproxy.cfg's `timeout check 3s`
