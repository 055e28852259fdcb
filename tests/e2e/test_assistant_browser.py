"""The assistant end to end in Chromium: an outage becomes a P1 ticket handed to the L3 queue."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def send(page: Page, text: str) -> None:
    page.fill(".pl-input", text)
    page.click(".pl-send")


def last_bot(page: Page):
    return page.locator('.pl-msg[data-role="bot"] .pl-msg-text').last


def click_button(page: Page, title: str) -> None:
    page.locator(".pl-button", has_text=title).last.click()


def test_an_outage_becomes_a_p1_ticket_in_the_l3_queue(stack, page: Page) -> None:
    page.goto(stack.base_url + "/")
    expect(page.locator('.pl-status[data-state="online"]')).to_be_visible(timeout=20_000)

    send(page, "la red está caída desde hace una hora")
    expect(last_bot(page)).to_contain_text("equipo o producto", timeout=30_000)
    send(page, "el equipo afectado es el cmts-bog-01")
    # «la red está caída» already said production is down: that question is not asked.
    expect(last_bot(page)).to_contain_text("solución provisional", timeout=30_000)
    click_button(page, "No")
    card = last_bot(page)
    expect(card).to_contain_text("¿Es correcto?", timeout=30_000)
    expect(card).to_contain_text("Equipo: cmts-bog-01")
    expect(card).to_contain_text("Producción caída: sí")
    click_button(page, "Sí, registrar")

    created = page.locator('.pl-msg[data-role="bot"] .pl-msg-text', has_text="registré su tiquete")
    expect(created).to_contain_text("Prioridad 1", timeout=30_000)
    expect(created).to_contain_text("Soporte de Nivel 3")
    number = re.search(r"PL-\d{4}-\d{6}", created.inner_text()).group(0)
    expect(page.locator('.pl-msg[data-role="system"] .pl-msg-text').last).to_contain_text("Nivel 3")

    login = httpx.post(
        f"{stack.base_url}/api/v1/auth/login",
        json={"email": "l3@promptlink.example", "password": "demo-l3-pass"},
        timeout=10,
    )
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    ticket = httpx.get(f"{stack.base_url}/api/v1/tickets/{number}", headers=headers, timeout=10).json()
    assert (ticket["priority"], ticket["tier"], ticket["channel"]) == (1, "L3", "chat")
    assert ticket["customer"] == "CABLEANDINA" and ticket["contact"] == "ana.gomez@cableandina.example"
    chats = httpx.get(f"{stack.base_url}/api/v1/queues/chats", headers=headers, timeout=10).json()
    queued = [c for q in chats["queues"] for c in q["conversations"] if c.get("ticket") == number]
    assert queued and queued[0]["tier"] == "L3"
    assert page.errors == []
