"""The test stack's port picker (testkit/processes.py): ports below the kernel's ephemeral range, never twice."""

from __future__ import annotations

import socket

import pytest

from testkit import processes


def test_ports_are_free_below_the_ephemeral_range_and_never_handed_out_twice() -> None:
    low = processes._ephemeral_low()
    tcp = [processes.free_port() for _ in range(50)]
    udp = [processes.free_udp_port() for _ in range(50)]
    if low > 11000:
        assert all(10000 <= port < low for port in tcp + udp)
    assert len(set(tcp + udp)) == 100
    for port in tcp:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", port))  # still free: nothing of the picker's holds it


def test_a_port_in_use_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        tried: list[int] = []
        real = processes.random.randint

        def pick(a: int, b: int) -> int:  # the busy port first, twice; then the usual spread
            tried.append(taken if len(tried) < 2 else real(a, b))
            return tried[-1]

        monkeypatch.setattr(processes, "_ephemeral_low", lambda: 65536)
        monkeypatch.setattr(processes.random, "randint", pick)
        port = processes.free_port()
    assert tried[:2] == [taken, taken] and port != taken


def test_without_room_below_the_range_the_kernel_picks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(processes, "_ephemeral_low", lambda: 10500)
    port = processes.free_port()
    assert 0 < port < 65536
