"""The `/chat` protocol against a real backend whose Rasa and action server are down."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
import socketio
from promptlink.services.identity import issue_widget_token

from testkit.chat_client import ChatClient, widget_token

ANA = "ana.gomez@cableandina.example"
LUIS = "luis.perez@cableandina.example"


def mid() -> str:
    return uuid.uuid4().hex


def test_health_names_the_components_that_are_down(lone_backend) -> None:
    response = httpx.get(lone_backend.base_url + "/api/v1/health")
    assert response.status_code == 503
    body = response.json()
    assert body["components"]["db"] == "ok"
    assert body["components"]["rasa"].startswith("down")
    assert body["components"]["actions"].startswith("down")
    assert body["failing"] == ["rasa", "actions"]


async def test_message_is_kept_and_the_customer_gets_a_spanish_notice(lone_backend) -> None:
    client = await ChatClient(lone_backend.base_url).connect(identity=widget_token(lone_backend.base_url, ANA))
    try:
        ack = await client.send("hola", mid())
        assert ack == {"seq": 1}
        notice = await client.wait_for(lambda m: m["role"] == "system")
        assert notice["seq"] == 2
        assert "no está disponible" in notice["text"] and "quedó guardado" in notice["text"]
        assert {"role": "bot", "on": True} in client.typing and {"role": "bot", "on": False} in client.typing
    finally:
        await client.close()
    # Reconnecting with the conversation replays the stored customer message and notice.
    again = await ChatClient(lone_backend.base_url).connect(
        identity=widget_token(lone_backend.base_url, ANA), conversation_id=client.session["conversation_id"], last_seq=0
    )
    try:
        await again.wait_for(lambda m: m["seq"] == 2)
        assert [(m["seq"], m["role"], m["text"]) for m in again.messages][:1] == [(1, "customer", "hola")]
    finally:
        await again.close()


async def test_resume_replays_only_what_was_missed_and_dedupes_by_client_msg_id(lone_backend) -> None:
    token = widget_token(lone_backend.base_url, ANA)
    first = await ChatClient(lone_backend.base_url).connect(identity=token)
    cid = first.session["conversation_id"]
    a = await first.send("uno", "id-1-" + cid)
    await first.wait_for(lambda m: m["role"] == "system" and m["seq"] > a["seq"])
    await first.close()
    second = await ChatClient(lone_backend.base_url).connect(identity=token, conversation_id=cid, last_seq=a["seq"])
    try:
        await second.wait_for(lambda m: m["role"] == "system")
        assert all(m["seq"] > a["seq"] for m in second.messages)
        # The same client_msg_id sent again (a resend after a lost ack) is not stored twice.
        assert await second.send("uno", "id-1-" + cid) == a
        reply = await second.sio.call("resume", {"conversation_id": cid, "last_seq": 0}, namespace="/chat")
        assert reply["replayed"] == 2
    finally:
        await second.close()


async def test_two_tabs_of_one_customer_stay_in_step(lone_backend) -> None:
    token = widget_token(lone_backend.base_url, ANA)
    tab1 = await ChatClient(lone_backend.base_url).connect(identity=token)
    cid = tab1.session["conversation_id"]
    tab2 = await ChatClient(lone_backend.base_url).connect(identity=token, conversation_id=cid, last_seq=0)
    try:
        ack = await tab1.send("desde la pestaña uno", mid())
        mirrored = await tab2.wait_for(lambda m: m["seq"] == ack["seq"])
        assert mirrored["role"] == "customer" and mirrored["text"] == "desde la pestaña uno"
        await tab1.wait_for(lambda m: m["role"] == "system")
        assert not [m for m in tab1.messages if m["seq"] == ack["seq"]]  # the sender has the ack, no echo
    finally:
        await tab1.close()
        await tab2.close()


async def test_another_contact_cannot_join_a_conversation_by_id(lone_backend) -> None:
    ana = await ChatClient(lone_backend.base_url).connect(identity=widget_token(lone_backend.base_url, ANA))
    cid = ana.session["conversation_id"]
    await ana.send("privado", mid())
    await ana.close()
    luis = await ChatClient(lone_backend.base_url).connect(
        identity=widget_token(lone_backend.base_url, LUIS), conversation_id=cid, last_seq=0
    )
    try:
        assert luis.session["conversation_id"] != cid
        await asyncio.sleep(0.5)
        assert luis.messages == []
    finally:
        await luis.close()


async def test_anonymous_visitor_resumes_only_with_its_resume_token(lone_backend) -> None:
    visitor = await ChatClient(lone_backend.base_url).connect()
    cid, grant = visitor.session["conversation_id"], visitor.session["resume_token"]
    await visitor.send("pregunta anónima", mid())
    await visitor.close()
    stranger = await ChatClient(lone_backend.base_url).connect(conversation_id=cid, last_seq=0)
    assert stranger.session["conversation_id"] != cid
    await stranger.close()
    back = await ChatClient(lone_backend.base_url).connect(conversation_id=cid, resume_token=grant, last_seq=0)
    try:
        first = await back.wait_for(lambda m: m["seq"] == 1)
        assert first["text"] == "pregunta anónima"
    finally:
        await back.close()


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"client_msg_id": "a", "text": ""}, "El mensaje está vacío."),
        ({"client_msg_id": "b", "text": "x" * 2001}, "El mensaje es demasiado largo (máximo 2000 caracteres)."),
        ({"client_msg_id": "c" * 65, "text": "hola"}, "El mensaje no es válido."),
        ("no es un objeto", "El mensaje no es válido."),
    ],
)
async def test_bad_messages_get_a_spanish_error_and_store_nothing(lone_backend, payload, error) -> None:
    client = await ChatClient(lone_backend.base_url).connect()
    try:
        ack = await client.sio.call("message", payload, namespace="/chat", timeout=10)
        assert ack == {"error": error}
        ok = await client.send("válido", mid())
        assert ok == {"seq": 1}  # nothing was stored for the bad message
    finally:
        await client.close()


async def test_a_forged_identity_is_refused_with_a_spanish_message(lone_backend) -> None:
    forged = issue_widget_token(
        secret="not-the-site-secret-0123456789-abcdef", email=ANA, customer="CABLEANDINA", name="Ana"
    )
    client = ChatClient(lone_backend.base_url)
    refusals: list[object] = []
    client.sio.on("connect_error", refusals.append, namespace="/chat")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.sio.connect(
            lone_backend.base_url,
            namespaces=["/chat"],
            auth={"identity": forged},
            transports=["websocket"],
            wait_timeout=10,
        )
    assert refusals == [{"message": "Su identificación no es válida. Recargue la página."}]


def test_the_demo_page_and_widget_are_served_with_a_strict_csp(lone_backend) -> None:
    page = httpx.get(lone_backend.base_url + "/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    for asset in ("/webchat/widget.js", "/webchat/widget.css", "/webchat/vendor/socket.io.min.js"):
        assert httpx.get(lone_backend.base_url + asset).status_code == 200, asset
    identities = httpx.get(lone_backend.base_url + "/demo/identities").json()["identities"]
    assert {i["contact"] for i in identities} == {ANA, LUIS, "maria.rodriguez@telecaribe.example"}
    assert httpx.post(lone_backend.base_url + "/demo/identity", json={"contact": "x@evil.example"}).status_code == 404


async def test_with_the_assistant_down_the_customer_can_still_reach_a_person(lone_backend, auth_headers) -> None:
    client = await ChatClient(lone_backend.base_url).connect(identity=widget_token(lone_backend.base_url, ANA))
    try:
        await client.send("hola", mid())
        notice = await client.wait_for(lambda m: m["role"] == "system")
        assert notice["buttons"] == [{"title": "Hablar con una persona", "payload": "/request_human"}]
        await client.send("Hablar con una persona", mid(), payload="/request_human")
        queued = await client.wait_for(lambda m: m["role"] == "system" and "Le estamos comunicando" in m["text"])
        assert "Nivel 1" in queued["text"]
        async with httpx.AsyncClient(timeout=10) as api:
            chats = await api.get(lone_backend.base_url + "/api/v1/queues/chats", headers=auth_headers["l1"])
        ids = [c["conversation_id"] for q in chats.json()["queues"] for c in q["conversations"]]
        assert client.session["conversation_id"] in ids
    finally:
        await client.close()
