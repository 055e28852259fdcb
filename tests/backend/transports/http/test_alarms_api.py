"""`POST /api/v1/alarms/{id}/assign` on a real backend, with real traps (net-snmp's snmptrap)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from promptlink.transports.http.api import ErrorOut
from promptlink.transports.http.schemas.alarms import (
    AlarmAssigned,
    AlarmList,
    OpenAlarms,
    PrometheusText,
    RulesReloaded,
)

from testkit.chat_client import widget_token
from testkit.demo import DEMO_PASSWORDS, agent_token
from testkit.processes import Running, start_lone_backend
from testkit.traps import LINK_DOWN, link_varbinds, snmptrap

UNKNOWN = "127.0.0.78"


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_lone_backend(tmp_path_factory.mktemp("alarms-api"))
    yield running
    running.stop()


def _staff(backend: Running, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {agent_token(backend.base_url, email, DEMO_PASSWORDS[email])}"}


def _wait(check, what: str, timeout: float = 20):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what} not seen in {timeout} s"
        time.sleep(0.3)


def test_level_1_assigns_unknown_equipment_and_later_traps_reach_the_customer(backend: Running) -> None:
    port = int(backend.env["PROMPTLINK_SNMP_PORT"])
    l1, l2 = _staff(backend, "l1@promptlink.example"), _staff(backend, "l2@promptlink.example")
    maria = {"Authorization": f"Bearer {widget_token(backend.base_url, 'maria.rodriguez@telecaribe.example')}"}
    api = httpx.Client(base_url=backend.base_url + "/api/v1", timeout=10)

    snmptrap(port, "-v", "2c", "-c", "public", "--", "", LINK_DOWN, *link_varbinds(3), client=UNKNOWN)

    def unassigned() -> list[dict]:
        answer = api.get("/alarms/unassigned", headers=l1).json()
        items = AlarmList.model_validate(answer).model_dump()["alarms"]
        return [a for a in items if a["source_address"] == UNKNOWN]

    (alarm,) = _wait(unassigned, "the unassigned alarm")
    path = f"/alarms/{alarm['id']}/assign"

    # Who may: Level 1 (and supervisors, admins); not L2/L3 agents, customers or nobody.
    assert api.post(path, json={"device": "olt-sdq-01"}).status_code == 401
    for who in (l2, maria):
        refused = api.post(path, json={"device": "olt-sdq-01"}, headers=who)
        assert refused.status_code == 403 and refused.json()["message"] == "No tiene permiso para esta acción."
    # Bad input: a clear Spanish message, nothing changed.
    for payload, status, message in [
        ({}, 422, "Indique el nombre del equipo."),
        ({"device": 7}, 422, "Indique el nombre del equipo."),
        ({"device": "no-existe"}, 422, "El equipo no existe."),
    ]:
        refused = api.post(path, json=payload, headers=l1)
        assert (refused.status_code, refused.json()["message"]) == (status, message)
        ErrorOut.model_validate(refused.json())
    assert api.post("/alarms/999999/assign", json={"device": "olt-sdq-01"}, headers=l1).status_code == 404
    assert unassigned() and api.get("/alarms", headers=maria).json()["alarms"] == []

    done = api.post(path, json={"device": "olt-sdq-01"}, headers=l1)
    assert done.status_code == 200, done.text
    body = done.json()
    AlarmAssigned.model_validate(body)
    assert body["tickets"] == 1 and body["alarm"]["device"] == "olt-sdq-01" and body["alarm"]["ticket"]
    again = api.post(path, json={"device": "olt-sdq-01"}, headers=l1)
    assert (again.status_code, again.json()["message"]) == (409, "La alarma ya está asignada a un equipo.")
    assert unassigned() == []
    # The customer sees the alarm and its ticket (hers now).
    theirs = api.get("/alarms", headers=maria).json()
    assert OpenAlarms.model_validate(theirs).customer == "TELECARIBE"
    (mine,) = theirs["alarms"]
    every = OpenAlarms.model_validate(api.get("/alarms", headers=l1).json())
    assert every.customer is None and mine["id"] in {a.id for a in every.alarms}
    assert mine["ticket"] == body["alarm"]["ticket"]
    ticket = api.get(f"/tickets/{mine['ticket']}", headers=maria).json()
    assert ticket["channel"] == "snmp" and any("Aviso de monitoreo" in e["text"] for e in ticket["history"])

    # A later trap from the same address is the customer's device from the start.
    snmptrap(port, "-v", "2c", "-c", "public", "--", "", LINK_DOWN, *link_varbinds(4), client=UNKNOWN)
    _wait(lambda: len(api.get("/alarms", headers=maria).json()["alarms"]) == 2, "the second alarm", timeout=30)
    assert unassigned() == []
    audit = api.get("/admin/audit", headers=_staff(backend, "admin@promptlink.example")).json()["items"]
    assert any(e["action"] == "alarm.assign" and e["actor"] == "l1@promptlink.example" for e in audit)


def test_rules_reload_and_metrics_answer_as_documented(backend: Running) -> None:
    api = httpx.Client(base_url=backend.base_url + "/api/v1", timeout=10)
    supervisor = _staff(backend, "supervisor@promptlink.example")
    reloaded = api.post("/alarms/rules/reload", headers=supervisor)
    assert reloaded.status_code == 200, reloaded.text
    assert RulesReloaded.model_validate(reloaded.json()).rules
    refused = api.post("/alarms/rules/reload", headers=_staff(backend, "l1@promptlink.example"))
    assert refused.status_code == 403 and ErrorOut.model_validate(refused.json()).message
    metrics = api.get("/metrics", headers=supervisor)
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    assert "promptlink_snmp_traps_received_total" in PrometheusText.model_validate(metrics.text).root
