"""Issue #15 in the agent console (Chromium, a backend of its own with the assistant down): one composer
with «Responder» / «Nota interna» tabs, the «/» picker of canned responses with placeholders filled,
and the keyboard shortcuts (Alt+C take, Ctrl+Intro send, Alt+N note, Alt+T transfer, «?» help)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from testkit.axe import assert_no_serious_violations
from testkit.browser import console_login, open_demo_widget, page_factory, widget_conversation_id
from testkit.demo import ANA, agent_headers, create_ticket, hand_off
from testkit.processes import Running, start_lone_backend

pytestmark = [pytest.mark.browser]

L1 = "l1@promptlink.example"


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """Its own backend: «take the first chat waiting» must find this test's chat first in line."""
    running = start_lone_backend(Path(tmp_path_factory.mktemp("composer")))
    yield running
    running.stop()


@pytest.fixture
def pages(browser) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    with page_factory(browser, height=1000, csp=True) as open_page:
        yield open_page


def customer_waiting(page: Page, backend: Running) -> tuple[str, str]:
    """Ana writes in the widget and is queued for Level 1 with a ticket: (conversation id, ticket)."""
    supervisor = agent_headers(backend.base_url, "supervisor@promptlink.example")
    ticket = str(
        create_ticket(
            backend.base_url, supervisor, customer="CABLEANDINA", contact=ANA, type="configuration", title="VLAN"
        )["number"]
    )
    open_demo_widget(page, backend.base_url, ANA)
    page.fill(".pl-input", "Necesito configurar una VLAN")
    page.press(".pl-input", "Enter")
    cid = widget_conversation_id(page, ANA)
    hand_off(backend.base_url, cid, "L1", ticket)
    return cid, ticket


def test_composer_canned_responses_and_shortcuts(backend: Running, pages) -> None:  # type: ignore[no-untyped-def]
    customer = pages()
    cid, ticket = customer_waiting(customer, backend)

    laura = pages()
    console_login(laura, backend.base_url, L1)
    expect(laura.locator(f'.chat-queue-row[data-conversation-id="{cid}"]')).to_be_visible(timeout=15_000)

    # «?» outside a text field: the list of shortcuts; Esc closes it.
    laura.locator("body").press("?")
    help_ = laura.locator("#shortcuts-help")
    expect(help_).to_be_visible()
    expect(help_).to_contain_text("Alt+C")
    assert_no_serious_violations(laura, context="#shortcuts-help")
    laura.keyboard.press("Escape")
    expect(help_).to_be_hidden()

    # Alt+C takes the first chat waiting: this one.
    laura.keyboard.press("Alt+KeyC")
    laura.wait_for_url(re.compile(f"#/chats/{cid}$"))
    expect(laura.locator("#conv-state")).to_have_attribute("data-mode", "human")
    reply_tab = laura.locator("#composer-tab-reply")
    expect(reply_tab).to_have_attribute("aria-selected", "true")
    assert_no_serious_violations(laura, context="#composer")

    # «/» opens the canned responses; typing filters; Esc closes and keeps the text.
    box = laura.locator("#reply-text")
    box.click()
    box.press_sequentially("/")
    listbox = laura.locator("#canned-list")
    expect(listbox).to_be_visible()
    expect(listbox.locator('[role="option"]').first).to_be_visible()
    assert listbox.locator(".canned-option").count() >= 4  # the common ones and Level 1's
    assert_no_serious_violations(laura, context="#composer")
    box.press_sequentially("desp")
    expect(listbox.locator(".canned-option")).to_have_count(1)
    expect(listbox.locator(".canned-option")).to_contain_text("Despedida")
    laura.keyboard.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_value("/desp")

    # Arrows choose, Intro inserts with the placeholders filled ({tiquete}, {nombre}).
    box.fill("")
    box.press_sequentially("/tiquete")
    expect(listbox.locator(".canned-option")).to_have_count(1)
    laura.keyboard.press("Enter")
    expect(box).to_have_value(re.compile(f"^Su caso queda registrado en el tiquete {ticket}\\."))
    box.fill("")
    box.press_sequentially("/")
    expect(listbox.locator(".canned-option").first).to_be_visible()
    first = listbox.locator(".canned-option").nth(0).get_attribute("data-key")
    laura.keyboard.press("ArrowDown")
    expect(listbox.locator(".canned-option").nth(1)).to_have_attribute("aria-selected", "true")
    laura.keyboard.press("ArrowUp")
    expect(listbox.locator(f'.canned-option[data-key="{first}"]')).to_have_attribute("aria-selected", "true")
    box.fill("")
    box.press_sequentially("/salu")
    laura.keyboard.press("Enter")
    expect(box).to_have_value("Hola, Ana Gómez. Gracias por escribirnos; reviso su caso ahora mismo.")
    # Ctrl+Intro sends it.
    laura.keyboard.press("Control+Enter")
    expect(box).to_have_value("")
    expect(customer.locator(".pl-messages")).to_contain_text("Hola, Ana Gómez. Gracias por escribirnos")

    # «?» typed in the composer is text, not the help.
    box.press_sequentially("¿Algo más?")
    expect(box).to_have_value("¿Algo más?")
    expect(help_).to_be_hidden()
    box.fill("")

    # Alt+N: the internal note tab; Ctrl+Intro saves the note, which the customer never sees.
    laura.keyboard.press("Alt+KeyN")
    expect(laura.locator("#composer-tab-note")).to_have_attribute("aria-selected", "true")
    expect(laura.locator("#reply-label")).to_contain_text("Nota interna — el cliente no la ve")
    expect(box).to_be_focused()
    box.fill("El cliente parece tener un bucle de VLAN (nota interna)")
    laura.keyboard.press("Control+Enter")
    expect(laura.locator('#conv-notes [data-kind="note"]')).to_contain_text("bucle de VLAN")
    expect(box).to_have_value("")
    # Back to «Responder»: the next reply reaches the customer, the note never did.
    laura.keyboard.press("Alt+KeyN")
    expect(reply_tab).to_have_attribute("aria-selected", "true")
    box.fill("Revisemos la configuración juntos.")
    box.press("Enter")
    expect(customer.locator(".pl-messages")).to_contain_text("Revisemos la configuración juntos.")
    expect(customer.locator(".pl-messages")).not_to_contain_text("bucle de VLAN")

    # Alt+T: the transfer, its level first.
    laura.keyboard.press("Alt+KeyT")
    expect(laura.locator("#transfer-tier")).to_be_focused()


def test_notes_only_when_the_chat_is_not_yours(backend: Running, pages) -> None:  # type: ignore[no-untyped-def]
    customer = pages()
    cid, _ = customer_waiting(customer, backend)
    boss = pages()
    console_login(boss, backend.base_url, "supervisor@promptlink.example")
    boss.evaluate(f"() => {{ window.location.hash = '#/chats/{cid}'; }}")
    expect(boss.locator("#conv-state")).to_have_attribute("data-mode", "queued")
    # Queued, not the supervisor's: «Responder» is off and the composer writes notes.
    expect(boss.locator("#composer-tab-reply")).to_be_disabled()
    expect(boss.locator("#composer-tab-note")).to_have_attribute("aria-selected", "true")
    boss.fill("#reply-text", "Vigilar este caso")
    boss.press("#reply-text", "Enter")
    expect(boss.locator('#conv-notes [data-kind="note"]')).to_contain_text("Vigilar este caso")
    expect(customer.locator(".pl-messages")).not_to_contain_text("Vigilar este caso")


def test_a_chat_taken_from_its_own_page_answers_on_responder(backend: Running, pages) -> None:  # type: ignore[no-untyped-def]
    """Opened while queued the composer writes notes; once taken with «Tomar» in the chat's header it is
    back on «Responder», so the first thing the agent writes reaches the customer, not the notes."""
    customer = pages()
    cid, _ = customer_waiting(customer, backend)
    laura = pages()
    console_login(laura, backend.base_url, L1)
    laura.evaluate(f"() => {{ window.location.hash = '#/chats/{cid}'; }}")
    expect(laura.locator("#conv-state")).to_have_attribute("data-mode", "queued")
    expect(laura.locator("#composer-tab-note")).to_have_attribute("aria-selected", "true")
    laura.click("#conv-claim")
    expect(laura.locator("#conv-state")).to_have_attribute("data-mode", "human")
    expect(laura.locator("#composer-tab-reply")).to_be_enabled()
    expect(laura.locator("#composer-tab-reply")).to_have_attribute("aria-selected", "true")
    laura.fill("#reply-text", "Hola Ana, ya tomé su caso.")
    laura.press("#reply-text", "Enter")
    expect(customer.locator('.pl-msg[data-role="agent"] .pl-msg-text').last).to_have_text(
        "Hola Ana, ya tomé su caso.", timeout=15_000
    )
    expect(laura.locator('#conv-notes [data-kind="note"]', has_text="ya tomé su caso")).to_have_count(0)


# The console's fetch, with the answer to GET /conversations/{id} (a chat's detail) held back 1.5 s: a slow
# network or a busy backend while the agent has already started typing.
SLOW_DETAIL = """(() => {
  const fetch0 = window.fetch.bind(window);
  window.fetch = (url, options) => {
    const get = !options || !options.method || options.method === "GET";
    const detail = get && /\\/conversations\\/[^/?]+$/.test(String(url));
    return fetch0(url, options).then((r) => detail ? new Promise((ok) => setTimeout(() => ok(r), 1500)) : r);
  };
})();"""


def test_typing_before_the_chat_has_loaded_keeps_the_focus_and_every_word(backend: Running, pages) -> None:  # type: ignore[no-untyped-def]
    """The agent takes a chat with «Tomar» and starts typing at once: the chat's detail arriving later does
    not take the focus away from the reply box, so nothing typed is lost and Intro sends it all."""
    customer = pages()
    cid, _ = customer_waiting(customer, backend)
    laura = pages()
    laura.add_init_script(SLOW_DETAIL)
    console_login(laura, backend.base_url, L1)
    laura.click(f'.chat-queue-row[data-conversation-id="{cid}"] .chat-claim')
    laura.wait_for_url(re.compile(f"#/chats/{cid}$"))
    expect(laura.locator("#conv-state")).to_have_attribute("data-mode", "human")
    expect(laura.locator('#conv-messages .cmsg[data-role="customer"]')).to_have_count(0)  # not loaded yet
    assert laura.evaluate("() => document.activeElement.id") == "conv-title"  # the opened chat, at once
    expect(laura.locator("#composer-tab-reply")).to_have_attribute("aria-selected", "true")
    laura.click("#reply-text")
    laura.keyboard.type("Hola Ana, ")
    expect(laura.locator('#conv-messages .cmsg[data-role="customer"]')).to_have_count(1)  # loaded meanwhile
    laura.keyboard.type("reviso su VLAN ahora.")
    laura.keyboard.press("Enter")
    expect(customer.locator('.pl-msg[data-role="agent"] .pl-msg-text').last).to_have_text(
        "Hola Ana, reviso su VLAN ahora.", timeout=15_000
    )
    expect(laura.locator("#reply-text")).to_be_focused()
