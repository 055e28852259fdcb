"""The training loop in Chromium against the three real processes.

An administrator labels three messages the assistant misunderstood (sent through the
widget), retrains with the quick recipe, reads the evaluation, activates the new model
(hot-loaded into the running Rasa) — and the same message, sent again, is understood.
Then rolls back to the model the system started with (the shared `stack` keeps it).
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from playwright.sync_api import Page, expect

from testkit.demo import DEMO_PASSWORDS, agent_token
from testkit.processes import ROOT, Running

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ADMIN = "admin@promptlink.example"
INTENT = "ask_training"
# Invented phrasings the model trained on data/ does not understand (checked at run time: the test
# uses the first three that land in the review inbox).
CANDIDATES = [
    "ustedes dictan talleres para mis tecnicos",
    "los muchachos del noc quieren un taller",
    "hacen talleres para el noc",
    "tienen talleres para los del noc",
    "un taller para los muchachos del noc",
    "hay alguna academia de ustedes",
]
# Quick recipe plus both evaluations: an estimated 2-3 minutes on an idle 2-core machine, 25 measured under load
# (docs/admin.md); PROMPTLINK_TEST_TRAINING_TIMEOUT (seconds) raises the limit.
TRAINING_TIMEOUT_MS = int(float(os.environ.get("PROMPTLINK_TEST_TRAINING_TIMEOUT", "1200")) * 1000)


def answer_text(name: str) -> str:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return str(domain["responses"][name][0]["text"])


def api(stack: Running, token: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(
        method, f"{stack.base_url}/api/v1{path}", headers={"Authorization": f"Bearer {token}"}, timeout=600, **kwargs
    )


def parsed(stack: Running, text: str) -> list[tuple[str | None, float | None]]:
    """(intent, confidence) of each customer message with `text`, oldest first, as the backend stored it."""
    with sqlite3.connect(stack.var_dir / "promptlink.db", timeout=30) as db:
        rows = db.execute(
            "SELECT intent, confidence FROM messages WHERE role = 'customer' AND text = ? ORDER BY id", (text,)
        ).fetchall()
    return [(r[0], r[1]) for r in rows]


def send_and_wait(stack: Running, page: Page, text: str, timeout_s: float = 60) -> tuple[str | None, float | None]:
    """Send `text` through the widget; return what the assistant understood of it (stored by the backend)."""
    before = len(parsed(stack, text))
    page.fill(".pl-input", text)
    page.click(".pl-send")
    deadline = time.monotonic() + timeout_s
    while True:
        rows = parsed(stack, text)
        if len(rows) > before and rows[-1][0] is not None:
            return rows[-1]
        assert time.monotonic() < deadline, f"no answer to {text!r} in {timeout_s} s"
        time.sleep(0.3)


@pytest.fixture
def admin_token(stack: Running) -> Iterator[str]:
    """An administrator's token; afterwards the stack runs its starting model again (for other tests)."""
    token = agent_token(stack.base_url, ADMIN, DEMO_PASSWORDS[ADMIN])
    started_with = httpx.get(f"{stack.extra['rasa_url']}/status", params={"token": stack_token()}, timeout=10).json()
    yield token
    status = httpx.get(f"{stack.extra['rasa_url']}/status", params={"token": stack_token()}, timeout=10).json()
    if status["model_file"] != started_with["model_file"]:
        versions = api(stack, token, "GET", "/admin/models").json()["items"]
        first = next(
            v for v in versions if v["file"] == started_with["model_file"] or v["trained_by"].startswith("inst")
        )
        api(stack, token, "POST", f"/admin/models/{first['id']}/activate", json={"force": True})
        deadline = time.monotonic() + 600
        while api(stack, token, "GET", "/admin/activation").json()["state"] == "running":
            assert time.monotonic() < deadline
            time.sleep(1)


def rasa_model(url: str, timeout_s: float) -> str:
    """The model file of the Rasa server at `url` once it is (back) up with a model loaded."""
    time.sleep(1)  # the killed process may still answer for an instant
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            status = httpx.get(f"{url}/status", params={"token": stack_token()}, timeout=10).json()
            if status.get("model_file"):
                return str(status["model_file"])
        except (httpx.HTTPError, ValueError):
            pass
        assert time.monotonic() < deadline, f"{url} not back in {timeout_s} s"
        time.sleep(1)


def stack_token() -> str:
    return "demo-rasa-token-not-for-production"


def test_admin_labels_retrains_activates_and_the_message_is_understood(stack: Running, browser, admin_token) -> None:
    problems: list[str] = []
    context = browser.new_context(locale="es-ES", viewport={"width": 1280, "height": 900})
    try:
        chat = context.new_page()
        chat.on("pageerror", lambda exc: problems.append(f"chat page error: {exc}"))
        chat.goto(stack.base_url + "/")
        expect(chat.locator('.pl-status[data-state="online"]')).to_be_visible(timeout=30_000)

        # 1. Customers write things the assistant gets wrong; they land in the review inbox.
        chosen: list[str] = []
        for text in CANDIDATES:
            intent, confidence = send_and_wait(stack, chat, text)
            if intent == "nlu_fallback" or (confidence is not None and confidence < 0.55):
                chosen.append(text)
            if len(chosen) == 3:
                break
        assert len(chosen) == 3, f"the current model understood too many candidates: {CANDIDATES}"

        admin = context.new_page()
        admin.on("pageerror", lambda exc: problems.append(f"admin page error: {exc}"))
        admin.goto(stack.base_url + "/admin")
        admin.fill("#login-email", ADMIN)
        admin.fill("#login-password", DEMO_PASSWORDS[ADMIN])
        admin.click("#login-form button[type=submit]")
        expect(admin.locator("#revision-view")).to_be_visible()

        # 2. The administrator labels the three messages.
        for text in chosen:
            item = admin.locator(".review-item", has=admin.locator(".review-text", has_text=re.compile(f"^{text}$")))
            expect(item).to_have_count(1)
            item.locator(".label-open").click()
            item.locator(".intent-input").fill(INTENT)
            item.locator("button[type=submit]").click()
            expect(item.locator(".form-msg")).to_contain_text(f"Etiquetado como «{INTENT}»")

        # 3. Retrain with the quick recipe; progress is shown live, then the evaluation.
        admin.click('a[data-nav="modelos"]')
        admin.select_option("#train-recipe", "quick")
        started = time.monotonic()
        admin.click("#train-form button[type=submit]")
        expect(admin.locator("#training-card")).to_be_visible()
        expect(admin.locator("#training-stage")).to_contain_text("Entrenando", timeout=120_000)
        expect(admin.locator("#evaluation-card")).to_be_visible(timeout=TRAINING_TIMEOUT_MS)
        waited = time.monotonic() - started
        expect(admin.locator("#evaluation-verdict")).to_contain_text("macro-F1")
        # Every intent of the held-out set (plus any only predicted, like nlu_fallback).
        assert admin.locator("#evaluation-table tbody tr").count() >= 27
        row = admin.locator("#evaluation-table tbody tr", has=admin.locator("td", has_text=re.compile(f"^{INTENT}$")))
        expect(row.locator("td").nth(1)).to_have_text(re.compile(r"^\d\.\d\d$"))  # the active model's F1 beside
        versions = api(stack, admin_token, "GET", "/admin/models").json()["items"]
        candidate = versions[0]
        assert candidate["status"] == "ready" and candidate["examples_added"] == 3 and candidate["recipe"] == "quick"
        print(
            f"\nquick retrain: {waited:.0f} s in the page (train {candidate['train_seconds']} s, "
            f"eval {candidate['eval_seconds']} s); held-out macro-F1 {candidate['metrics']['macro_f1']}, "
            f"verdict {candidate['comparison']['verdict']}"
        )

        # 4. Activate: hot-loaded into the running Rasa while a chat keeps talking.
        admin.click("#activate-candidate")
        if candidate["comparison"]["verdict"] == "worse":
            expect(admin.locator("#activate-msg")).to_contain_text("peor")
            admin.click("#activate-candidate")  # the page sends force on a second, confirmed click
        intent, _ = send_and_wait(stack, chat, "hola", timeout_s=300)  # during the swap: waits, then answered
        assert intent == "greet"
        expect(admin.locator("#activate-msg")).to_contain_text(
            re.compile(r"activo \(cargado en [\d.]+ s\)"), timeout=300_000
        )
        expect(admin.locator('#models-table tr[data-status="active"] td').first).to_have_text(str(candidate["id"]))
        for url in stack.extra["rasa_urls"]:
            rasa = httpx.get(f"{url}/status", params={"token": stack_token()}, timeout=10).json()
            assert rasa["model_file"] == candidate["file"], url

        # A Rasa server that crashes now is restarted by the supervisor with the activated model.
        os.kill(stack.pid("rasa-2"), signal.SIGKILL)
        assert rasa_model(stack.extra["rasa_urls"][1], timeout_s=300) == candidate["file"]

        # 5. The same message through the widget is now understood, and answered as such. Not necessarily
        # as the last bubble: a candidate the old model took for an incident opened the intake form, and the
        # form asks its next question again after the answer.
        answer = answer_text("utter_training_info")
        answers = chat.locator('.pl-msg[data-role="bot"] .pl-msg-text').filter(
            has_text=re.compile(f"^{re.escape(answer)}$")
        )
        answered_before = answers.count()
        intent, confidence = send_and_wait(stack, chat, chosen[0])
        assert intent == INTENT and confidence is not None and confidence >= 0.55, (intent, confidence)
        expect(answers).to_have_count(answered_before + 1)

        # 6. Roll back to the model the system started with.
        baseline = next(v for v in versions if v["status"] == "active")  # as listed before the activation
        admin.reload()
        rollback = admin.locator(
            f'#models-table tr[data-status="ready"] .activate-version[data-version="{baseline["id"]}"]'
        )
        rollback.click()
        # When the candidate scored better, the page asks to confirm going back to a worse model.
        message = admin.locator("#activate-msg")
        expect(message).to_contain_text(re.compile(rf"peor|Modelo #{baseline['id']} activo"), timeout=300_000)
        if "peor" in message.inner_text():
            rollback.click()  # the page sends force on a second, confirmed click
        expect(message).to_contain_text(f"Modelo #{baseline['id']} activo", timeout=300_000)
        rasa = httpx.get(f"{stack.extra['rasa_url']}/status", params={"token": stack_token()}, timeout=10).json()
        assert rasa["model_file"] == baseline["file"]
        audit = [e["action"] for e in api(stack, admin_token, "GET", "/admin/audit").json()["items"]]
        assert audit[:2] == ["model.activate", "model.activate"] and "model.train" in audit
    finally:
        context.close()
    assert problems == []
