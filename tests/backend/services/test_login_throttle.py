"""The login throttle's storage: a Redis restart costs no login (services/login_throttle.py)."""

from __future__ import annotations

from pathlib import Path

from promptlink.services.login_throttle import LoginThrottle

from testkit.processes import start_redis


async def test_a_login_right_after_a_redis_restart_is_not_refused(private_redis, tmp_path: Path) -> None:
    port, processes = private_redis
    throttle = LoginThrottle(per_ip="5/minute", per_account="5/minute", redis_url=f"redis://127.0.0.1:{port}/0")

    async def accepted() -> str:
        return "token"

    assert await throttle.run(address="192.0.2.9", email="a@promptlink.example", attempt=accepted) == "token"
    processes[0].terminate()
    processes[0].wait(10)
    processes.append(start_redis(port, tmp_path))
    # The pooled connection to the old server fails on first use; the throttle asks again on a new one.
    for _ in range(3):
        assert await throttle.run(address="192.0.2.9", email="a@promptlink.example", attempt=accepted) == "token"
