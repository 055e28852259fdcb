"""`/api/v1/admin` against a real backend: administrators only, for every endpoint and every role."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
import yaml
from promptlink.transports.http.api import ErrorOut
from promptlink.transports.http.schemas.admin import (
    AuditList,
    CsvTable,
    DashboardOut,
    Dismissed,
    Labelled,
    LastActivation,
    ModelList,
    ReviewInbox,
    UserList,
    UserOut,
    VocabularyOut,
)

from testkit.api_roles import ALL_ROLES, call
from testkit.databases import stored_customer_message

ADMIN_ONLY = {**dict.fromkeys(ALL_ROLES, 403), "anonymous": 401}
MISSING = 999_999_999
# (method, path, body, status for an administrator, the model of that answer). Bodies that would change
# something are aimed at a missing row, so the table can run in any order; the effects are checked in the
# tests below.
ENDPOINTS = [
    ("GET", "/admin/review", None, 200, ReviewInbox),
    ("GET", "/admin/vocabulary", None, 200, VocabularyOut),
    ("POST", f"/admin/review/{MISSING}/label", {"intent": "greet"}, 404, ErrorOut),
    ("POST", f"/admin/review/{MISSING}/dismiss", {}, 404, ErrorOut),
    ("GET", "/admin/models", None, 200, ModelList),
    ("POST", "/admin/models", {"recipe": "quick"}, 502, ErrorOut),  # Rasa is down for the lone backend
    ("GET", f"/admin/models/{MISSING}", None, 404, ErrorOut),
    ("POST", f"/admin/models/{MISSING}/activate", {}, 404, ErrorOut),
    ("GET", "/admin/activation", None, 200, LastActivation),
    ("GET", "/admin/stats?days=7", None, 200, DashboardOut),
    ("GET", "/admin/stats/updates.csv", None, 200, CsvTable),
    ("GET", "/admin/users", None, 200, UserList),
    ("POST", "/admin/users", {"email": "x"}, 422, ErrorOut),
    ("PATCH", f"/admin/users/{MISSING}", {"active": True}, 404, ErrorOut),
    ("POST", f"/admin/users/{MISSING}/password", {"password": "x" * 12}, 404, ErrorOut),
    ("GET", "/admin/audit", None, 200, AuditList),
]


@pytest.mark.parametrize(("method", "path", "payload", "admin_status", "model"), ENDPOINTS)
@pytest.mark.parametrize("role", ALL_ROLES)
def test_only_administrators(lone_backend, auth_headers, role, method, path, payload, admin_status, model) -> None:
    response = call(lone_backend, auth_headers, role, method, path, json=payload)
    expected = admin_status if role == "admin" else ADMIN_ONLY[role]
    assert response.status_code == expected, response.text
    if expected >= 400:
        body = response.json()
        assert body["detail"] and body["message"]  # English for developers, Spanish for people
        ErrorOut.model_validate(body)
    if role == "admin":  # the answer is what the OpenAPI document says
        model.model_validate(response.text if model is CsvTable else response.json())


def _misunderstood(lone_backend, text: str, intent: str = "ask_training", confidence: float = 0.3) -> int:
    """A customer message as the assistant would have stored it (the lone backend has no Rasa)."""
    return stored_customer_message(lone_backend, text, intent, confidence)


def test_label_dismiss_and_the_reviewed_file(lone_backend, auth_headers) -> None:
    tag = uuid.uuid4().hex[:6]
    labelled = _misunderstood(lone_backend, f"me pasan el instalador nuevo {tag} del cmts-bog-01 porfa")
    dismissed = _misunderstood(lone_backend, f"asdf qwerty {tag}")
    inbox = call(lone_backend, auth_headers, "admin", "GET", "/admin/review").json()
    ids = {item["message_id"] for group in inbox["groups"] for item in group["items"]}
    assert {labelled, dismissed} <= ids
    ReviewInbox.model_validate(inbox)
    text = f"me pasan el instalador nuevo {tag} del cmts-bog-01 porfa"
    start = text.index("cmts-bog-01")
    answer = call(
        lone_backend,
        auth_headers,
        "admin",
        "POST",
        f"/admin/review/{labelled}/label",
        json={"intent": "ask_contact_channels", "entities": [{"start": start, "end": start + 11, "entity": "device"}]},
    )
    assert answer.status_code == 201, answer.text
    Labelled.model_validate(answer.json())
    assert answer.json()["example"] == f"me pasan el instalador nuevo {tag} del [cmts-bog-01](device) porfa"
    again = call(
        lone_backend, auth_headers, "admin", "POST", f"/admin/review/{labelled}/label", json={"intent": "greet"}
    )
    assert again.status_code == 422 and "ya fue revisado" in again.json()["message"]
    bad = call(lone_backend, auth_headers, "admin", "POST", f"/admin/review/{dismissed}/label", json={"intent": "X Y"})
    assert bad.status_code == 422 and "minúsculas" in bad.json()["message"]
    gone = call(lone_backend, auth_headers, "admin", "POST", f"/admin/review/{dismissed}/dismiss", json={})
    assert gone.status_code == 200
    assert Dismissed.model_validate(gone.json()).status == "dismissed"

    reviewed = yaml.safe_load((lone_backend.var_dir / "reviewed" / "reviewed.yml").read_text(encoding="utf-8"))
    assert reviewed["version"] == "3.1"
    block = next(b for b in reviewed["nlu"] if b["intent"] == "ask_contact_channels")
    assert f"- me pasan el instalador nuevo {tag} del [cmts-bog-01](device) porfa" in block["examples"]
    inbox = call(lone_backend, auth_headers, "admin", "GET", "/admin/review").json()
    assert not {labelled, dismissed} & {item["message_id"] for group in inbox["groups"] for item in group["items"]}
    audit = call(lone_backend, auth_headers, "admin", "GET", "/admin/audit?action=review.label").json()["items"]
    assert any(e["target"] == f"message:{labelled}" and e["actor"] == "admin@promptlink.example" for e in audit)


def test_users_from_creation_to_login_and_the_last_admin(lone_backend, auth_headers) -> None:
    email = f"agente.{uuid.uuid4().hex[:6]}@promptlink.example"
    created = call(
        lone_backend,
        auth_headers,
        "admin",
        "POST",
        "/admin/users",
        json={"email": email, "name": "Agente Nueva", "role": "agent", "tiers": ["L1"], "password": "clave-inicial-1"},
    )
    assert created.status_code == 201, created.text
    agent_id = UserOut.model_validate(created.json()).id
    short = call(
        lone_backend, auth_headers, "admin", "POST", f"/admin/users/{agent_id}/password", json={"password": "corta"}
    )
    assert short.status_code == 422 and "10 caracteres" in short.json()["message"]
    reset = call(
        lone_backend,
        auth_headers,
        "admin",
        "POST",
        f"/admin/users/{agent_id}/password",
        json={"password": "clave-nueva-22"},
    )
    assert reset.status_code == 200
    UserOut.model_validate(reset.json())
    changed = call(
        lone_backend, auth_headers, "admin", "PATCH", f"/admin/users/{agent_id}", json={"tiers": ["L2", "L3"]}
    )
    assert changed.json()["tiers"] == ["L2", "L3"]
    UserOut.model_validate(changed.json())
    import httpx

    login = httpx.post(
        f"{lone_backend.base_url}/api/v1/auth/login", json={"email": email, "password": "clave-nueva-22"}, timeout=10
    )
    assert login.status_code == 200 and login.json()["agent"]["tiers"] == ["L2", "L3"]
    off = call(lone_backend, auth_headers, "admin", "PATCH", f"/admin/users/{agent_id}", json={"active": False})
    assert off.json()["active"] is False
    assert (
        httpx.post(
            f"{lone_backend.base_url}/api/v1/auth/login",
            json={"email": email, "password": "clave-nueva-22"},
            timeout=10,
        ).status_code
        == 401
    )

    users = call(lone_backend, auth_headers, "admin", "GET", "/admin/users").json()["items"]
    admin = next(u for u in users if u["email"] == "admin@promptlink.example")
    refused = call(lone_backend, auth_headers, "admin", "PATCH", f"/admin/users/{admin['id']}", json={"role": "agent"})
    assert refused.status_code == 409 and "último administrador" in refused.json()["message"]
    actions = [e["action"] for e in call(lone_backend, auth_headers, "admin", "GET", "/admin/audit").json()["items"]]
    assert {"user.create", "user.update", "user.reset_password"} <= set(actions)


def test_stats_and_csv(lone_backend, auth_headers) -> None:
    _misunderstood(lone_backend, '=HYPERLINK("http://x")', intent="nlu_fallback", confidence=0.1)
    data = call(lone_backend, auth_headers, "admin", "GET", "/admin/stats?days=7").json()
    assert len(data["tables"]["tickets_by_channel"]["rows"]) == 7
    assert set(data["summary"]) >= {"tickets", "updates_on_time_pct", "solved_without_person_pct", "satisfaction_avg"}
    response = call(lone_backend, auth_headers, "admin", "GET", "/admin/stats/misunderstood.csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["Mensaje", "Veces"]
    assert ['\'=HYPERLINK("http://x")', "1"] in rows
    assert call(lone_backend, auth_headers, "admin", "GET", "/admin/stats/nope.csv").status_code == 404
    assert call(lone_backend, auth_headers, "admin", "GET", "/admin/stats?days=0").status_code == 422


def test_a_retrain_needs_the_assistant(lone_backend, auth_headers) -> None:
    response = call(lone_backend, auth_headers, "admin", "POST", "/admin/models", json={"recipe": "quick"})
    assert response.status_code == 502
    assert response.json()["message"] == "El asistente (Rasa) no responde; inténtelo en unos minutos."
    bad = call(lone_backend, auth_headers, "admin", "POST", "/admin/models", json={"recipe": "huge"})
    assert bad.status_code == 422


def test_admin_page_is_served_with_the_csp(lone_backend) -> None:
    import httpx

    page = httpx.get(f"{lone_backend.base_url}/admin", timeout=10)
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
    assert "<script>" not in page.text
    chart = httpx.get(f"{lone_backend.base_url}/admin/vendor/chart.umd.min.js", timeout=10)
    assert chart.status_code == 200 and "Chart" in chart.text[:2000]


def test_models_say_which_model_the_assistant_runs(lone_backend, auth_headers) -> None:
    from bot.model import fingerprint, model_path

    running = call(lone_backend, auth_headers, "admin", "GET", "/admin/models").json()["running"]
    # Rasa is down for the lone backend: the model it starts with (no activation yet: the current data's).
    assert running["answered"] is False
    assert running["file"] == model_path().name
    assert running["fingerprint"] == fingerprint()
    assert running["exists"] is model_path().is_file()
