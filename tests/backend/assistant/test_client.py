"""The backend's Rasa client against the real Rasa servers of the shared stack."""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from promptlink.assistant.client import AssistantUnavailable, ModelsMixed, RasaClient

from testkit.processes import ROOT, Running

pytestmark = pytest.mark.e2e

RASA_TOKEN = "demo-rasa-token-not-for-production"


def client(urls: list[str]) -> RasaClient:
    return RasaClient(
        rasa_urls=urls,
        rasa_token=RASA_TOKEN,
        channel_token="demo-rasa-channel-token-not-for-production",
        actions_url="http://127.0.0.1:9",
    )


@contextmanager
def refused_url() -> Iterator[str]:
    """The URL of a port that is bound but never listens: connections to it are refused."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{closed.getsockname()[1]}"
    finally:
        closed.close()


def model_file(url: str) -> str:
    return str(httpx.get(f"{url}/status", params={"token": RASA_TOKEN}, timeout=10).json()["model_file"])


def test_a_model_load_failing_part_way_puts_the_switched_server_back(stack: Running, tmp_path: Path) -> None:

    server = stack.extra["rasa_urls"][1]
    running = ROOT / "models" / Path(model_file(server)).name
    assert running.is_file(), running
    candidate = tmp_path / "promptlink-candidate-copy.tar.gz"  # the same model under another name
    shutil.copyfile(running, candidate)

    with refused_url() as down:  # the second "server"

        async def load() -> str:
            both = client([server, down])
            try:
                with pytest.raises(AssistantUnavailable) as failed:
                    await both.load_model(str(candidate), str(running))
                return failed.value.detail
            finally:
                await both.close()

        detail = asyncio.run(load())
    assert down in detail and f"{server} went back to the previous model" in detail
    assert Path(model_file(server)).name == running.name  # not the candidate: both servers run one model


def test_when_the_previous_model_cannot_go_back_the_error_says_the_servers_differ(
    stack: Running, tmp_path: Path
) -> None:

    server = stack.extra["rasa_urls"][1]
    running = ROOT / "models" / Path(model_file(server)).name
    candidate = tmp_path / "promptlink-candidate-copy-2.tar.gz"
    shutil.copyfile(running, candidate)
    with refused_url() as down:

        async def load() -> str:
            both, alone = client([server, down]), client([server])
            try:
                with pytest.raises(ModelsMixed) as failed:  # the "previous" file is gone
                    await both.load_model(str(candidate), str(tmp_path / "gone.tar.gz"))
                assert Path(model_file(server)).name == candidate.name  # this server kept the new one
                await alone.load_model(str(running))  # what an administrator's next activation does
                return failed.value.detail
            finally:
                await both.close()
                await alone.close()

        detail = asyncio.run(load())
    assert f"previous model could not be put back on {server}" in detail
    assert Path(model_file(server)).name == running.name
