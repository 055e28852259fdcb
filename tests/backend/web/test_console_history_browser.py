"""Issue #15 in the agent console (Chromium, a backend of its own with the assistant down): «Historial de
chats» lists the agent's recent chats and the closed ones, searched by customer, ticket or text; one opens
read-only; ticket histories name the staff who wrote them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from testkit.axe import assert_no_serious_violations
from testkit.browser import console_login, customer_waiting
from testkit.demo import agent_headers
from testkit.processes import Running

pytestmark = [pytest.mark.browser]

L1 = "l1@promptlink.example"


def claim_and_close(base_url: str, cid: str) -> None:
    laura = agent_headers(base_url, L1)
    for path, body in (("claim", {}), ("close", {"resolution": "Resuelto"})):
        response = httpx.post(f"{base_url}/api/v1/conversations/{cid}/{path}", json=body, headers=laura, timeout=15)
        assert response.status_code == 200, response.text


def rows(page: Page) -> Any:
    return page.locator("#history-list .history-row")


def search(page: Page, text: str) -> None:
    page.fill("#history-q", text)
    page.press("#history-q", "Enter")


def test_recent_and_closed_chats_with_search_open_read_only(backend: Running, pages) -> None:  # type: ignore[no-untyped-def]
    olt, olt_ticket = customer_waiting(pages(), backend.base_url, "Mi OLT no sincroniza desde ayer")
    claim_and_close(backend.base_url, olt)
    bill, bill_ticket = customer_waiting(pages(), backend.base_url, "Consulta sobre la factura de marzo")
    claim_and_close(backend.base_url, bill)

    laura = pages()
    console_login(laura, backend.base_url, L1)
    expect(laura.locator("#history-recent")).to_have_attribute("aria-pressed", "true")
    expect(rows(laura)).to_have_count(2)
    expect(rows(laura).first).to_have_attribute("data-conversation-id", bill)  # most recent first
    expect(laura.locator(f'.history-row[data-conversation-id="{olt}"] .chat-preview')).to_have_text(
        "«Mi OLT no sincroniza desde ayer»"
    )

    laura.click("#history-closed")
    expect(laura.locator("#history-closed")).to_have_attribute("aria-pressed", "true")
    search(laura, "olt no sincroniza")  # message text, any case
    expect(rows(laura)).to_have_count(1)
    expect(rows(laura).first).to_have_attribute("data-conversation-id", olt)
    expect(laura.locator("#history-summary")).to_have_text("1 conversación cerrada con «olt no sincroniza».")
    search(laura, bill_ticket)  # ticket number
    expect(rows(laura)).to_have_count(1)
    expect(rows(laura).first).to_have_attribute("data-conversation-id", bill)
    search(laura, "CABLEANDINA")  # customer code
    expect(rows(laura)).to_have_count(2)
    search(laura, "<b>nada</b>")
    expect(rows(laura)).to_have_count(0)
    expect(laura.locator("#history-summary")).to_have_text("Ninguna conversación cerrada coincide con «<b>nada</b>».")
    assert laura.locator("#history-card b").count() == 0
    search(laura, olt_ticket)
    expect(rows(laura)).to_have_count(1)
    assert_no_serious_violations(laura)  # the closed-chat list

    # Opened: the whole transcript, read-only (closed: nothing to send).
    rows(laura).first.locator("a").click()
    expect(laura.locator("#conv-state")).to_have_attribute("data-mode", "closed")
    expect(laura.locator('.cmsg[data-role="customer"] .cmsg-text')).to_have_text(["Mi OLT no sincroniza desde ayer"])
    expect(laura.locator("#conv-ended")).to_contain_text("cerrada por Laura Nivel Uno")
    expect(laura.locator("#reply-text")).to_be_disabled()
    expect(laura.locator("#conv-hand-back")).to_be_hidden()
    assert_no_serious_violations(laura)


def test_ticket_history_names_the_staff(backend: Running, pages) -> None:  # type: ignore[no-untyped-def]
    _, ticket = customer_waiting(pages(), backend.base_url, "Necesito ayuda con la VPN")
    laura = pages()
    console_login(laura, backend.base_url, L1, hash_="#/chats")
    laura.evaluate(f"() => {{ window.location.hash = '#/tickets/{ticket}'; }}")
    laura.fill("#note-text", "Revisado con el cliente.")
    laura.click("#note-form button[type=submit]")
    note = laura.locator('#history [data-kind="note"]', has_text="Revisado con el cliente.")
    expect(note.locator(".history-author")).to_have_text("Laura Nivel Uno")
    created = laura.locator('#history [data-kind="created"] .history-author')
    expect(created).to_have_text("Carlos Supervisor")
    expect(laura.locator("#history")).not_to_contain_text("@promptlink.example")
