"""A direct BER reader for the hot case: an SNMPv2c trap with an allowed community.

pysnmp's generic engine path decodes about a thousand traps per second on one core of
this machine; a storm needs more. This reader handles exactly one shape — version 1
(v2c), a community from the allow-list, an SNMPv2-Trap-PDU — and returns the same
values `receiver._value` gives for pysnmp's decode. Everything else (v1, v3, informs,
unknown communities, anything malformed) returns None and goes through pysnmp, which
also counts what it drops.
"""

from __future__ import annotations

TRAP_V2_PDU = 0xA7


class _Malformed(Exception):
    pass


def _length(data: bytes, pos: int) -> tuple[int, int]:
    first = data[pos]
    pos += 1
    if first < 0x80:
        return first, pos
    count = first & 0x7F
    if count == 0 or count > 4:
        raise _Malformed
    value = int.from_bytes(data[pos : pos + count], "big")
    return value, pos + count


def _tlv(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, start of value, end of value) of the element at `pos`."""
    if pos + 2 > end:
        raise _Malformed
    tag = data[pos]
    length, start = _length(data, pos + 1)
    stop = start + length
    if stop > end:
        raise _Malformed
    return tag, start, stop


def _oid(raw: bytes) -> str:
    if not raw:
        raise _Malformed
    parts: list[int] = []
    value = 0
    for byte in raw:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    if raw[-1] & 0x80:
        raise _Malformed
    first = parts[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(map(str, head + parts[1:]))


def _text(raw: bytes) -> str:
    for byte in raw:
        if byte < 32 or byte > 126:
            return "0x" + raw.hex()
    return raw.decode("ascii")


def _value(tag: int, raw: bytes) -> str:
    if tag == 0x02:  # INTEGER
        return str(int.from_bytes(raw, "big", signed=True))
    if tag in (0x41, 0x42, 0x43, 0x46):  # Counter32, Gauge32, TimeTicks, Counter64
        return str(int.from_bytes(raw, "big", signed=False))
    if tag == 0x04:  # OCTET STRING
        return _text(raw)
    if tag == 0x06:
        return _oid(raw)
    if tag == 0x40 and len(raw) == 4:  # IpAddress
        return ".".join(str(b) for b in raw)
    if tag == 0x05:  # NULL
        return ""
    raise _Malformed  # Opaque, exceptions, constructed values: leave it to pysnmp


def decode_v2c_trap(data: bytes, communities: frozenset[bytes]) -> list[tuple[str, str]] | None:
    """The varbinds of a v2c trap with an allowed community, or None for pysnmp to handle."""
    try:
        end = len(data)
        tag, pos, stop = _tlv(data, 0, end)
        if tag != 0x30 or stop != end:
            return None
        tag, start, pos = _tlv(data, pos, end)
        if tag != 0x02 or data[start:pos] != b"\x01":  # version-2c
            return None
        tag, start, pos = _tlv(data, pos, end)
        if tag != 0x04 or data[start:pos] not in communities:
            return None
        return _trap_pdu(data, pos, end)
    except (_Malformed, IndexError, ValueError, UnicodeDecodeError):
        return None


def _trap_pdu(data: bytes, pos: int, end: int) -> list[tuple[str, str]] | None:
    """The varbinds of the SNMPv2-Trap-PDU that spans data[pos:end] exactly."""
    tag, pos, pdu_end = _tlv(data, pos, end)
    if tag != TRAP_V2_PDU or pdu_end != end:
        return None
    for _ in range(3):  # request-id, error-status, error-index
        tag, _start, pos = _tlv(data, pos, pdu_end)
        if tag != 0x02:
            return None
    tag, pos, list_end = _tlv(data, pos, pdu_end)
    if tag != 0x30 or list_end != pdu_end:
        return None
    varbinds: list[tuple[str, str]] = []
    while pos < list_end:
        tag, vb_pos, vb_end = _tlv(data, pos, list_end)
        if tag != 0x30:
            return None
        tag, start, vb_pos = _tlv(data, vb_pos, vb_end)
        if tag != 0x06:
            return None
        name = _oid(data[start:vb_pos])
        tag, start, stop = _tlv(data, vb_pos, vb_end)
        if stop != vb_end:
            return None
        varbinds.append((name, _value(tag, data[start:stop])))
        pos = vb_end
    return varbinds
