"""Take the README's screenshots: the customer widget (desktop and phone), the console in a live chat,
the dashboard.

Starts the demo system the way the tests do (testkit: backend, Rasa and the action server under the
supervisor, a fresh database with the demo data) and drives Debian's chromium through a short real
conversation. Usage (a few minutes: Rasa has to load):

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "backend")]

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from testkit.browser import CHROMIUM_ARGS, chromium_path  # noqa: E402
from testkit.demo import DEMO_PASSWORDS, agent_headers  # noqa: E402
from testkit.processes import Running, stack_timeout, start_stack, stopping  # noqa: E402

CONTACT = "ana.gomez@cableandina.example"
AGENT = "l1@promptlink.example"
ADMIN = "admin@promptlink.example"
DESKTOP = {"width": 1366, "height": 800}
PHONE = {"width": 390, "height": 844}
BOT_WAIT = 60_000
# Tickets the supervisor registers through the API (as «Registrar llamada» and the mail intake do),
# so the dashboard has today's tickets by channel and priority: (channel, type, priority facts).
TICKETS = [
    ("phone", "network_outage", {"production_down": True, "solution_available": False}),
    ("email", "software_bug", {"severely_damaged": True}),
    ("email", "configuration", {"damaged": True}),
    ("phone", "information", {"information_request": True}),
    ("chat", "configuration", {"damaged": True}),
    ("api", "information", {"information_request": True}),
]


def send(page: Any, text: str) -> None:
    page.fill(".pl-input", text)
    page.press(".pl-input", "Enter")


def open_widget(page: Any, stack: Running) -> str:
    """The demo site with Ana's identity; the conversation id once the session is up."""
    page.goto(stack.base_url + "/")
    expect(page.locator('.pl-status[data-state="online"]')).to_be_visible(timeout=30_000)
    key = json.dumps(f"promptlink.chat.{CONTACT}.conversation_id")
    page.wait_for_function(f"() => !!window.localStorage.getItem({key})")
    return str(json.loads(page.evaluate(f"() => window.localStorage.getItem({key})")))


def bot_answers(page: Any, count: int) -> None:
    expect(page.locator('.pl-msg[data-role="bot"]')).to_have_count(count, timeout=BOT_WAIT)


def log_in(page: Any, stack: Running, path: str, who: str) -> None:
    page.goto(stack.base_url + path)
    page.fill("#login-email", who)
    page.fill("#login-password", DEMO_PASSWORDS[who])
    page.click("#login-form button[type=submit]")
    expect(page.locator("#whoami-name")).to_be_visible()


def shoot(page: Any, out: Path, name: str) -> None:
    page.wait_for_timeout(500)  # fonts and the last paint settle (a picture, not a test)
    path = out / f"{name}.png"
    page.screenshot(path=str(path))
    print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {path.stat().st_size // 1024} KB")


def take(stack: Running, browser: Any, out: Path) -> None:
    def context(viewport: dict[str, int], **options: Any) -> Any:
        return browser.new_context(locale="es-ES", viewport=viewport, **options)

    # The widget on a desktop: a short exchange with the assistant.
    customer = context(DESKTOP).new_page()
    conversation_id = open_widget(customer, stack)
    send(customer, "hola")
    bot_answers(customer, 1)
    send(customer, "cada cuanto me informan del avance de un tiquete?")
    bot_answers(customer, 2)
    shoot(customer, out, "widget-desktop")

    # The widget on a phone (its own customer session).
    phone = context(PHONE, is_mobile=True, has_touch=True, device_scale_factor=1).new_page()
    open_widget(phone, stack)
    send(phone, "hola")
    bot_answers(phone, 1)
    send(phone, "que canales de contacto tienen?")
    bot_answers(phone, 2)
    shoot(phone, out, "widget-phone")

    # The console: the desktop customer asks for a person; Laura (L1) takes the chat and answers.
    send(customer, "quiero hablar con una persona")
    expect(customer.locator(".pl-queue")).to_contain_text("Nivel 1", timeout=BOT_WAIT)
    agent = context(DESKTOP).new_page()
    log_in(agent, stack, "/console", AGENT)
    expect(agent.locator("#live-status")).to_have_attribute("data-state", "online", timeout=15_000)
    agent.evaluate("() => { window.location.hash = '#/chats'; }")
    agent.select_option("#presence-select", "online")
    row = agent.locator(f'.chat-queue-row[data-conversation-id="{conversation_id}"]')
    expect(row).to_be_visible(timeout=15_000)
    row.locator(".chat-claim").click()
    agent.wait_for_url(re.compile(f"#/chats/{conversation_id}$"))
    agent.fill("#reply-text", "Hola Ana, soy Laura del Soporte de Nivel 1. ¿En qué equipo ve el problema?")
    agent.press("#reply-text", "Enter")
    expect(customer.locator('.pl-msg[data-role="agent"]')).to_have_count(1, timeout=15_000)
    send(customer, "En el router del nodo central, desde esta mañana.")
    expect(agent.locator("#conv-messages")).to_contain_text("nodo central", timeout=15_000)
    shoot(agent, out, "console-live-chat")
    shoot(customer, out, "widget-with-agent")

    # The dashboard, after a few tickets came in by phone, e-mail and the API.
    supervisor = agent_headers(stack.base_url, "supervisor@promptlink.example")
    for channel, kind, facts in TICKETS:
        body = {"customer": "CABLEANDINA", "contact": CONTACT, "channel": channel, "type": kind, "facts": facts}
        body["title"] = f"Caso de demostración ({kind})"
        response = httpx.post(stack.base_url + "/api/v1/tickets", json=body, headers=supervisor, timeout=15)
        response.raise_for_status()
    admin = context(DESKTOP).new_page()
    log_in(admin, stack, "/admin#/panel", ADMIN)
    expect(admin.locator('.panel-table[data-table="tickets_by_priority"] canvas')).to_be_visible()
    admin.select_option("#panel-days", "7")  # the demo's activity is today's: a week shows it wider
    expect(admin.locator('.panel-table[data-table="tickets_by_channel"] tbody tr')).to_have_count(7)
    shoot(admin, out, "dashboard")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="promptlink-shots-") as var_dir:
        print("Starting the demo system (backend, Rasa, action server)…", flush=True)
        with stopping(start_stack(Path(var_dir), timeout=stack_timeout(), rasa_processes=1)) as stack:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
                try:
                    take(stack, browser, args.out)
                finally:
                    browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
