"""The customer's view end to end: Chromium, the demo site and the three real processes."""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

GREETING = "Soporte Técnico de Promptlink"


def send(page: Page, text: str) -> None:
    page.fill(".pl-input", text)
    page.click(".pl-send")


def health(stack) -> httpx.Response:
    return httpx.get(stack.base_url + "/api/v1/health", timeout=10)


def wait_health(stack, status: int, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = health(stack)
            if response.status_code == status:
                return response.json()
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"health never returned {status} within {timeout} s")


def bot_messages(page: Page):
    return page.locator('.pl-msg[data-role="bot"] .pl-msg-text')


def test_greeting_reload_rasa_outage_and_recovery(stack, page: Page) -> None:
    page.goto(stack.base_url + "/")
    expect(page.locator('.pl-status[data-state="online"]')).to_be_visible(timeout=20_000)

    # «hola» gets a Spanish greeting that uses the contact's name.
    send(page, "hola")
    expect(bot_messages(page).first).to_contain_text(GREETING, timeout=30_000)
    expect(bot_messages(page).first).to_contain_text("Ana")
    expect(page.locator('.pl-msg[data-role="customer"] .pl-msg-text').first).to_have_text("hola")

    # A reload keeps the history and the conversation.
    page.reload()
    expect(page.locator('.pl-status[data-state="online"]')).to_be_visible(timeout=20_000)
    expect(page.locator('.pl-msg[data-role="customer"]')).to_have_count(1)
    expect(bot_messages(page)).to_have_count(1)
    expect(bot_messages(page).first).to_contain_text(GREETING)

    # Kill one of the two Rasa servers: the other takes the turns; health says 503 naming rasa.
    backend_pid = stack.pid("backend")
    os.kill(stack.pid("rasa"), signal.SIGKILL)
    body = wait_health(stack, 503, timeout=30)
    assert "rasa" in body["failing"] and "1 of 2 servers up" in body["components"]["rasa"]
    send(page, "hola otra vez")
    expect(bot_messages(page)).to_have_count(2, timeout=30_000)
    expect(bot_messages(page).last).to_contain_text(GREETING)
    wait_health(stack, 200, timeout=240)  # the supervisor restarted it

    # Kill both: the message is kept and the customer reads a Spanish notice.
    os.kill(stack.pid("rasa"), signal.SIGKILL)
    os.kill(stack.pid("rasa-2"), signal.SIGKILL)
    body = wait_health(stack, 503, timeout=30)
    assert "rasa" in body["failing"] and body["components"]["db"] == "ok"
    send(page, "hola de nuevo")
    notice = page.locator('.pl-msg[data-role="system"] .pl-msg-text').last
    expect(notice).to_contain_text("el asistente automático no está disponible", timeout=30_000)
    expect(notice).to_contain_text("Su mensaje quedó guardado")
    expect(page.locator('.pl-msg[data-role="customer"] .pl-msg-text').last).to_have_text("hola de nuevo")

    # The supervisor restarts both; nothing is done by hand and the backend is not restarted.
    wait_health(stack, 200, timeout=240)
    assert stack.pid("backend") == backend_pid
    assert "child exited unexpectedly; restarting" in stack.log()
    send(page, "buenos dias")
    expect(bot_messages(page)).to_have_count(3, timeout=30_000)
    expect(bot_messages(page).last).to_contain_text(GREETING)
    assert page.errors == []


def test_text_is_rendered_as_text_not_html(stack, page: Page) -> None:
    page.goto(stack.base_url + "/")
    expect(page.locator('.pl-status[data-state="online"]')).to_be_visible(timeout=20_000)
    attack = '<img src=x onerror="window.__xss=1"><b>negrita</b>'
    send(page, attack)
    mine = page.locator('.pl-msg[data-role="customer"] .pl-msg-text').last
    expect(mine).to_have_text(attack)
    expect(mine.locator("img")).to_have_count(0)
    expect(page.locator('.pl-msg[data-role="customer"][data-seq]').last).to_be_visible(timeout=10_000)
    page.reload()
    expect(page.locator('.pl-msg[data-role="customer"] .pl-msg-text').last).to_have_text(attack)
    assert page.evaluate("window.__xss") is None


def test_phone_sized_screen_uses_the_full_width(stack, browser) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(stack.base_url + "/")
        expect(page.locator('.pl-status[data-state="online"]')).to_be_visible(timeout=20_000)
        box = page.locator(".pl-chat").bounding_box()
        assert box is not None and box["width"] >= 380
        send(page, "hola")
        expect(bot_messages(page).first).to_contain_text(GREETING, timeout=30_000)
        assert page.locator(".pl-input").is_visible()
    finally:
        context.close()
