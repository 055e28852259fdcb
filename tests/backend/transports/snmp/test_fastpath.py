"""The v2c fast path reads exactly what pysnmp reads, and hands everything else to pysnmp."""

from __future__ import annotations

import os

from promptlink.transports.snmp.fastpath import decode_v2c_trap
from promptlink.transports.snmp.receiver import _value
from pyasn1.codec.ber import decoder
from pysnmp.proto import api
from pysnmp.proto.rfc1902 import (
    Counter32,
    Counter64,
    Gauge32,
    Integer,
    IpAddress,
    ObjectIdentifier,
    OctetString,
    TimeTicks,
)

from testkit.traps import LINK_DOWN, v2c_packet

ALLOWED = frozenset({b"public"})
VARBINDS = [
    ("1.3.6.1.2.1.2.2.1.1.3", Integer(3)),
    ("1.3.6.1.2.1.2.2.1.2.3", OctetString("ge-0/0/3 uplink")),
    ("1.3.6.1.4.1.55555.1.3", OctetString(b"\x00\xffbinary")),
    ("1.3.6.1.4.1.55555.1.4", OctetString("")),
    ("1.3.6.1.4.1.55555.1.5", Integer(-42)),
    ("1.3.6.1.4.1.55555.1.6", Counter32(4294967295)),
    ("1.3.6.1.4.1.55555.1.7", Gauge32(7)),
    ("1.3.6.1.4.1.55555.1.8", Counter64(2**63 + 5)),
    ("1.3.6.1.4.1.55555.1.9", IpAddress("10.1.2.3")),
    ("1.3.6.1.4.1.55555.1.10", ObjectIdentifier("1.3.6.1.4.1.55555.200.1")),
    ("1.3.6.1.4.1.55555.1.11", TimeTicks(123456)),
    ("1.3.6.1.4.1.55555.1.12", OctetString("x" * 300)),  # long-form length
]


def _pysnmp_view(packet: bytes) -> list[tuple[str, str]]:
    p = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
    message, _ = decoder.decode(packet, asn1Spec=p.Message())
    pdu = p.apiMessage.get_pdu(message)
    return [(str(oid), _value(value)) for oid, value in p.apiPDU.get_varbinds(pdu)]


def test_every_value_type_reads_like_pysnmp() -> None:
    packet = v2c_packet("public", LINK_DOWN, VARBINDS, request_id=77)
    fast = decode_v2c_trap(packet, ALLOWED)
    assert fast is not None
    assert fast == _pysnmp_view(packet)
    assert ("1.3.6.1.6.3.1.1.4.1.0", LINK_DOWN) in fast
    assert ("1.3.6.1.4.1.55555.1.3", "0x00ff62696e617279") in fast


def test_other_communities_versions_and_garbage_go_to_pysnmp() -> None:
    packet = v2c_packet("public", LINK_DOWN, VARBINDS[:1])
    assert decode_v2c_trap(packet, frozenset({b"other"})) is None
    assert decode_v2c_trap(packet[:-1], ALLOWED) is None  # truncated
    assert decode_v2c_trap(packet + b"\x00", ALLOWED) is None  # trailing bytes
    v1 = packet.replace(b"\x02\x01\x01", b"\x02\x01\x00", 1)  # version field says v1
    assert decode_v2c_trap(v1, ALLOWED) is None
    for size in range(0, 200, 7):
        assert decode_v2c_trap(os.urandom(size), ALLOWED) is None
    # Flipping any single byte never raises: the result is a read or None.
    for i in range(len(packet)):
        mutated = bytearray(packet)
        mutated[i] ^= 0xFF
        decode_v2c_trap(bytes(mutated), ALLOWED)
