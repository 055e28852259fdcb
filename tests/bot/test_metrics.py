"""`GET /metrics` of the real Rasa servers and action server (started by the supervisor):
each labels its samples with its own process, and a chat turn moves the timings."""

from __future__ import annotations

import httpx
import pytest

from testkit.metrics import by_series, processes

pytestmark = pytest.mark.e2e

CHANNEL_TOKEN = "demo-rasa-channel-token-not-for-production"
TURN = 'promptlink_bot_request_seconds_count{method="POST",route="/webhooks/promptlink/webhook",status="200"}'
ACTION = 'promptlink_bot_request_seconds_count{method="POST",route="/webhook",status="200"}'


def _scrape(url: str) -> str:
    response = httpx.get(url + "/metrics", timeout=15)  # no token: Prometheus on an internal address
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def test_each_rasa_server_and_the_action_server_expose_their_own_metrics(stack) -> None:
    for url in stack.extra["rasa_urls"]:
        body = _scrape(url)
        assert processes(body) == {"rasa@" + url.removeprefix("http://")}
        assert by_series(body)["process_resident_memory_bytes"] > 0
    actions_url = stack.env["PROMPTLINK_ACTIONS_URL"]
    body = _scrape(actions_url)
    assert processes(body) == {"actions@" + actions_url.removeprefix("http://")}


def test_a_turn_moves_the_channel_timing_and_the_action_servers(stack) -> None:
    rasa_url = stack.extra["rasa_urls"][0]
    actions_url = stack.env["PROMPTLINK_ACTIONS_URL"]
    before, actions_before = by_series(_scrape(rasa_url)), by_series(_scrape(actions_url))
    answer = httpx.post(
        rasa_url + "/webhooks/promptlink/webhook",
        json={"sender": "metrics-test-1", "message": "hola", "metadata": {"name": "Ana Gómez"}},
        headers={"Authorization": f"Bearer {CHANNEL_TOKEN}"},
        timeout=60,
    )
    assert answer.status_code == 200 and answer.json()["messages"]
    after, actions_after = by_series(_scrape(rasa_url)), by_series(_scrape(actions_url))
    assert after[TURN] == before.get(TURN, 0) + 1
    assert after[TURN.replace("_count", "_sum")] > before.get(TURN.replace("_count", "_sum"), 0)
    # «hola» runs action_greet on the action server: its call is timed there.
    assert actions_after[ACTION] >= actions_before.get(ACTION, 0) + 1
