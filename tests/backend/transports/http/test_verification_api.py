"""`/api/v1/verification/start` and `/confirm` against a real backend: the code is read from
the demo mailbox, as the visitor would read it from its e-mail."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from promptlink.transports.http.schemas.verification import CodeRefused, CodeSent, Verified

from testkit.api_roles import ALL_ROLES, CABLEANDINA, STAFF, TELECARIBE, call
from testkit.chat_client import ChatClient

ANA = "ana.gomez@cableandina.example"
MARIA = "maria.rodriguez@telecaribe.example"
NOBODY = "nadie@desconocido.example"
SUBJECT = "Código de verificación de Soporte Técnico Promptlink"
SERVICE_ONLY = {
    **dict.fromkeys([*STAFF, *CABLEANDINA, *TELECARIBE], 403),
    "anonymous": 401,
}


async def _visitor(lone_backend) -> ChatClient:
    client = await ChatClient(lone_backend.base_url).connect()
    # An anonymous visitor's conversation is written with its first message (issue #13 F7).
    assert "seq" in await client.send("hola", uuid.uuid4().hex)
    return client


async def _conversation(lone_backend) -> str:
    client = await _visitor(lone_backend)
    await client.close()
    return str(client.session["conversation_id"])


def _start(
    lone_backend, auth_headers, cid: str, email: str = ANA, role: str = "service", customer: str = "CABLEANDINA"
):
    body = {"conversation_id": cid, "customer": customer, "email": email}
    return call(lone_backend, auth_headers, role, "POST", "/verification/start", json=body)


def _confirm(lone_backend, auth_headers, cid: str, code: Any, role: str = "service") -> httpx.Response:
    body = {"conversation_id": cid, "code": code}
    return call(lone_backend, auth_headers, role, "POST", "/verification/confirm", json=body)


def _mailbox(lone_backend, to: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{lone_backend.base_url}/demo/api/mailbox", params={"to": to}, timeout=10)
    response.raise_for_status()
    return [m for m in response.json()["items"] if m["subject"] == SUBJECT]


@pytest.mark.parametrize("role", ALL_ROLES)
async def test_start_per_role(lone_backend, auth_headers, role) -> None:
    cid = await _conversation(lone_backend)
    response = _start(lone_backend, auth_headers, cid, NOBODY, role)
    assert response.status_code == {**SERVICE_ONLY, "service": 200}[role], response.text
    if role == "service":
        assert response.json() == {"status": "sent"}
        CodeSent.model_validate(response.json())


@pytest.mark.parametrize("role", ALL_ROLES)
async def test_confirm_per_role(lone_backend, auth_headers, role) -> None:
    cid = await _conversation(lone_backend)
    response = _confirm(lone_backend, auth_headers, cid, "123456", role)
    # The service is allowed: it is told that no code was asked for yet.
    assert response.status_code == {**SERVICE_ONLY, "service": 422}[role], response.text
    if role == "service":
        assert response.json()["detail"] == "no verification started"


async def test_an_anonymous_visitor_verifies_with_the_code_from_its_mailbox(lone_backend, auth_headers) -> None:
    visitor = await _visitor(lone_backend)
    cid, grant = visitor.session["conversation_id"], visitor.session["resume_token"]
    await visitor.close()
    before = {m["id"] for m in _mailbox(lone_backend, ANA)}
    response = _start(lone_backend, auth_headers, cid, "Ana.Gomez@cableandina.example", customer="cableandina")
    assert response.status_code == 200 and response.json() == {"status": "sent"}
    [mail] = [m for m in _mailbox(lone_backend, ANA) if m["id"] not in before]
    found = re.search(
        r"Su código de verificación de Soporte Técnico Promptlink es (\d{6})\. Vence en 10 minutos\.", mail["body"]
    )
    assert found, mail["body"]
    code = found.group(1)
    wrong = _confirm(lone_backend, auth_headers, cid, f"{(int(code) + 1) % 1_000_000:06d}")
    assert wrong.status_code == 422
    assert wrong.json() == {
        "detail": "wrong code",
        "message": "El código no es correcto. Le quedan 4 intentos.",
        "attempts_left": 4,
    }
    assert CodeRefused.model_validate(wrong.json()).attempts_left == 4
    ok = _confirm(lone_backend, auth_headers, cid, code)
    assert ok.status_code == 200, ok.text
    Verified.model_validate(ok.json())
    assert ok.json() == {
        "verified": True,
        "contact": ANA,
        "customer": "CABLEANDINA",
        "customer_name": "Cable Andina S.A.",
        "name": "Ana Gómez",
    }
    # The visitor's browser still resumes its conversation, now Ana's.
    back = await ChatClient(lone_backend.base_url).connect(conversation_id=cid, resume_token=grant, last_seq=0)
    await back.close()
    assert back.session["conversation_id"] == cid
    # The widget's header learns who the visitor turned out to be.
    assert (back.session["customer"], back.session["name"]) == ("Cable Andina S.A.", "Ana Gómez")
    again = _start(lone_backend, auth_headers, cid)
    assert again.status_code == 409 and again.json()["message"] == "Esta conversación ya está identificada."


@pytest.mark.parametrize(("email", "customer"), [(NOBODY, "CABLEANDINA"), (MARIA, "CABLEANDINA")])
async def test_an_e_mail_that_is_not_the_customers_gets_the_same_answer_and_no_mail(
    lone_backend, auth_headers, email, customer
) -> None:
    cid = await _conversation(lone_backend)
    before = len(_mailbox(lone_backend, email))
    response = _start(lone_backend, auth_headers, cid, email, customer=customer)
    assert response.status_code == 200 and response.json() == {"status": "sent"}
    assert len(_mailbox(lone_backend, email)) == before
    wrong = _confirm(lone_backend, auth_headers, cid, "000000")
    assert wrong.status_code == 422 and wrong.json()["attempts_left"] == 4


async def test_three_starts_per_conversation_and_hour(lone_backend, auth_headers) -> None:
    cid = await _conversation(lone_backend)
    for _ in range(3):
        assert _start(lone_backend, auth_headers, cid, NOBODY).status_code == 200
    limited = _start(lone_backend, auth_headers, cid, NOBODY)
    assert limited.status_code == 429
    assert limited.json()["message"] == (
        "Ha solicitado demasiados códigos de verificación. Inténtelo de nuevo dentro de una hora."
    )


async def test_bad_requests(lone_backend, auth_headers) -> None:
    cid = await _conversation(lone_backend)
    assert _start(lone_backend, auth_headers, str(uuid.uuid4())).status_code == 404
    assert _start(lone_backend, auth_headers, cid, "").status_code == 422
    assert _confirm(lone_backend, auth_headers, str(uuid.uuid4()), "123456").status_code == 404
    assert _confirm(lone_backend, auth_headers, cid, None).status_code == 422
