"""Issue #15 in the agent console (Chromium, a backend of its own with the assistant down): agents are
alerted to chats waiting in their queues — the «Chat en vivo» badge and the page title count them, a new
one beeps (Web Audio; a P1 longer and louder) and shows a desktop notification; the sound can be muted
(remembered); a P1 waiting card is red; each card shows the customer's last message (as text)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from testkit.axe import assert_no_serious_violations
from testkit.browser import console_login, customer_waiting
from testkit.processes import Running

pytestmark = [pytest.mark.browser]

L1 = "l1@promptlink.example"

# Real Notification and AudioContext, counted: each `new Notification(...)` and each oscillator (a beep).
SPIES = """
window.__notes = [];
window.__beeps = 0;
if (window.Notification) {
  const Real = window.Notification;
  class Counted extends Real {
    constructor(title, options) {
      super(title, options);
      window.__notes.push({ title: title, body: (options && options.body) || "" });
    }
  }
  Object.defineProperty(Counted, "permission", { get: () => Real.permission });
  Counted.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Counted;
}
if (window.AudioContext) {
  const make = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () {
    window.__beeps++;
    return make.call(this);
  };
}
"""


def customer_waits(page: Page, backend: Running, text: str, *, p1: bool = False) -> tuple[str, str]:
    return customer_waiting(page, backend.base_url, text, p1=p1)


def counted(page: Page) -> tuple[int, int]:
    return int(page.evaluate("() => window.__notes.length")), int(page.evaluate("() => window.__beeps"))


def test_waiting_chats_alert_the_agent_in_any_view(backend: Running, pages) -> None:  # type: ignore[no-untyped-def]
    laura = pages(permissions=["notifications"])
    laura.add_init_script(SPIES)
    console_login(laura, backend.base_url, L1)
    laura.click("#alert-sound")  # a user gesture (unlocks the audio); «Silenciar avisos» pressed…
    expect(laura.locator("#alert-sound")).to_have_attribute("aria-pressed", "true")
    laura.click("#alert-sound")  # …and released: the sound is on
    expect(laura.locator("#alert-sound")).to_have_attribute("aria-pressed", "false")
    expect(laura.locator("#alert-desktop")).to_be_hidden()  # permission already granted
    badge = laura.locator("#nav-chat-count")
    expect(badge).to_be_hidden()
    assert not laura.title().startswith("(")
    laura.evaluate("() => { window.location.hash = '#/queues'; }")  # the alerts come in any view
    expect(laura.locator("#queues-view")).to_be_visible()

    # A chat starts waiting: one short beep, one notification, the badge and the title count it.
    first, _ = customer_waits(pages(), backend, "Necesito configurar una VLAN")
    expect(badge).to_have_text("1", timeout=15_000)
    expect(laura.locator('a[data-nav="chats"]')).to_contain_text("1 chat en espera")
    laura.wait_for_function("() => document.title.startsWith('(1) ')")
    laura.wait_for_function("() => window.__notes.length === 1")
    assert counted(laura) == (1, 1)
    note = laura.evaluate("() => window.__notes[0]")
    assert note["title"] == "Chat en espera en L1"
    assert "Ana Gómez" in note["body"] and "Necesito configurar una VLAN" in note["body"]

    # A P1 starts waiting: three long beeps, and its card is red with its wait counting up.
    second, ticket = customer_waits(pages(), backend, "<b>La red</b> está caída", p1=True)
    expect(badge).to_have_text("2", timeout=15_000)
    laura.wait_for_function("() => document.title.startsWith('(2) ')")
    laura.wait_for_function("() => window.__notes.length === 2")
    assert counted(laura) == (2, 4)
    assert laura.evaluate("() => window.__notes[1].title") == "P1 — Chat en espera en L1"
    expect(laura.locator("#alert-live")).to_have_text("Nuevo chat en espera: P1, Cable Andina S.A. · Ana Gómez")
    expect(badge).to_have_class(re.compile(r"nav-count-p1"))  # red while a P1 waits

    laura.evaluate("() => { window.location.hash = '#/chats'; }")
    p1_row = laura.locator(f'.chat-queue-row[data-conversation-id="{second}"]')
    expect(p1_row).to_have_class(re.compile(r"chat-queue-row-p1"))
    expect(p1_row.locator(".badge-p1")).to_have_text("P1")
    expect(p1_row).to_have_css("border-left-color", "rgb(179, 38, 30)")  # the console's P1 colour
    wait = p1_row.locator(".chat-wait")
    expect(wait).to_have_text(re.compile(r"^Espera \d+"))
    before = wait.text_content()
    expect(wait).not_to_have_text(before or "", timeout=3_000)

    # Both cards read «Ana Gómez»: the customer's last words (as text), ticket and wait tell them apart.
    first_row = laura.locator(f'.chat-queue-row[data-conversation-id="{first}"]')
    expect(first_row.locator(".chat-preview")).to_have_text("«Necesito configurar una VLAN»")
    expect(p1_row.locator(".chat-preview")).to_have_text("«<b>La red</b> está caída»")
    assert p1_row.locator(".chat-preview b").count() == 0
    expect(p1_row.locator(".chat-ticket")).to_have_text(ticket)
    expect(first_row).not_to_have_class(re.compile(r"chat-queue-row-p1"))
    assert_no_serious_violations(laura)

    # Muted (remembered after a reload): a new chat notifies without a sound.
    laura.click("#alert-sound")
    expect(laura.locator("#alert-sound")).to_have_attribute("aria-pressed", "true")
    laura.reload()
    expect(laura.locator("#live-status")).to_have_attribute("data-state", "online", timeout=15_000)
    expect(laura.locator("#alert-sound")).to_have_attribute("aria-pressed", "true")
    expect(badge).to_have_text("2")
    customer_waits(pages(), backend, "Otra consulta")
    expect(badge).to_have_text("3", timeout=15_000)
    laura.wait_for_function("() => window.__notes.length === 1")
    assert counted(laura) == (1, 0)
