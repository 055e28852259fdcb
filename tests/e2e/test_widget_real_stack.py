"""The widget's usability features against the REAL system: Chromium on the demo site, the real
backend, both Rasa servers, the action server and socket.io (the session-wide `stack`).

`test_widget_ux.py` proves the same features against a fake in-page server (geometry, exact
states); here each one is reached through a real conversation, as a customer walking the tour
would: the welcome's topics, quick replies by keyboard across a reload, the ticket list in one
bubble, the queue line and «Terminar» in a real handoff, links, and the launcher's badge.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from testkit.browser import page_factory
from testkit.demo import ANA, agent_headers, create_ticket
from testkit.processes import Running

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

BOT_WAIT = 60_000  # a bot reply on a loaded 2-core machine
SUPERVISOR = "supervisor@promptlink.example"
MARIA = "maria.rodriguez@telecaribe.example"  # TeleCaribe, whose one device is the OLT below
MARIA_DEVICE = "olt-sdq-01"


@pytest.fixture
def pages(browser) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """Fresh Spanish browser contexts (1280×800); a JS error or a dialog in any of them fails the test."""
    with page_factory(browser) as open_page:
        yield open_page


def open_widget(page: Page, stack: Running, contact: str = ANA) -> str:
    """The demo site as `contact` (Ana by default): waits for the session; returns the conversation id."""
    page.add_init_script(f"window.localStorage.setItem('promptlink.demo.contact', {json.dumps(contact)})")
    page.goto(stack.base_url + "/")
    expect(page.locator('.pl-status[data-state="online"]')).to_be_visible(timeout=20_000)
    key = json.dumps(f"promptlink.chat.{contact}.conversation_id")
    page.wait_for_function(f"() => !!window.localStorage.getItem({key})")
    return str(json.loads(page.evaluate(f"() => window.localStorage.getItem({key})")))


def reload(page: Page) -> None:
    page.reload()
    expect(page.locator('.pl-status[data-state="online"]')).to_be_visible(timeout=20_000)


def send(page: Page, text: str) -> None:
    page.locator(".pl-input").fill(text)
    page.locator(".pl-input").press("Enter")


def bots(page: Page) -> Locator:
    return page.locator('.pl-msg[data-role="bot"]')


def customer_texts(page: Page) -> Locator:
    return page.locator('.pl-msg[data-role="customer"] .pl-msg-text')


def distance_from_bottom(page: Page) -> float:
    return float(
        page.evaluate(
            "() => { const m = document.querySelector('.pl-messages');"
            " return m.scrollHeight - m.scrollTop - m.clientHeight; }"
        )
    )


def test_the_welcome_topic_is_sent_and_the_assistant_answers_it(stack: Running, pages) -> None:  # type: ignore[no-untyped-def]
    page = pages()
    open_widget(page, stack)
    welcome = page.locator(".pl-welcome")
    expect(welcome).to_be_visible()
    expect(welcome).to_contain_text("Escriba su consulta o elija un tema")
    topics = welcome.get_by_role("button")
    expect(topics.first).to_have_text("¿Qué cubre el plan de soporte?")
    assert topics.count() >= 3

    topics.first.click()
    expect(customer_texts(page)).to_have_text(["¿Qué cubre el plan de soporte?"])
    expect(page.locator('.pl-msg[data-role="customer"][data-seq]')).to_have_count(1, timeout=15_000)  # stored
    expect(bots(page).first).to_be_visible(timeout=BOT_WAIT)
    answer = bots(page).first.locator(".pl-msg-text")
    expect(answer).to_have_text(re.compile(r"\w{3,}"))
    assert "no le entendí" not in answer.inner_text()  # the real assistant understood the topic
    expect(welcome).to_be_hidden()
    expect(topics.first).to_be_hidden()

    reload(page)  # the conversation is back, the welcome is not
    expect(customer_texts(page)).to_have_text(["¿Qué cubre el plan de soporte?"])
    expect(bots(page)).to_have_count(1)
    expect(welcome).to_be_hidden()


def test_a_quick_reply_by_keyboard_then_a_reload_keeps_it_answered_and_the_log_at_the_end(
    stack: Running,
    pages,  # type: ignore[no-untyped-def]
) -> None:
    page = pages()
    # María's OLT: other tests on this stack open tickets for Ana's CMTS, and the assistant would
    # rightly offer to add to that open ticket instead of asking for a workaround.
    open_widget(page, stack, MARIA)
    send(page, "la red está caída desde hace una hora")
    expect(bots(page).last).to_contain_text("equipo o producto", timeout=BOT_WAIT)
    send(page, f"el equipo afectado es el {MARIA_DEVICE}")
    question = bots(page).filter(has_text="¿Tiene alguna solución provisional")
    expect(question).to_have_count(1, timeout=BOT_WAIT)
    old = question.locator(".pl-button")
    expect(old).to_have_count(2)
    for button in old.all():
        expect(button).to_be_enabled()

    # By keyboard: focus «No» and press Enter.
    no = question.get_by_role("button", name="No", exact=True)
    no.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".pl-input")).to_be_focused()
    expect(customer_texts(page).last).to_have_text("No")
    for button in old.all():
        expect(button).to_be_disabled()
    expect(no).to_have_attribute("aria-pressed", "true")

    # The assistant goes on: the summary card with its own (active) buttons.
    card = bots(page).filter(has_text="¿Es correcto?")
    expect(card).to_have_count(1, timeout=BOT_WAIT)
    expect(card).to_contain_text(f"Equipo: {MARIA_DEVICE}")
    expect(card.get_by_role("button", name="Sí, registrar")).to_be_enabled()

    reload(page)
    expect(bots(page).filter(has_text="¿Es correcto?")).to_have_count(1)
    page.wait_for_function(
        "() => { const m = document.querySelector('.pl-messages');"
        " return m.scrollHeight - m.scrollTop - m.clientHeight <= 2; }",
        timeout=5_000,
    )
    assert distance_from_bottom(page) <= 2
    assert page.evaluate(
        "() => { const m = document.querySelector('.pl-messages'); return m.scrollHeight > m.clientHeight; }"
    )
    old = bots(page).filter(has_text="¿Tiene alguna solución provisional").locator(".pl-button")
    expect(old).to_have_count(2)
    for button in old.all():
        expect(button).to_be_disabled()
    expect(bots(page).filter(has_text="¿Es correcto?").get_by_role("button", name="Sí, registrar")).to_be_enabled()


def test_the_open_tickets_are_one_bubble_with_a_list(stack: Running, pages) -> None:  # type: ignore[no-untyped-def]
    supervisor = agent_headers(stack.base_url, SUPERVISOR)
    numbers = [
        str(
            create_ticket(
                stack.base_url, supervisor, customer="CABLEANDINA", contact=ANA, type="configuration", title=title
            )["number"]
        )
        for title in ("Configurar una VLAN en Quito", "Consulta sobre la OLT de Cuenca")
    ]
    page = pages()
    open_widget(page, stack)
    send(page, "¿cómo va mi tiquete?")
    expect(bots(page)).to_have_count(1, timeout=BOT_WAIT)
    answer = bots(page).first
    expect(answer).to_contain_text("Su empresa tiene", timeout=BOT_WAIT)
    items = answer.locator("ul > li")
    assert items.count() >= 2
    for number in numbers:
        expect(items.filter(has_text=number)).to_have_count(1)
    # The turn is over (the typing line is gone) and no second bubble followed with more tickets.
    expect(page.locator(".pl-typing")).to_be_hidden(timeout=BOT_WAIT)
    expect(bots(page)).to_have_count(1)


def test_a_real_handoff_shows_the_queue_line_and_ending_asks_first(stack: Running, pages) -> None:  # type: ignore[no-untyped-def]
    page = pages()
    open_widget(page, stack)
    end = page.locator(".pl-end")
    send(page, "hola")
    expect(bots(page).first).to_contain_text("Ana", timeout=BOT_WAIT)
    expect(page.locator(".pl-chat")).to_have_attribute("data-mode", "bot")
    expect(end).to_be_hidden()  # with the assistant there is nothing to end

    send(page, "quiero hablar con una persona")
    expect(page.locator(".pl-chat")).to_have_attribute("data-mode", "queued", timeout=BOT_WAIT)
    queue = page.locator(".pl-queue")
    expect(queue).to_have_text(re.compile(r"^En cola para un especialista de Nivel 1\. Posición: \d+\."))
    expect(page.locator(".pl-agent")).to_have_text("Soporte de Nivel 1")

    # Nobody of Level 1 is online in this stack: the chat says how and when, and no estimate contradicts it.
    offer = page.locator(".pl-unavailable")
    expect(offer).to_be_visible(timeout=15_000)
    expect(offer).to_contain_text("no hay especialistas de Soporte de Nivel 1 conectados")
    expect(offer.get_by_role("button", name="Seguir esperando")).to_be_visible()
    notice = page.locator('.pl-msg[data-role="system"]', has_text="le contactaremos")
    expect(notice).to_contain_text("en cuanto un especialista se conecte")
    expect(queue).to_have_text(re.compile(r"^En cola para un especialista de Nivel 1\. Posición: \d+\.$"))
    reload(page)
    expect(page.locator(".pl-chat")).to_have_attribute("data-mode", "queued")
    expect(offer).to_be_visible()
    expect(queue).to_have_text(re.compile(r"^En cola para un especialista de Nivel 1\. Posición: \d+\.$"))

    # «Terminar» now, and it asks first.
    expect(end).to_be_visible()
    end.click()
    confirm = page.get_by_role("group", name="¿Terminar la conversación?")
    expect(confirm).to_be_visible()
    confirm.get_by_role("button", name="No, seguir").click()
    expect(confirm).to_be_hidden()
    expect(page.locator(".pl-chat")).to_have_attribute("data-mode", "queued")
    expect(queue).to_be_visible()

    end.click()
    confirm.get_by_role("button", name="Sí, terminar").click()
    expect(page.locator(".pl-chat")).to_have_attribute("data-mode", "closed")
    expect(end).to_be_hidden()
    expect(queue).to_be_hidden()
    expect(page.locator(".pl-rating")).to_be_visible()
    reload(page)
    expect(page.locator(".pl-chat")).to_have_attribute("data-mode", "closed")


def test_the_contact_address_is_a_mailto_link(stack: Running, pages) -> None:  # type: ignore[no-untyped-def]
    page = pages()
    open_widget(page, stack)
    send(page, "¿cómo los contacto?")
    answer = bots(page).filter(has_text="correo electrónico")
    expect(answer).to_have_count(1, timeout=BOT_WAIT)
    link = answer.locator("a.pl-link")
    expect(link).to_have_count(1)
    address = link.inner_text()
    assert re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", address), address
    expect(link).to_have_attribute("href", f"mailto:{address}")


def test_the_launcher_toggles_the_chat_and_counts_a_reply_that_arrives_closed(stack: Running, pages) -> None:  # type: ignore[no-untyped-def]
    page = pages()
    open_widget(page, stack)
    launcher, chat = page.locator(".pl-launcher"), page.locator(".pl-chat")
    expect(launcher).to_have_attribute("aria-expanded", "true")
    launcher.click()
    expect(chat).to_be_hidden()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    launcher.click()
    expect(chat).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "true")

    # Send, and close the chat in the same task: the assistant's reply can only arrive closed.
    page.locator(".pl-input").fill("¿cuáles son las prioridades?")
    page.evaluate(
        "() => { document.querySelector('.pl-send').click(); document.querySelector('.pl-launcher').click(); }"
    )
    expect(chat).to_be_hidden()
    badge = page.locator(".pl-launcher-badge")
    expect(badge).to_have_text(re.compile(r"^[1-9]\d*$"), timeout=BOT_WAIT)
    expect(badge).to_be_visible()
    expect(launcher).to_have_accessible_name(re.compile(r"^Abrir el chat de soporte \(\d+ mensajes? nuevos?\)$"))
    # It counts exactly the messages from the other side that arrived closed (the chat was empty before).
    expect(page.locator(".pl-typing")).to_be_hidden(timeout=BOT_WAIT)
    arrived = page.locator('.pl-msg[data-seq]:not([data-role="customer"])').count()
    assert arrived >= 1 and bots(page).count() >= 1
    expect(badge).to_have_text(str(arrived))

    launcher.click()
    expect(chat).to_be_visible()
    expect(badge).to_be_hidden()
    expect(launcher).to_have_accessible_name("Cerrar el chat de soporte")
    expect(bots(page).last).to_contain_text("Prioridad 1")
    expect(page.locator(".pl-input")).to_be_focused()
