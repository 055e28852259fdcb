"""A mail's attachments through a real SMTP exchange with the running backend (issue 15): stored as the
chat's files are, linked to the ticket the mail opens; a refused one is noted in the ticket's history
and the mail still becomes a ticket.

A backend of its own: the auto-reply to this mail would count against the shared `backend`'s
limits on auto-replies, which the other SMTP tests use up."""

from __future__ import annotations

import hashlib
import smtplib
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit.demo import DEMO_PASSWORDS, MARIA, agent_token, widget_token
from testkit.files import log_text, png, windows_exe
from testkit.processes import Running, start_lone_backend
from testkit.waiting import eventually

SUPPORT = "soporte@promptlink.example"


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_lone_backend(tmp_path_factory.mktemp("mail-attachments"))
    yield running
    running.stop()


def _headers(backend: Running, agent: str = "l1@promptlink.example") -> dict[str, str]:
    return {"Authorization": f"Bearer {agent_token(backend.base_url, agent, DEMO_PASSWORDS[agent])}"}


def _ticket(backend: Running, headers: dict[str, str], subject: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        response = httpx.get(f"{backend.base_url}/api/v1/tickets", params={"q": subject}, headers=headers, timeout=10)
        items = response.json()["items"]
        return items[0] if items else None

    return eventually(probe, f"a ticket titled {subject!r}")  # type: ignore[no-any-return]


def test_an_emails_attachments_are_stored_and_a_refused_one_is_noted(backend: Running) -> None:
    subject = f"Falla del ONT {uuid.uuid4().hex[:8]}"
    message = EmailMessage()
    # A sender of its own: auto-replies to an address are rate-limited (other tests write as Ana).
    sender = f"{uuid.uuid4().hex[:8]}@isp-norte.example"
    message["From"] = f"Soporte ISP Norte <{sender}>"
    message["To"] = SUPPORT
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4().hex}@isp-norte.example>"
    message.set_content("Adjunto una captura y el registro del equipo.")
    message.add_attachment(png(32, 20), maintype="image", subtype="png", filename="captura.png")
    message.add_attachment(log_text(), maintype="text", subtype="plain", filename="ont.log")
    message.add_attachment(windows_exe(), maintype="image", subtype="png", filename="factura.png")
    with smtplib.SMTP("127.0.0.1", int(backend.env["PROMPTLINK_SMTP_INTAKE_PORT"]), timeout=10) as smtp:
        assert smtp.send_message(message) == {}

    headers = _headers(backend)
    number = _ticket(backend, headers, subject)["number"]
    listed = httpx.get(f"{backend.base_url}/api/v1/tickets/{number}/attachments", headers=headers, timeout=10)
    assert listed.status_code == 200, listed.text
    files = {a["name"]: a for a in listed.json()["attachments"]}
    assert set(files) == {"captura.png", "ont.log"}
    assert files["captura.png"]["media_type"] == "image/png" and files["captura.png"]["uploader_kind"] == "email"
    assert files["ont.log"]["sha256"] == hashlib.sha256(log_text()).hexdigest()
    digest = files["captura.png"]["sha256"]
    assert (Path(backend.var_dir) / "attachments" / digest[:2] / digest).read_bytes() == png(32, 20)
    download = httpx.get(backend.base_url + files["captura.png"]["url"], timeout=10)
    assert download.status_code == 200 and download.content == png(32, 20)
    # The history says which files came and which one was refused, and why.
    detail = httpx.get(f"{backend.base_url}/api/v1/tickets/{number}", headers=headers, timeout=10).json()
    kinds = [(e["kind"], e["text"]) for e in detail["history"] if e["kind"].startswith("attachment")]
    assert ("attachment", f"captura.png (image/png, {len(png(32, 20))} bytes)") in kinds
    [(_, refused)] = [k for k in kinds if k[0] == "attachment_refused"]
    assert refused.startswith(
        "No se guardó el adjunto «factura.png» del correo: Ese tipo de archivo no está permitido."
    )
    # Another company's contact, or nobody: as if it did not exist.
    url = f"{backend.base_url}/api/v1/attachments/{files['ont.log']['id']}"
    maria = {"Authorization": f"Bearer {widget_token(backend.base_url, MARIA)}"}
    for caller in (maria, {}):
        assert httpx.get(url, headers=caller, timeout=10).status_code == 404
