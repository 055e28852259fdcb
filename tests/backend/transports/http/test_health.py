"""`GET /api/v1/health` names the SNMP trap receiver when it could not listen."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
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
