"""Files in the chat against a real backend (issue 15): upload by the customer (resume token) and by
the agent handling the chat, delivery over socket.io, checksums on disk, refusals that store nothing,
and downloads only for the conversation's customer and staff.

The module has a backend of its own: its claims and closed chats would move the queues' estimated
waits other modules check on the shared `backend`."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit.api_roles import call
from testkit.chat_client import ChatClient, widget_token
from testkit.demo import ANA, DEMO_PASSWORDS, LUIS, MARIA, agent_headers
from testkit.files import log_text, png, windows_exe
from testkit.processes import Running, start_lone_backend


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_lone_backend(tmp_path_factory.mktemp("attachments-api"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def roles(backend: Running) -> dict[str, dict[str, str]]:
    """Request headers per caller, as `roles` gives them for `backend`."""
    found = {email.split("@")[0]: agent_headers(backend.base_url, email) for email in DEMO_PASSWORDS}
    for name, contact in (("ana", ANA), ("luis", LUIS), ("maria", MARIA)):
        found[name] = {"Authorization": f"Bearer {widget_token(backend.base_url, contact)}"}
    found["anonymous"] = {}
    return found


def _files_on_disk(backend: Any) -> set[Path]:
    root = Path(backend.var_dir) / "attachments"
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def _upload(backend: Any, cid: str, name: str, data: bytes, *, headers: dict[str, str], **form: str) -> httpx.Response:
    return httpx.post(
        f"{backend.base_url}/api/v1/conversations/{cid}/attachments",
        files={"file": (name, data, "application/octet-stream")},
        data=form,
        headers=headers,
        timeout=30,
    )


def _get(url: str) -> httpx.Response:
    return httpx.get(url, timeout=10)


def _post_form(backend: Any, cid: str, parts: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
    url = f"{backend.base_url}/api/v1/conversations/{cid}/attachments"
    return httpx.post(url, files=parts, data={"text": "sin archivo"}, headers=headers, timeout=10)


async def _customer(backend: Any, **auth: Any) -> ChatClient:
    client = await ChatClient(backend.base_url).connect(**auth)
    assert "seq" in await client.send("hola, adjunto una captura", uuid.uuid4().hex)
    return client


async def test_the_customer_sends_a_png_named_txt_and_it_is_stored_as_png(backend, roles) -> None:
    client = await _customer(backend)
    cid, resume = client.session["conversation_id"], client.session["resume_token"]
    try:
        response = _upload(backend, cid, "captura.txt", png(), headers={"X-Resume-Token": resume}, client_msg_id="m-1")
        assert response.status_code == 201, response.text
        event = response.json()
        attachment = event["attachment"]
        digest = hashlib.sha256(png()).hexdigest()
        assert (event["role"], event["text"]) == ("customer", "captura.txt.png")
        assert (attachment["name"], attachment["media_type"], attachment["size"]) == (
            "captura.txt.png",
            "image/png",
            len(png()),
        )
        assert attachment["sha256"] == digest and attachment["uploader_kind"] == "customer"
        # On disk, outside the database, under <sha[:2]>/<sha>, with the same bytes.
        stored = Path(backend.var_dir) / "attachments" / digest[:2] / digest
        assert stored.read_bytes() == png()
        # Delivered over socket.io, with the same attachment.
        delivered = await client.wait_for(lambda m: m["seq"] == event["seq"])
        assert delivered["attachment"]["sha256"] == digest
        # A resend with the same client_msg_id is stored once.
        again = _upload(backend, cid, "captura.txt", png(), headers={"X-Resume-Token": resume}, client_msg_id="m-1")
        assert again.status_code == 201 and again.json()["seq"] == event["seq"]
        # The signed link downloads it, as an attachment that is never sniffed.
        download = _get(backend.base_url + attachment["url"])
        assert download.status_code == 200 and download.content == png()
        assert download.headers["content-type"] == "image/png"
        assert download.headers["x-content-type-options"] == "nosniff"
        assert download.headers["content-disposition"] == (
            "attachment; filename=\"captura.txt.png\"; filename*=UTF-8''captura.txt.png"
        )
        preview = _get(backend.base_url + attachment["preview_url"])
        assert preview.status_code == 200 and preview.headers["content-disposition"].startswith("inline;")
        # A reconnect replays it with its attachment.
        replay: list[dict[str, Any]] = []
        other = ChatClient(backend.base_url)
        other.sio.on("message", replay.append, namespace="/chat")
        await other.connect(conversation_id=cid, resume_token=resume, last_seq=0)
        seen = await _eventually_seq(replay, event["seq"])
        assert seen["attachment"]["id"] == attachment["id"]
        await other.close()
        # Staff see it in the conversation's list.
        listed = call(backend, roles, "supervisor", "GET", f"/conversations/{cid}/attachments")
        assert listed.status_code == 200 and [a["id"] for a in listed.json()["attachments"]] == [attachment["id"]]
    finally:
        await client.close()


async def _eventually_seq(messages: list[dict[str, Any]], seq: int) -> dict[str, Any]:
    import asyncio

    for _ in range(200):
        for message in messages:
            if message["seq"] == seq:
                return message
        await asyncio.sleep(0.05)
    raise AssertionError(f"seq {seq} not replayed: {messages}")


async def test_refused_files_store_nothing_and_say_why_in_spanish(backend) -> None:
    client = await _customer(backend)
    cid, resume = client.session["conversation_id"], client.session["resume_token"]
    try:
        before = _files_on_disk(backend)
        exe = _upload(backend, cid, "foto.png", windows_exe(), headers={"X-Resume-Token": resume})
        assert exe.status_code == 422, exe.text
        assert exe.json()["message"].startswith("Ese tipo de archivo no está permitido.")
        assert "x-msdownload" in exe.json()["detail"]
        big = _upload(backend, cid, "grande.log", b"a" * (10 * 1024 * 1024 + 1), headers={"X-Resume-Token": resume})
        assert big.status_code == 413, big.text
        assert big.json()["message"] == "El archivo es demasiado grande (máximo 10 MB)."
        no_file = _post_form(backend, cid, {"otro": ("a.txt", b"x")}, {"X-Resume-Token": resume})
        assert no_file.status_code == 422 and no_file.json()["message"] == "Adjunte un archivo."
        assert _files_on_disk(backend) == before
        assert not [m for m in client.messages if "attachment" in m]
    finally:
        await client.close()


async def test_a_failure_after_the_file_was_written_leaves_neither_file_nor_row(backend, roles) -> None:
    """The conversation is closed: checked inside the transaction, after the bytes were written."""
    client = await _customer(backend)
    cid, resume = client.session["conversation_id"], client.session["resume_token"]
    try:
        assert (await client.sio.call("end", {}, namespace="/chat", timeout=10)) == {"mode": "closed"}
        before = _files_on_disk(backend)
        unique = log_text() + uuid.uuid4().hex.encode()
        refused = _upload(backend, cid, "router.log", unique, headers={"X-Resume-Token": resume})
        assert refused.status_code == 409, refused.text
        assert refused.json()["message"].startswith("La conversación terminó")
        assert _files_on_disk(backend) == before
        listed = call(backend, roles, "supervisor", "GET", f"/conversations/{cid}/attachments")
        assert listed.json() == {"attachments": []}
    finally:
        await client.close()


async def test_downloads_are_for_the_customer_and_staff_only(backend, roles) -> None:
    client = await _customer(backend, identity=widget_token(backend.base_url, ANA))
    cid = client.session["conversation_id"]
    try:
        response = _upload(backend, cid, "router.log", log_text(), headers=roles["ana"])
        assert response.status_code == 201, response.text
        attachment = response.json()["attachment"]
        assert attachment["media_type"] == "text/plain; charset=utf-8" and "preview_url" not in attachment
        plain = f"/attachments/{attachment['id']}"
        for role in ("ana", "supervisor", "admin"):
            ok = call(backend, roles, role, "GET", plain)
            assert ok.status_code == 200, (role, ok.text)
            assert ok.content == log_text()
            assert ok.headers["x-content-type-options"] == "nosniff"
            assert ok.headers["content-disposition"].startswith("attachment;")
        # Another company's contact, another contact of the same company, nobody: as if it did not exist.
        for role in ("maria", "luis", "anonymous"):
            denied = call(backend, roles, role, "GET", plain)
            assert denied.status_code == 404, (role, denied.text)
            assert denied.json()["message"] == "El archivo no existe."
        missing = call(backend, roles, "maria", "GET", "/attachments/987654")
        assert missing.status_code == 404 and missing.json() == denied.json() | {
            "detail": "attachment 987654 not found"
        }
        forged = _get(f"{backend.base_url}/api/v1{plain}?t=9999999999.abcdef")
        assert forged.status_code == 404
        # Images only are shown inline: a text file still downloads.
        inline = call(backend, roles, "ana", "GET", plain + "?inline=1")
        assert inline.headers["content-disposition"].startswith("attachment;")
        # Other customers cannot send files into this conversation either.
        for role in ("maria", "luis"):
            foreign = _upload(backend, cid, "x.log", log_text(), headers=roles[role])
            assert foreign.status_code == 404, (role, foreign.text)
        wrong_token = _upload(backend, cid, "x.log", log_text(), headers={"X-Resume-Token": "nope"})
        assert wrong_token.status_code == 404
    finally:
        await client.close()


async def test_the_agent_handling_the_chat_sends_a_log_file_back(backend, roles) -> None:
    client = await _customer(backend)
    cid = client.session["conversation_id"]
    try:
        payload = {"tier": "L1", "reason": "Pide ayuda con su equipo", "ticket": None}
        queued = call(backend, roles, "supervisor", "POST", f"/conversations/{cid}/handoff", json=payload)
        assert queued.status_code == 200, queued.text
        # Not with an agent yet: staff cannot post files into it.
        early = _upload(backend, cid, "diagnostico.log", log_text(), headers=roles["l1"])
        assert early.status_code == 409, early.text
        claim = call(backend, roles, "l1", "POST", f"/conversations/{cid}/claim")
        assert claim.status_code == 200, claim.text
        other_agent = _upload(backend, cid, "diagnostico.log", log_text(), headers=roles["l2"])
        assert other_agent.status_code in (403, 409), other_agent.text
        sent = _upload(backend, cid, "diagnostico.log", log_text(), headers=roles["l1"], text="Revise esto")
        assert sent.status_code == 201, sent.text
        event = sent.json()
        assert (event["role"], event["text"]) == ("agent", "Revise esto") and event["author_name"]
        delivered = await client.wait_for(lambda m: m.get("attachment", {}).get("name") == "diagnostico.log")
        assert delivered["role"] == "agent"
        download = _get(backend.base_url + delivered["attachment"]["url"])
        assert download.status_code == 200 and download.content == log_text()
        closed = call(backend, roles, "l1", "POST", f"/conversations/{cid}/close", json={"resolution": "ok"})
        assert closed.status_code == 200, closed.text
    finally:
        await client.close()
