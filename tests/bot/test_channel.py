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
