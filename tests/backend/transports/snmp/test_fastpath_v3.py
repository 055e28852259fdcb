"""The v3 authPriv fast path reads exactly what pysnmp reads from real pysnmp traps, and hands
anything it cannot vouch for (bad digest, unknown user, stale boots) to pysnmp."""

from __future__ import annotations

import socket
from typing import Any

from promptlink.infra.settings import DEMO_SNMP_V3_USERS
from promptlink.transports.snmp.fastpath_v3 import V3FastPath
from promptlink.transports.snmp.metrics import TrapCounters
from promptlink.transports.snmp.receiver import AUTH_PROTOCOLS, PRIV_PROTOCOLS, TrapEvent, TrapReceiver
from pysnmp.hlapi.v3arch.asyncio import SnmpEngine
from pysnmp.proto.rfc1902 import OctetString

from testkit.traps import ENGINE_ID, LINK_DOWN, send_v3

USER = DEMO_SNMP_V3_USERS[0]


class Collect:
    def __init__(self) -> None:
        self.events: list[TrapEvent] = []

    def append(self, event: TrapEvent) -> bool:
        self.events.append(event)
        return True


async def capture(count: int, *, engine: Any = None, auth_key: str = USER["auth_key"]) -> list[bytes]:
    """Real authPriv traps from pysnmp's send_notification, caught on a local socket."""
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.settimeout(10)
    try:
        for i in range(count):
            await send_v3(
                sink.getsockname()[1],
                auth_key=auth_key,
                priv_key=USER["priv_key"],
                trap_oid=LINK_DOWN,
                if_index=i + 1,
                engine=engine,
            )
        return [sink.recv(4096) for _ in range(count)]
    finally:
        sink.close()


def fast_path() -> V3FastPath:
    fast = V3FastPath()
    assert fast.add_user(
        user=USER["user"],
        auth_protocol=AUTH_PROTOCOLS[USER["auth"]],
        auth_key=USER["auth_key"],
        priv_protocol=PRIV_PROTOCOLS[USER["priv"]],
        priv_key=USER["priv_key"],
        engine_id=bytes.fromhex(ENGINE_ID),
    )
    return fast


def receiver(sink: Collect, *, fast: bool) -> TrapReceiver:
    running = TrapReceiver(
        host="127.0.0.1",
        port=0,
        communities=[],
        v3_users=[dict(USER)],
        journal=sink,
        counters=TrapCounters(),
        fast_path=fast,
    )
    running.start()
    return running


async def test_the_fast_path_reads_what_pysnmp_reads() -> None:
    import asyncio

    engine = SnmpEngine(OctetString(hexValue=ENGINE_ID))
    packets = await capture(3, engine=engine)
    engine.close_dispatcher()
    seen: dict[bool, list[tuple[Any, ...]]] = {}
    for fast in (True, False):
        sink = Collect()
        running = receiver(sink, fast=fast)
        try:
            for packet in packets:
                running._transport.datagram_received(packet, ("127.0.0.21", 40000))
            for _ in range(100):  # pysnmp's path runs on the loop
                if len(sink.events) == len(packets):
                    break
                await asyncio.sleep(0.02)
        finally:
            running.close()
        seen[fast] = [(e.version, e.user, e.source, e.trap_oid, e.varbinds) for e in sink.events]
        assert running.counters.received["v3"] == 3
    assert seen[True] == seen[False]
    assert seen[True][0] == ("v3", "promptlink", "127.0.0.21", LINK_DOWN, {"1.3.6.1.2.1.2.2.1.1.1": "1"})


async def test_anything_it_cannot_vouch_for_goes_to_pysnmp() -> None:
    fast = fast_path()
    (good,) = await capture(1)
    assert fast.decode(good) is not None
    tampered = bytearray(good)
    tampered[-3] ^= 0x01  # one bit of the encrypted PDU: the digest no longer matches
    assert fast.decode(bytes(tampered)) is None
    (wrong_key,) = await capture(1, auth_key="another-auth-pass")
    assert fast.decode(wrong_key) is None
    assert fast.decode(good[:-1]) is None and fast.decode(b"\x30\x03\x02\x01\x03") is None
    # Each fresh pysnmp engine boots once more: a message of an older boot is outside the window.
    older, newer = await capture(1), await capture(1)
    fresh = fast_path()
    assert fresh.decode(newer[0]) is not None
    assert fresh.decode(older[0]) is None
    assert not fresh.add_user(
        user="u", auth_protocol=AUTH_PROTOCOLS["sha"], auth_key="k" * 8, priv_protocol=PRIV_PROTOCOLS["aes256"],
        priv_key="p" * 8, engine_id=b"\x80\x00\x00\x00\x01",
    )  # fmt: skip
