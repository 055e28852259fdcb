"""Files in the chat in real browsers (issue 15): the customer sends a screenshot from the widget, the
agent sees its thumbnail in the console and downloads it, then sends a log file back.

Chromium (Debian's) against the real backend (the assistant is down: the chat is handed to Level 1
through the API, as the assistant would).
"""

from __future__ import annotations

import re
import smtplib
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from testkit.axe import axe_violations
from testkit.browser import page_factory
from testkit.demo import DEMO_PASSWORDS, agent_token
from testkit.files import log_text, png
from testkit.processes import Running
from testkit.waiting import eventually
from tests.backend.web.test_live_chat_browser import console_login, open_widget

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

L1 = "l1@promptlink.example"
SUPERVISOR = "supervisor@promptlink.example"


@pytest.fixture
def pages(browser) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    with page_factory(browser, height=900, csp=True) as open_page:
        yield open_page


def _wait_thumbnail(page: Page, selector: str, width: int) -> None:
    """The preview image was served inline (same origin, CSP img-src 'self') and decoded at its real width."""
    page.wait_for_function(
        "([s, w]) => { const i = document.querySelector(s); return !!i && i.complete && i.naturalWidth === w; }",
        arg=[selector, width],
    )


def _loaded(image: Any) -> bool:
    return bool(image.evaluate("img => img.complete && img.naturalWidth > 0"))


def test_screenshot_to_the_agent_and_a_log_file_back(lone_backend: Running, pages, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    customer = pages(accept_downloads=True)
    conversation_id = open_widget(customer, lone_backend)
    customer.fill(".pl-input", "Hola, la pantalla del router muestra un error")
    customer.press(".pl-input", "Enter")
    expect(customer.locator(".pl-msg--customer").first).not_to_have_class(re.compile("pl-msg--pending"))
    supervisor = {
        "Authorization": f"Bearer {agent_token(lone_backend.base_url, SUPERVISOR, DEMO_PASSWORDS[SUPERVISOR])}"
    }
    queued = httpx.post(
        f"{lone_backend.base_url}/api/v1/conversations/{conversation_id}/handoff",
        json={"tier": "L1", "reason": "Error en el router", "ticket": None},
        headers=supervisor,
        timeout=15,
    )
    assert queued.status_code == 200, queued.text

    agent = pages(accept_downloads=True)
    console_login(agent, lone_backend.base_url, L1)
    agent.select_option("#presence-select", "online")
    row = agent.locator(f'.chat-queue-row[data-conversation-id="{conversation_id}"]')
    expect(row).to_be_visible(timeout=15_000)
    row.locator(".chat-claim").click()
    expect(agent.locator("#conv-state")).to_have_attribute("data-mode", "human")

    # The customer attaches a screenshot with the paperclip (keyboard: its accessible name).
    paperclip = customer.get_by_role("button", name="Adjuntar archivo")
    expect(paperclip).to_be_visible()
    with customer.expect_file_chooser() as chooser:
        paperclip.focus()
        customer.keyboard.press("Enter")
    chooser.value.set_files({"name": "pantalla.png", "mimeType": "image/png", "buffer": png(64, 40)})
    own = customer.locator(".pl-msg--customer .pl-attachment")
    expect(own).to_be_visible(timeout=15_000)
    expect(own.locator(".pl-attachment-name")).to_have_text("pantalla.png")
    expect(own.locator(".pl-attachment-size")).to_contain_text("B)")
    expect(own.locator("img.pl-attachment-thumb")).to_have_attribute("alt", "Vista previa de pantalla.png")
    _wait_thumbnail(customer, ".pl-attachment-thumb", 64)

    # The agent sees the thumbnail in the transcript and downloads the file.
    shown = agent.locator('.cmsg[data-role="customer"] .pl-attachment')
    expect(shown).to_be_visible(timeout=15_000)
    thumb = shown.locator("img.pl-attachment-thumb")
    expect(thumb).to_be_visible()
    _wait_thumbnail(agent, ".cmsg .pl-attachment-thumb", 64)
    assert _loaded(thumb)
    with agent.expect_download() as download:
        shown.locator(".pl-attachment-link").click()
    assert download.value.suggested_filename == "pantalla.png"
    saved = tmp_path / "pantalla.png"
    download.value.save_as(saved)
    assert saved.read_bytes() == png(64, 40)

    # The agent sends a log file back from the reply form.
    with agent.expect_file_chooser() as chooser:
        agent.get_by_role("button", name="Adjuntar archivo").click()
    chooser.value.set_files({"name": "diagnostico.log", "mimeType": "text/plain", "buffer": log_text()})
    expect(agent.locator("#reply-form .form-msg")).to_have_text("Archivo enviado.")
    expect(agent.locator('.cmsg[data-role="agent"] .pl-attachment-name')).to_have_text("diagnostico.log")
    back = customer.locator(".pl-msg--agent .pl-attachment")
    expect(back).to_be_visible(timeout=15_000)
    expect(back.locator(".pl-attachment-name")).to_have_text("diagnostico.log")
    expect(back.locator("img")).to_have_count(0)  # no thumbnail for a text file
    with customer.expect_download() as download:
        back.locator(".pl-attachment-link").click()
    assert download.value.suggested_filename == "diagnostico.log"
    saved_log = tmp_path / "diagnostico.log"
    download.value.save_as(saved_log)
    assert saved_log.read_bytes() == log_text()

    # A refused file: a Spanish reason under the input, nothing sent.
    with customer.expect_file_chooser() as chooser:
        paperclip.click()
    chooser.value.set_files({"name": "foto.png", "mimeType": "image/png", "buffer": b"MZ" + bytes(300)})
    expect(customer.locator(".pl-form-error")).to_contain_text("Ese tipo de archivo no está permitido.")
    expect(customer.locator(".pl-attachment")).to_have_count(2)

    # Accessibility of what this adds (axe-core, serious and critical): the paperclip and progress line in
    # both forms, the attachment bubbles. (The widget's message list has a `listitem` finding of its own.)
    for page, context in (
        (customer, ".pl-form"),
        (customer, ".pl-msg--customer .pl-attachment"),
        (customer, ".pl-msg--agent .pl-attachment"),
        (agent, "#reply-form"),
        (agent, ".cmsg .pl-attachment"),
    ):
        assert axe_violations(page, context=context) == [], context
    print("axe serious+critical, whole widget:", [v["id"] for v in axe_violations(customer, context=".pl-chat")])
    print("axe serious+critical, chats view:", [v["id"] for v in axe_violations(agent, context="#chats-view")])


def test_the_ticket_page_lists_the_files_of_its_email(lone_backend: Running, pages) -> None:  # type: ignore[no-untyped-def]
    subject = f"Captura del error {uuid.uuid4().hex[:8]}"
    message = EmailMessage()
    message["From"] = f"{uuid.uuid4().hex[:8]}@isp-sur.example"
    message["To"] = "soporte@promptlink.example"
    message["Subject"] = subject
    message.set_content("Adjunto la captura y un ejecutable que no debería pasar.")
    message.add_attachment(png(48, 30), maintype="image", subtype="png", filename="error.png")
    message.add_attachment(b"MZ" + bytes(300), maintype="application", subtype="octet-stream", filename="x.exe")
    with smtplib.SMTP("127.0.0.1", int(lone_backend.env["PROMPTLINK_SMTP_INTAKE_PORT"]), timeout=10) as smtp:
        assert smtp.send_message(message) == {}
    staff = {"Authorization": f"Bearer {agent_token(lone_backend.base_url, L1, DEMO_PASSWORDS[L1])}"}

    def ticket() -> str | None:
        found = httpx.get(f"{lone_backend.base_url}/api/v1/tickets", params={"q": subject}, headers=staff, timeout=10)
        items = found.json()["items"]
        return str(items[0]["number"]) if items else None

    number = eventually(ticket, "the mail's ticket")
    page = pages()
    page.goto(f"{lone_backend.base_url}/console#/tickets/{number}")
    page.fill("#login-email", L1)
    page.fill("#login-password", DEMO_PASSWORDS[L1])
    page.click("#login-form button[type=submit]")
    files = page.locator("#ticket-attachments li")
    expect(files).to_have_count(1, timeout=15_000)
    expect(files.locator(".pl-attachment-name")).to_have_text("error.png")
    expect(files).to_contain_text("De correo")
    _wait_thumbnail(page, "#ticket-attachments .pl-attachment-thumb", 48)
    expect(page.locator("#ticket-attachments-empty")).to_be_hidden()
    refused = page.locator('#history .history-item[data-kind="attachment_refused"]')
    expect(refused).to_contain_text("Adjunto rechazado")
    expect(refused).to_contain_text("No se guardó el adjunto «x.exe» del correo")
    assert axe_violations(page, context="#ticket-attachments") == []
