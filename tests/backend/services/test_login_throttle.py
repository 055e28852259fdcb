"""The login throttle's storage: a Redis restart costs no login (services/login_throttle.py)."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from promptlink.services.login_throttle import LoginThrottle

from testkit.processes import free_port


def _start_redis(port: int, directory: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            client.ping()
            return process
        except redis.ConnectionError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("private redis-server did not start")


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[tuple[int, list[subprocess.Popen[bytes]]]]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (Debian's redis-server): no private Redis to restart")
    port = free_port()
    processes = [_start_redis(port, tmp_path)]
    yield port, processes
    for process in processes:
        process.terminate()
        process.wait(10)


async def test_a_login_right_after_a_redis_restart_is_not_refused(private_redis, tmp_path: Path) -> None:
    port, processes = private_redis
    throttle = LoginThrottle(per_ip="5/minute", per_account="5/minute", redis_url=f"redis://127.0.0.1:{port}/0")

    async def accepted() -> str:
        return "token"

    assert await throttle.run(address="192.0.2.9", email="a@promptlink.example", attempt=accepted) == "token"
    processes[0].terminate()
    processes[0].wait(10)
    processes.append(_start_redis(port, tmp_path))
    # The pooled connection to the old server fails on first use; the throttle asks again on a new one.
    for _ in range(3):
        assert await throttle.run(address="192.0.2.9", email="a@promptlink.example", attempt=accepted) == "token"
