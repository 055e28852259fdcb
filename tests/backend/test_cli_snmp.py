"""`python -m promptlink snmp` runs its receiver under the "snmp-receiver" lease: of two standalone
receivers on one deployment one receives, the other stands by and takes over when the first dies."""

from __future__ import annotations

import selectors
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from testkit.processes import BACKEND_PY, ROOT, base_env, cli, free_udp_port

REDIS = ("127.0.0.1", 6379)


def _receiver(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BACKEND_PY), "-m", "promptlink", "snmp"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _line_with(process: subprocess.Popen[str], text: str, timeout: float) -> str:
    """The first line of `process`'s output containing `text` (AssertionError after `timeout` s)."""
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        if selector.select(timeout=0.2):
            line = process.stdout.readline()
            if not line:
                break
            seen.append(line.strip())
            if text in line:
                return line.strip()
    raise AssertionError(f"no line with {text!r} within {timeout} s; output: {seen}")


def test_two_standalone_receivers_one_receives_and_the_other_takes_over(tmp_path: Path) -> None:
    try:
        socket.create_connection(REDIS, timeout=2).close()
    except OSError as exc:
        pytest.skip(f"Redis not reachable at {REDIS[0]}:{REDIS[1]}: {exc}")
    shared = {
        "PROMPTLINK_REDIS_URL": f"redis://{REDIS[0]}:{REDIS[1]}/0",
        "PROMPTLINK_REDIS_CHANNEL": f"promptlink-test-{uuid.uuid4().hex[:8]}",
        "PROMPTLINK_LEASE_POLL_SECONDS": "0.5",
        "PROMPTLINK_LOG_LEVEL": "WARNING",
    }
    # One deployment on one machine: the same var dir (SQLite database and lease files), two UDP ports.
    ports = [free_udp_port(), free_udp_port()]
    envs = [base_env(tmp_path, PROMPTLINK_SNMP_PORT=str(port), **shared) for port in ports]
    cli(envs[0], "migrate")
    first = _receiver(envs[0])
    second: subprocess.Popen[str] | None = None
    try:
        assert f"udp://127.0.0.1:{ports[0]}" in _line_with(first, "SNMP receiver on udp://", 120)
        second = _receiver(envs[1])
        _line_with(second, "SNMP receiver on standby", 120)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        began = time.monotonic()
        line = _line_with(second, "SNMP receiver on udp://", 30)
        print(f"\nstandalone SNMP receiver takeover: {time.monotonic() - began:.2f} s (poll 0.5 s)")
        assert f"udp://127.0.0.1:{ports[1]}" in line and "generation 2" in line
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
