"""Live chat in real browsers: the customer's widget on the demo site and agents in the console.

Chromium (Debian's) against the three real processes (backend, Rasa, action server).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from testkit.browser import console_login, page_factory
from testkit.demo import DEMO_PASSWORDS, agent_token, service_headers
from testkit.processes import Running

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CONTACT = "ana.gomez@cableandina.example"
L1 = "l1@promptlink.example"
L3 = "l3@promptlink.example"
SUPERVISOR = "supervisor@promptlink.example"
BOT_WAIT = 45_000

# Each payload would set window.__xss if it ever reached the DOM as markup.
XSS = [
    '<img src=x onerror="window.__xss=1">',
    "<script>window.__xss=1</script>",
    '"><svg onload="window.__xss=1">',
    "javascript:window.__xss=1",
    '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
    "{{constructor.constructor('window.__xss=1')()}}",
    '\u202eevil\u202c <b onmouseover="window.__xss=1">negrita</b>',
]
MARKUP = "img, svg, script, iframe, b, object, embed"


@pytest.fixture
def pages(browser) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """A factory of fresh Spanish browser contexts; a JS error or a dialog in any page fails the test."""
    with page_factory(browser, height=900) as open_page:
        yield open_page


def headers(stack: Running, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {agent_token(stack.base_url, who, DEMO_PASSWORDS[who])}"}


def open_widget(page: Page, stack: Running) -> str:
    """The demo site with Ana's identity; returns the conversation id once the session is up."""
    page.goto(stack.base_url + "/")
    expect(page.locator('.pl-status[data-state="online"]')).to_be_visible(timeout=20_000)
    key = f"promptlink.chat.{CONTACT}.conversation_id"
    page.wait_for_function(f"() => !!window.localStorage.getItem({json.dumps(key)})")
    return str(json.loads(page.evaluate(f"() => window.localStorage.getItem({json.dumps(key)})")))


def send(page: Page, text: str) -> None:
    page.fill(".pl-input", text)
    page.press(".pl-input", "Enter")


def queue_row(page: Page, conversation_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f'.chat-queue-row[data-conversation-id="{conversation_id}"]')


def claim_from_queue(page: Page, conversation_id: str) -> None:
    row = queue_row(page, conversation_id)
    expect(row).to_be_visible(timeout=15_000)
    row.locator(".chat-claim").click()
    page.wait_for_url(re.compile(f"#/chats/{conversation_id}$"))
    expect(page.locator("#conv-state")).to_have_attribute("data-mode", "human")


def reply(page: Page, text: str) -> None:
    page.fill("#reply-text", text)
    page.press("#reply-text", "Enter")
    expect(page.locator("#reply-text")).to_have_value("")


def test_customer_l1_transfer_l3_hand_back_end_and_rating(stack: Running, pages) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    customer = pages()
    conversation_id = open_widget(customer, stack)

    # The customer asks for a person: queued for Level 1, the place shown under the header.
    send(customer, "quiero hablar con una persona")
    queue_notice = customer.locator(".pl-queue")
    expect(queue_notice).to_contain_text("Nivel 1", timeout=BOT_WAIT)
    expect(queue_notice).to_contain_text(re.compile(r"Posición: \d+\."))
    expect(customer.locator(".pl-agent")).to_have_text("Soporte de Nivel 1")

    # Laura (L1) logs into the console, goes online and sees the chat waiting, its wait counting up.
    laura = pages()
    console_login(laura, stack.base_url, L1)
    laura.select_option("#presence-select", "online")
    expect(laura.locator("#presence-load")).to_contain_text(re.compile(r"^Conectado · \d+ de \d+ chats$"))
    row = queue_row(laura, conversation_id)
    expect(row).to_be_visible(timeout=15_000)
    expect(row).to_contain_text("El cliente pidió hablar con una persona")
    expect(row).to_contain_text("Cable Andina")
    wait = row.locator(".chat-wait")
    expect(wait).to_have_text(re.compile(r"^Espera \d+"))
    first = wait.text_content()
    expect(wait).not_to_have_text(first or "", timeout=3_000)
    claim_from_queue(laura, conversation_id)

    # The whole transcript so far, with the assistant's reading of the customer's message.
    asked = laura.locator('.cmsg[data-role="customer"]', has_text="quiero hablar con una persona")
    expect(asked).to_have_count(1)
    expect(asked.locator(".cmsg-parse")).to_contain_text("request_human")
    expect(laura.locator('.cmsg[data-role="bot"]').first).to_be_visible()
    expect(laura.locator("#conv-customer")).to_contain_text("CABLEANDINA")
    expect(laura.locator("#conv-customer")).to_contain_text(CONTACT)
    expect(laura.locator("#conv-contracts .contract").first).to_contain_text("Contrato de")
    expect(laura.locator("#my-chats .chat-item")).to_have_count(1)
    expect(laura.locator("#presence-load")).to_contain_text("1 de")

    # The customer sees who attends them.
    expect(customer.locator(".pl-agent")).to_have_text("Le atiende Laura Nivel Uno · Nivel 1")
    expect(customer.locator(".pl-queue")).to_be_hidden()

    # Typing both ways, then messages both ways.
    customer.fill(".pl-input", "Tengo un problema")
    expect(laura.locator("#conv-typing")).to_have_text("El cliente está escribiendo…")
    expect(laura.locator("#conv-typing")).to_be_visible()
    customer.press(".pl-input", "Enter")
    expect(laura.locator('.cmsg[data-role="customer"] .cmsg-text').last).to_have_text("Tengo un problema")
    expect(laura.locator("#conv-typing")).to_be_hidden()

    laura.fill("#reply-text", "Hola Ana, ¿qué equipo")
    expect(customer.locator(".pl-typing")).to_have_text("Laura Nivel Uno está escribiendo…")
    laura.fill("#reply-text", "Hola Ana, ¿qué equipo falla?")
    laura.press("#reply-text", "Enter")
    agent_msg = customer.locator('.pl-msg[data-role="agent"]').last
    expect(agent_msg.locator(".pl-msg-text")).to_have_text("Hola Ana, ¿qué equipo falla?")
    expect(agent_msg.locator(".pl-msg-author")).to_have_text("Laura Nivel Uno")
    expect(customer.locator(".pl-typing")).to_be_hidden()
    mine = laura.locator('.cmsg[data-role="agent"]', has_text="¿qué equipo falla?")
    expect(mine).to_have_count(1)
    expect(laura.locator(".cmsg-pending")).to_have_count(0)

    send(customer, "El router del nodo central")
    expect(laura.locator('.cmsg[data-role="customer"] .cmsg-text').last).to_have_text("El router del nodo central")

    # An internal note, then a transfer to Level 3 (a reason is required).
    laura.click("#composer-tab-note")
    laura.fill("#reply-text", "Parece una falla de firmware.")
    laura.click("#reply-send")
    expect(laura.locator('#conv-notes [data-kind="note"]')).to_contain_text("Parece una falla de firmware.")
    laura.select_option("#transfer-tier", "L3")
    laura.click("#transfer-form button[type=submit]")
    expect(laura.locator("#transfer-form .form-msg")).to_have_text("Indique el motivo de la transferencia.")
    laura.fill("#transfer-reason", "Requiere diagnóstico de firmware")
    laura.click("#transfer-form button[type=submit]")
    expect(laura.locator("#my-chats .chat-item")).to_have_count(0)
    expect(laura.locator("#composer-tab-reply")).to_be_disabled()  # not hers any more: notes only
    expect(customer.locator(".pl-queue")).to_contain_text("Nivel 3")
    expect(customer.locator(".pl-agent")).to_have_text("Soporte de Nivel 3")

    # Sofía (L3) takes it and carries on, with everything said so far.
    sofia = pages()
    console_login(sofia, stack.base_url, L3)
    expect(queue_row(sofia, conversation_id)).to_contain_text("Requiere diagnóstico de firmware")
    claim_from_queue(sofia, conversation_id)
    expect(sofia.locator('.cmsg[data-role="agent"]', has_text="¿qué equipo falla?")).to_have_count(1)
    expect(sofia.locator('#conv-notes [data-kind="note"]')).to_contain_text("Parece una falla de firmware.")
    expect(sofia.locator('#conv-log [data-kind="transferred"]')).to_contain_text("Requiere diagnóstico de firmware")
    expect(customer.locator(".pl-agent")).to_have_text("Le atiende Sofía Nivel Tres · Nivel 3")
    reply(sofia, "Ya actualicé el firmware; debería funcionar.")
    expect(customer.locator('.pl-msg[data-role="agent"] .pl-msg-text').last).to_have_text(
        "Ya actualicé el firmware; debería funcionar."
    )

    # Back to the assistant, which answers the next question.
    sofia.click("#conv-hand-back")
    sofia.click("#hand-back-yes")  # it asks first
    expect(sofia.locator("#conv-state")).to_have_attribute("data-mode", "bot")
    expect(customer.locator(".pl-chat")).to_have_attribute("data-mode", "bot")
    expect(customer.locator(".pl-agent")).to_be_hidden()
    bots = customer.locator('.pl-msg[data-role="bot"]')
    before = bots.count()
    send(customer, "¿cuáles son los niveles de prioridad?")
    expect(bots).to_have_count(before + 1, timeout=BOT_WAIT)
    expect(bots.last).to_contain_text("Prioridad 1")

    # «Terminar conversación» is for a chat with a person (or waiting for one), and asks first:
    # the customer asks for a person again, then ends the chat and rates it.
    expect(customer.locator(".pl-end")).to_be_hidden()
    send(customer, "quiero hablar con una persona")
    expect(customer.locator(".pl-chat")).to_have_attribute("data-mode", "queued", timeout=BOT_WAIT)
    customer.click(".pl-end")
    customer.get_by_role("button", name="Sí, terminar").click()
    rating = customer.locator(".pl-rating")
    expect(rating).to_be_visible()
    customer.click(".pl-rating-send")
    expect(customer.locator(".pl-rating-error")).to_have_text("Elija una calificación de 1 a 5.")
    customer.click('.pl-rate[data-score="5"]')
    customer.fill(".pl-rating-comment", "Muy buena atención")
    customer.click(".pl-rating-send")
    expect(customer.locator(".pl-rating-thanks")).to_have_text("¡Gracias!")
    expect(customer.locator(".pl-rating-set")).to_be_hidden()
    expect(sofia.locator("#conv-state")).to_contain_text("Calificación: 5/5")

    # Stored: the supervisor reads the rating and the transfer's reason.
    detail = httpx.get(
        f"{stack.base_url}/api/v1/conversations/{conversation_id}", headers=headers(stack, SUPERVISOR), timeout=10
    ).json()
    assert detail["conversation"]["mode"] == "closed"
    assert detail["conversation"]["rating"] == 5
    assert detail["conversation"]["rating_comment"] == "Muy buena atención"
    kinds = [e["kind"] for e in detail["events"]]
    assert kinds.count("claimed") == 2 and "transferred" in kinds and "handed_back" in kinds and "rated" in kinds
    print(f"live chat flow: {time.monotonic() - started:.1f} s")


def _no_markup(page: Page, area: str) -> None:
    assert page.evaluate("() => window.__xss") is None
    assert page.locator(area).locator(MARKUP).count() == 0


def test_xss_payloads_render_as_text_in_widget_and_console(stack: Running, pages) -> None:  # type: ignore[no-untyped-def]
    customer = pages()
    conversation_id = open_widget(customer, stack)
    response = httpx.post(
        f"{stack.base_url}/api/v1/conversations/{conversation_id}/handoff",
        json={"tier": "L1", "reason": XSS[0]},
        headers=service_headers(conversation_id=conversation_id),
        timeout=10,
    )
    assert response.status_code == 200, response.text

    # The supervisor sees every queue, the agents and the overdue tickets; takes the chat.
    boss = pages()
    console_login(boss, stack.base_url, SUPERVISOR)
    expect(boss.locator('.chat-queue[data-tier="L3"]')).to_be_visible()
    expect(boss.locator("#agents-card")).to_be_visible()
    boss.select_option("#presence-select", "online")
    expect(boss.locator('#agents-list tr[data-presence="online"]', has_text="Carlos Supervisor")).to_have_count(1)
    expect(boss.locator("#agents-list")).to_contain_text("Laura Nivel Uno")
    expect(boss.locator("#breaches-summary")).to_have_text(re.compile(r"vencida"))
    row = queue_row(boss, conversation_id)
    expect(row.locator(".chat-reason")).to_have_text("Motivo: " + XSS[0])
    _no_markup(boss, "#chat-queues")
    claim_from_queue(boss, conversation_id)

    for payload in XSS:
        send(customer, payload)
    customer_texts = boss.locator('.cmsg[data-role="customer"] .cmsg-text')
    expect(customer_texts).to_have_count(len(XSS))
    assert customer_texts.all_text_contents() == XSS

    for payload in XSS:
        reply(boss, payload)
    widget_agent = customer.locator('.pl-msg[data-role="agent"] .pl-msg-text')
    expect(widget_agent).to_have_count(len(XSS))
    assert widget_agent.all_text_contents() == XSS

    # A reload of both pages renders the stored history as text again (the agent still handles it).
    customer.reload()
    expect(customer.locator(".pl-agent")).to_have_text("Le atiende Carlos Supervisor · Nivel 1")
    expect(customer.locator('.pl-msg[data-role="agent"] .pl-msg-text')).to_have_count(len(XSS))
    assert customer.locator('.pl-msg[data-role="agent"] .pl-msg-text').all_text_contents() == XSS
    boss.reload()
    expect(boss.locator('.cmsg[data-role="agent"] .cmsg-text')).to_have_count(len(XSS))
    assert boss.locator('.cmsg[data-role="customer"] .cmsg-text').all_text_contents() == XSS
    _no_markup(customer, ".pl-chat")
    _no_markup(boss, "#conv-pane")

    boss.click("#composer-tab-note")
    boss.fill("#reply-text", XSS[1])
    boss.click("#reply-send")
    expect(boss.locator('#conv-notes [data-kind="note"] .history-text')).to_have_text(XSS[1])
    boss.select_option("#transfer-tier", "L2")
    boss.fill("#transfer-reason", XSS[2])
    boss.click("#transfer-form button[type=submit]")
    expect(boss.locator('#conv-log [data-kind="transferred"] .history-text')).to_have_text(XSS[2])
    boss.click("#conv-claim")
    expect(boss.locator("#conv-state")).to_have_attribute("data-mode", "human")
    boss.fill("#close-resolution", XSS[4])
    boss.click("#close-form button[type=submit]")
    boss.click("#close-yes")  # it asks first
    expect(boss.locator('#conv-log [data-kind="closed"] .history-text')).to_have_text(XSS[4])
    expect(boss.locator("#conv-state")).to_contain_text(XSS[4])

    # The customer rates with a payload as the comment; the console shows it as text too.
    expect(customer.locator(".pl-rating")).to_be_visible()
    customer.click('.pl-rate[data-score="2"]')
    customer.fill(".pl-rating-comment", XSS[5])
    customer.click(".pl-rating-send")
    expect(customer.locator(".pl-rating-thanks")).to_be_visible()
    expect(boss.locator("#conv-state")).to_contain_text(XSS[5])
    for page, area in ((customer, ".pl-chat"), (boss, "#conv-pane"), (boss, "#chats-view")):
        _no_markup(page, area)
