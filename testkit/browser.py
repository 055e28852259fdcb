"""Real-browser helpers: Debian's chromium driven by Playwright (no browser download), and a factory of
fresh pages that fails the test on a JavaScript error or a dialog."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = os.environ.get("PROMPTLINK_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        import pytest

        pytest.fail(
            "Debian's chromium is not installed: `apt-get install chromium` (the test command does this as root)"
        )
    return path


@contextmanager
def page_factory(browser: Any, *, height: int = 800, csp: bool = False) -> Iterator[Callable[..., Any]]:
    """`open_page(**context_options)`: a page in a fresh Spanish context, 1280 px wide and `height` high.

    Every page's JS errors and dialogs (dismissed), and with `csp` its Content Security Policy reports,
    are collected; when the block ends the contexts are closed and the collection must be empty.
    """
    contexts: list[Any] = []
    problems: list[str] = []

    def on_dialog(dialog: Any) -> None:
        problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    def open_page(**options: Any) -> Any:
        context = browser.new_context(locale="es-ES", viewport={"width": 1280, "height": height}, **options)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        if csp:
            page.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None)
        page.on("dialog", on_dialog)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert problems == []


def console_login(page: Any, base_url: str, who: str, hash_: str = "#/chats") -> None:
    """Sign `who` (a demo agent) into the console, wait for the live chat socket, then go to `hash_`."""
    from playwright.sync_api import expect

    from testkit.demo import DEMO_PASSWORDS

    page.goto(base_url + "/console")
    page.fill("#login-email", who)
    page.fill("#login-password", DEMO_PASSWORDS[who])
    page.click("#login-form button[type=submit]")
    expect(page.locator("#whoami-name")).to_be_visible()
    expect(page.locator("#live-status")).to_have_attribute("data-state", "online", timeout=15_000)
    # «Conectado» means the server's hello has named the agent: their presence is shown with it, no later.
    assert page.locator("#presence-box").is_visible()
    page.evaluate(f"() => {{ window.location.hash = {json.dumps(hash_)}; }}")
    expect(page.locator("#chats-view")).to_be_visible()


def open_demo_widget(page: Any, base_url: str, contact: str | None) -> None:
    """The demo site's widget chatting as `contact` (None: an anonymous visitor), once connected."""
    from playwright.sync_api import expect

    page.add_init_script(f"window.localStorage.setItem('promptlink.demo.contact', {json.dumps(contact or '')})")
    page.goto(base_url + "/")
    expect(page.locator('.pl-status[data-state="online"]')).to_be_visible(timeout=20_000)


def widget_conversation_id(page: Any, contact: str) -> str:
    """The conversation id the widget keeps for `contact` (there once the server's session came)."""
    key = json.dumps(f"promptlink.chat.{contact}.conversation_id")
    page.wait_for_function(f"() => !!window.localStorage.getItem({key})")
    return str(json.loads(page.evaluate(f"() => window.localStorage.getItem({key})")))


def customer_waiting(page: Any, base_url: str, text: str, *, p1: bool = False, tier: str = "L1") -> tuple[str, str]:
    """Ana writes `text` in a fresh widget and is queued for `tier` with a new ticket (a P1 with `p1`),
    as the assistant would hand her off: (conversation id, ticket number). The assistant may be down."""
    from playwright.sync_api import expect

    from testkit.demo import ANA, agent_headers, create_ticket, hand_off

    supervisor = agent_headers(base_url, "supervisor@promptlink.example")
    fields: dict[str, Any] = {"customer": "CABLEANDINA", "contact": ANA, "title": text[:40]}
    if p1:
        fields |= {"type": "network_outage", "facts": {"production_down": True}}
    else:
        fields |= {"type": "configuration"}
    ticket = create_ticket(base_url, supervisor, **fields)
    assert (ticket["priority"] == 1) is p1
    open_demo_widget(page, base_url, ANA)
    page.fill(".pl-input", text)
    page.press(".pl-input", "Enter")
    cid = widget_conversation_id(page, ANA)
    expect(page.locator(".pl-msg:not([data-role=\"customer\"])").first).to_be_visible(timeout=45_000)  # stored
    hand_off(base_url, cid, tier, str(ticket["number"]))
    return cid, str(ticket["number"])
