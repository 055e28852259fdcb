"""Issue #15 in the agent console at 1366×800 (Chromium, a backend of its own with the assistant down):
a waiting chat claimed and answered with the keyboard only, the workspace filling the window (composer in
view, no page scroll), notes named by their author at once, hand back and close asking first, and the
agent told when the customer ends the chat; axe-core finds nothing serious on the way."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from testkit.axe import assert_no_serious_violations
from testkit.browser import console_login, customer_waiting
from testkit.processes import Running

pytestmark = [pytest.mark.browser]

L1 = "l1@promptlink.example"
SUPERVISOR = "supervisor@promptlink.example"
DESKTOP = {"width": 1366, "height": 800}


def agent(pages: Any, backend: Running, who: str) -> Page:
    page: Page = pages()
    page.set_viewport_size(DESKTOP)
    console_login(page, backend.base_url, who)
    return page


def tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until `selector` has the focus (the keyboard only)."""
    for _ in range(limit):
        if page.evaluate("(s) => !!document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} never got the focus with Tab")


def test_keyboard_claim_reply_full_height_notes_and_confirmations(backend: Running, pages) -> None:  # type: ignore[no-untyped-def]
    customer = pages()
    cid, _ = customer_waiting(customer, backend.base_url, "Mi enlace está intermitente")
    laura = agent(pages, backend, L1)
    row = laura.locator(f'.chat-queue-row[data-conversation-id="{cid}"]')
    expect(row).to_be_visible(timeout=15_000)
    assert_no_serious_violations(laura)  # the live chat page with a waiting card

    # Keyboard only: Tab to «Tomar», Intro; Tab to the reply box, type, Intro.
    tab_to(laura, f'.chat-queue-row[data-conversation-id="{cid}"] .chat-claim')
    laura.keyboard.press("Enter")
    laura.wait_for_url(re.compile(f"#/chats/{cid}$"))
    expect(laura.locator("#conv-state")).to_have_attribute("data-mode", "human")
    expect(laura.locator("#composer-tab-reply")).to_have_attribute("aria-selected", "true")  # replies reach Ana
    tab_to(laura, "#reply-text")
    laura.keyboard.type("Hola Ana, reviso su enlace ahora.")
    laura.keyboard.press("Enter")
    expect(customer.locator('.pl-msg[data-role="agent"] .pl-msg-text').last).to_have_text(
        "Hola Ana, reviso su enlace ahora.", timeout=15_000
    )
    expect(laura.locator('.cmsg[data-role="agent"]', has_text="reviso su enlace")).to_have_count(1)

    # 1366×800: the transcript takes the height left; the composer and its buttons are in view, no page scroll.
    sizes = laura.evaluate(
        """() => {
          const box = (id) => document.getElementById(id).getBoundingClientRect();
          return {page: document.documentElement.scrollHeight, window: window.innerHeight,
                  transcript: box('conv-messages').height, send: box('reply-send').bottom,
                  tabs: box('composer-tab-note').top, handBack: box('conv-hand-back').bottom};
        }"""
    )
    assert sizes["page"] <= sizes["window"], sizes
    assert sizes["send"] <= sizes["window"] and sizes["tabs"] >= 0 and sizes["handBack"] <= sizes["window"], sizes
    assert sizes["transcript"] >= 0.4 * sizes["window"], sizes
    assert_no_serious_violations(laura)  # an open chat

    # A supervisor watching sees Laura's internal note with her name at once (no reload).
    boss = agent(pages, backend, SUPERVISOR)
    boss.evaluate(f"() => {{ window.location.hash = '#/chats/{cid}'; }}")
    expect(boss.locator('.cmsg[data-role="agent"]', has_text="reviso su enlace")).to_have_count(1)
    laura.keyboard.press("Alt+KeyN")
    expect(laura.locator("#composer-tab-note")).to_have_attribute("aria-selected", "true")
    laura.keyboard.type("Enlace con pérdidas en el puerto 3.")
    laura.keyboard.press("Enter")
    for page in (laura, boss):
        note = page.locator('#conv-notes [data-kind="note"]', has_text="pérdidas en el puerto 3")
        expect(note.locator(".history-author")).to_have_text("Laura Nivel Uno")
    laura.keyboard.press("Alt+KeyN")

    # «Devolver al asistente» asks first; Esc (or «Cancelar») keeps the chat and gives the focus back.
    laura.click("#conv-hand-back")
    confirm = laura.locator("#hand-back-confirm")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("¿Devolver la conversación al asistente?")
    expect(laura.locator("#hand-back-yes")).to_be_focused()
    assert_no_serious_violations(laura, context="#conv-actions")
    laura.keyboard.press("Escape")
    expect(confirm).to_be_hidden()
    expect(laura.locator("#conv-hand-back")).to_be_focused()
    laura.click("#conv-hand-back")
    laura.click("#hand-back-no")
    expect(confirm).to_be_hidden()
    expect(laura.locator("#conv-state")).to_have_attribute("data-mode", "human")

    # Closing asks too: nothing happens until «Sí, cerrar».
    laura.fill("#close-resolution", "Se cambió el puerto.")
    laura.click("#close-form button[type=submit]")
    expect(laura.locator("#close-confirm")).to_be_visible()
    expect(laura.locator("#close-yes")).to_be_focused()
    expect(laura.locator("#conv-state")).to_have_attribute("data-mode", "human")
    laura.click("#close-yes")
    expect(laura.locator("#conv-state")).to_have_attribute("data-mode", "closed")
    expect(laura.locator("#conv-ended")).to_contain_text("cerrada por Laura Nivel Uno")
    expect(laura.locator("#reply-text")).to_be_disabled()
    expect(customer.locator(".pl-rating")).to_be_visible(timeout=15_000)


def test_the_agent_is_told_when_the_customer_ends_the_chat(backend: Running, pages) -> None:  # type: ignore[no-untyped-def]
    customer = pages()
    cid, _ = customer_waiting(customer, backend.base_url, "Consulta breve")
    laura = agent(pages, backend, L1)
    row = laura.locator(f'.chat-queue-row[data-conversation-id="{cid}"]')
    expect(row).to_be_visible(timeout=15_000)
    row.locator(".chat-claim").click()
    laura.wait_for_url(re.compile(f"#/chats/{cid}$"))
    expect(laura.locator("#conv-state")).to_have_attribute("data-mode", "human")
    expect(laura.locator(f'#my-chats [data-conversation-id="{cid}"]')).to_have_count(1)
    expect(laura.locator("#conv-ended")).to_be_hidden()

    customer.click(".pl-end")
    customer.get_by_role("button", name="Sí, terminar").click()
    expect(customer.locator(".pl-rating")).to_be_visible(timeout=15_000)

    ended = laura.locator("#conv-ended")
    expect(ended).to_be_visible(timeout=15_000)
    expect(ended).to_contain_text("El cliente terminó la conversación")
    expect(laura.locator('#conv-messages [data-role="ended"]')).to_contain_text("El cliente terminó la conversación")
    expect(laura.locator("#conv-state")).to_have_attribute("data-mode", "closed")
    expect(laura.locator("#reply-text")).to_be_disabled()
    expect(laura.locator("#reply-send")).to_be_disabled()
    expect(laura.locator(f'#my-chats [data-conversation-id="{cid}"]')).to_have_count(0)
    assert_no_serious_violations(laura)
