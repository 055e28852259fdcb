"""Issue #15 in the customer's widget (Chromium, backend alone): nobody of the level online is said
plainly with the ticket's update cadence and an offer to leave the details; the ended chat can be
had by e-mail (the contact's address, or one a visitor types, checked)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from testkit.axe import assert_no_serious_violations
from testkit.browser import open_demo_widget, page_factory, widget_conversation_id
from testkit.demo import ANA, create_ticket, hand_off
from testkit.processes import Running

pytestmark = [pytest.mark.browser]

CADENCE = {1: "cada dos horas", 2: "al final de cada día", 3: "al final de cada día", 4: "cada semana"}


@pytest.fixture
def pages(browser) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    with page_factory(browser, height=900, csp=True) as open_page:
        yield open_page


def say(page: Page, text: str) -> None:
    page.fill(".pl-input", text)
    page.press(".pl-input", "Enter")
    # The assistant is down (backend alone): the system message says so.
    expect(page.locator(".pl-msg").last).to_be_visible()


def test_nobody_online_offers_the_ticket_and_the_ended_chat_goes_by_email(
    lone_backend: Running, auth_headers, pages
) -> None:  # type: ignore[no-untyped-def]
    created = create_ticket(
        lone_backend.base_url,
        auth_headers["supervisor"],
        customer="CABLEANDINA",
        contact=ANA,
        type="network_outage",
        title="Enlace caído en Quito",
    )
    ticket, priority = str(created["number"]), int(str(created["priority"]))

    page = pages()
    open_demo_widget(page, lone_backend.base_url, ANA)
    say(page, "Mi enlace no funciona")
    cid = widget_conversation_id(page, ANA)
    hand_off(lone_backend.base_url, cid, "L3", ticket, reason="Enlace caído")

    # Said plainly, with the ticket and its priority's cadence, and two ways on.
    offer = page.locator(".pl-unavailable")
    expect(offer).to_be_visible(timeout=15_000)
    expect(offer).to_contain_text("Ahora no hay especialistas de Soporte de Nivel 3 conectados.")
    expect(offer).to_contain_text(f"tiquete {ticket} (prioridad P{priority})")
    expect(offer).to_contain_text(f"le informaremos {CADENCE[priority]} hasta su resolución")
    expect(page.locator(".pl-messages")).to_contain_text(f"Después le informaremos {CADENCE[priority]}")
    assert_no_serious_violations(page, context=".pl-unavailable")

    # Keyboard only: leave the details (the ticket) and end the chat.
    page.locator(".pl-unavailable-leave").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".pl-chat")).to_have_attribute("data-mode", "closed")
    expect(offer).to_be_hidden()
    ask = page.locator(".pl-mail-ask")
    expect(ask).to_be_visible()
    assert_no_serious_violations(page, context=".pl-mail")
    ask.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".pl-mail-done")).to_have_text(f"Le enviamos la conversación a {ANA}.")

    # Kept in the ticket's history: the transcript, sent to whom.
    detail = httpx.get(
        f"{lone_backend.base_url}/api/v1/tickets/{ticket}", headers=auth_headers["supervisor"], timeout=15
    ).json()
    [entry] = [e for e in detail["history"] if e["kind"] == "transcript_sent"]
    assert entry["data"]["to"] == ANA and "Usted:\n  Mi enlace no funciona" in entry["text"]


def test_a_visitor_types_an_address_for_the_transcript(lone_backend: Running, pages) -> None:  # type: ignore[no-untyped-def]
    page = pages()
    open_demo_widget(page, lone_backend.base_url, None)
    say(page, "Hola, soy un visitante")
    end = page.locator(".pl-end")
    expect(end).to_be_hidden()  # with the assistant there is nothing to end
    # The assistant is down: its notice offers a person; queued, the chat can be ended (confirmed).
    page.get_by_role("button", name="Hablar con una persona").click()
    expect(page.locator(".pl-chat")).to_have_attribute("data-mode", "queued")
    expect(end).to_be_visible()
    end.click()
    page.get_by_role("button", name="Sí, terminar").click()
    expect(page.locator(".pl-chat")).to_have_attribute("data-mode", "closed")
    page.locator(".pl-mail-ask").click()
    email = page.get_by_label("Su correo electrónico")
    expect(email).to_be_focused()
    email.fill("no-es-un-correo")
    page.keyboard.press("Enter")
    expect(page.locator(".pl-mail-error")).to_have_text(
        "El correo electrónico no es válido (ejemplo: nombre@empresa.com)."
    )
    expect(email).to_have_attribute("aria-invalid", "true")
    email.fill("visitante@example.com")
    page.keyboard.press("Enter")
    expect(page.locator(".pl-mail-done")).to_have_text("Le enviamos la conversación a visitante@example.com.")
    assert_no_serious_violations(page, context=".pl-mail")
