"""The `promptlink` input channel inside the real Rasa server (started by the supervisor)."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e


def _post(stack, body: object, token: str | None = "demo-rasa-channel-token-not-for-production") -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(stack.extra["rasa_url"] + "/webhooks/promptlink/webhook", json=body, headers=headers, timeout=30)


def test_returns_the_bot_messages_with_the_parse(stack) -> None:
    response = _post(
        stack,
        {
            "sender": "channel-test-1",
            "message": "hola buenas",
            "metadata": {"name": "Ana Gómez", "customer": "CABLEANDINA"},
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["parse"]["intent"]["name"] == "greet"
    assert 0.5 < body["parse"]["intent"]["confidence"] <= 1.0
    assert len(body["messages"]) == 1
    assert "Ana" in body["messages"][0]["text"]  # action_greet used the metadata name
    assert body["active_loop"] is None  # no form question open after a greeting


def test_reports_the_form_whose_question_is_open_after_the_turn(stack) -> None:
    """The backend holds monitoring notices while it is set (docs/snmp.md, One notice per wave)."""
    body = _post(stack, {"sender": "channel-test-form", "message": "la red esta caida"}).json()
    assert body["parse"]["intent"]["name"] == "report_network_outage"
    assert body["active_loop"] == "incident_form" and body["messages"]  # the form asked its first question


def test_out_of_scope_is_recognised(stack) -> None:
    body = _post(stack, {"sender": "channel-test-2", "message": "cual es la receta de la paella"}).json()
    assert body["parse"]["intent"]["name"] == "out_of_scope"
    assert body["messages"]


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_refuses_callers_without_the_token(stack, token) -> None:
    response = _post(stack, {"sender": "x", "message": "hola"}, token=token)
    assert response.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"message": "hola"},
        {"sender": "x", "message": ""},
        {"sender": "x" * 65, "message": "hola"},
        {"sender": "x", "message": "hola", "metadata": "nope"},
        ["not", "an", "object"],
    ],
)
def test_rejects_malformed_bodies(stack, body) -> None:
    assert _post(stack, body).status_code == 400


def test_rasa_http_api_needs_its_token(stack) -> None:
    assert httpx.get(stack.extra["rasa_url"] + "/status", timeout=5).status_code == 401


def test_the_stack_runs_two_rasa_servers_sharing_conversations(stack) -> None:
    """Any Rasa server takes any turn: the second «not understood» goes to the other server, which knows the first."""
    first, second = stack.extra["rasa_urls"]
    token = {"Authorization": "Bearer demo-rasa-channel-token-not-for-production"}

    def turn(base: str, text: str) -> dict:
        response = httpx.post(
            base + "/webhooks/promptlink/webhook",
            json={"sender": "channel-two-servers", "message": text},
            headers=token,
            timeout=30,
        )
        assert response.status_code == 200
        return response.json()

    # «/nlu_fallback» is what the NLU says of text it does not understand, without depending on
    # how a given training classifies some gibberish.
    once = turn(first, "/nlu_fallback")
    assert once["parse"]["intent"]["name"] == "nlu_fallback"
    assert once["messages"][0]["text"].startswith("Disculpe, no le entendí bien")
    twice = turn(second, "/nlu_fallback")
    assert twice["parse"]["intent"]["name"] == "nlu_fallback"
    # It read the first server's turn: the second not-understood turn in a row offers a person.
    assert "¿Desea que le comunique con un especialista?" in twice["messages"][0]["text"]
    assert [b["payload"] for b in twice["messages"][0]["buttons"]][0] == "/request_human"


def test_a_rasa_server_that_cannot_be_reached_is_skipped(stack) -> None:
    """The backend's client: a turn whose first server refuses the connection goes to the next one."""
    import asyncio
    import socket
    import zlib

    from promptlink.assistant.client import RasaClient

    # A conversation whose own server (by the stable hash) is the first of the list: the one that is down.
    sender = next(s for s in (f"skip-{k}" for k in range(100)) if zlib.crc32(s.encode()) % 2 == 0)

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    try:
        down = f"http://127.0.0.1:{closed.getsockname()[1]}"

        async def ask() -> tuple[list[str], str | None, list[str]]:
            client = RasaClient(
                rasa_urls=[down, stack.extra["rasa_url"]],
                rasa_token="demo-rasa-token-not-for-production",
                channel_token="demo-rasa-channel-token-not-for-production",
                actions_url="http://127.0.0.1:9",
            )
            try:
                order = client.servers_for(sender)
                turn = await client.send(sender=sender, text="¿cuáles son las prioridades?", metadata={})
                assert client.in_flight == {down: 0, stack.extra["rasa_url"]: 0}  # nothing left counted
                return order, turn.intent, [m.text for m in turn.messages]
            finally:
                await client.close()

        order, intent, texts = asyncio.run(ask())
    finally:
        closed.close()
    assert intent == "ask_priority_levels"
    assert texts and "prioridad" in texts[0].lower()
    assert order == [down, stack.extra["rasa_url"]]  # the refused server was tried first


def test_the_words_settle_what_the_classifier_confuses(stack) -> None:
    """`bot/intent_hints.py` in the real server: «ayuda» (classified thank) is greeted, a cadence question naming a
    priority (classified ask_priority_levels) gets the cadence, and the parse says what the classifier said."""
    body = _post(stack, {"sender": "channel-test-help", "message": "ayuda"}).json()
    assert body["parse"]["intent"]["name"] == "greet"
    assert "Soporte Técnico de Promptlink" in body["messages"][0]["text"]
    question = "Oiga, y si abro un caso de prioridad 2, ¿cada cuánto me van a estar dando razón?"
    body = _post(stack, {"sender": "channel-test-cadence", "message": question}).json()
    assert body["parse"]["intent"]["name"] == "ask_update_frequency"
    assert [m["text"] for m in body["messages"]] and "al final de cada día" in body["messages"][0]["text"]
    body = _post(stack, {"sender": "channel-test-thanks", "message": "muchas gracias"}).json()
    assert body["parse"]["intent"]["name"] == "thank" and body["messages"][0]["text"].startswith("Con mucho gusto")
