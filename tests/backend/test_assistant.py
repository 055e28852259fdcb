"""The backend's Rasa client against the real Rasa servers of the shared stack."""

from __future__ import annotations

import asyncio
import shutil
import socket
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, Running

pytestmark = pytest.mark.e2e

RASA_TOKEN = "demo-rasa-token-not-for-production"


def model_file(url: str) -> str:
    return str(httpx.get(f"{url}/status", params={"token": RASA_TOKEN}, timeout=10).json()["model_file"])


def test_a_model_load_failing_part_way_puts_the_switched_server_back(stack: Running, tmp_path: Path) -> None:
    from promptlink.assistant import AssistantUnavailable, RasaClient

    server = stack.extra["rasa_urls"][1]
    running = ROOT / "models" / Path(model_file(server)).name
    assert running.is_file(), running
    candidate = tmp_path / "promptlink-candidate-copy.tar.gz"  # the same model under another name
    shutil.copyfile(running, candidate)

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: the second "server" refuses connections
    try:
        down = f"http://127.0.0.1:{closed.getsockname()[1]}"

        async def load() -> str:
            client = RasaClient(
                rasa_urls=[server, down],
                rasa_token=RASA_TOKEN,
                channel_token="demo-rasa-channel-token-not-for-production",
                actions_url="http://127.0.0.1:9",
            )
            try:
                with pytest.raises(AssistantUnavailable) as failed:
                    await client.load_model(str(candidate), str(running))
                return failed.value.detail
            finally:
                await client.close()

        detail = asyncio.run(load())
    finally:
        closed.close()
    assert down in detail and f"{server} went back to the previous model" in detail
    assert Path(model_file(server)).name == running.name  # not the candidate: both servers run one model


def test_when_the_previous_model_cannot_go_back_the_error_says_the_servers_differ(
    stack: Running, tmp_path: Path
) -> None:
    from promptlink.assistant import ModelsMixed, RasaClient

    server = stack.extra["rasa_urls"][1]
    running = ROOT / "models" / Path(model_file(server)).name
    candidate = tmp_path / "promptlink-candidate-copy-2.tar.gz"
    shutil.copyfile(running, candidate)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    try:
        down = f"http://127.0.0.1:{closed.getsockname()[1]}"

        async def load() -> str:
            client = RasaClient(
                rasa_urls=[server, down],
                rasa_token=RASA_TOKEN,
                channel_token="demo-rasa-channel-token-not-for-production",
                actions_url="http://127.0.0.1:9",
            )
            alone = RasaClient(
                rasa_urls=[server],
                rasa_token=RASA_TOKEN,
                channel_token="demo-rasa-channel-token-not-for-production",
                actions_url="http://127.0.0.1:9",
            )
            try:
                with pytest.raises(ModelsMixed) as failed:  # the "previous" file is gone
                    await client.load_model(str(candidate), str(tmp_path / "gone.tar.gz"))
                assert Path(model_file(server)).name == candidate.name  # this server kept the new one
                await alone.load_model(str(running))  # what an administrator's next activation does
                return failed.value.detail
            finally:
                await client.close()
                await alone.close()

        detail = asyncio.run(load())
    finally:
        closed.close()
    assert f"previous model could not be put back on {server}" in detail
    assert Path(model_file(server)).name == running.name
