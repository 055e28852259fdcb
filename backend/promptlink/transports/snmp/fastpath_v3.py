"""A direct reader for the hot v3 case: an authPriv SNMPv3 trap (HMAC-SHA*, AES-128) of a configured user.

Profiling the receiver on authPriv traps (bench/snmp_v3_cpu.py) showed ~1.5 ms of CPU per trap,
three quarters of it in pyasn1's generic BER decoding of the message, the security parameters
and the scoped PDU; the crypto itself (HMAC, AES) was under 10 %, and pysnmp 7 does not
localize keys per message (add_v3_user stores the localized keys for the configured sender
engine ID). So what is cached here, per (sender engine ID, user), is everything that does not
change between messages: the localized authentication and privacy keys (computed once, with
pysnmp's own `hash_passphrase`/`localize_key`), the HMAC's hash constructor and digest length,
and the sender's timeline. Each message then costs one HMAC, one AES-CFB decryption
(`cryptography`) and a direct BER read of the fields USM needs.

The checks are USM's (RFC 3414 §3.2, RFC 3826, RFC 7860): the message must be version 3,
security model USM, flags auth+priv, a known engine ID and user, a valid truncated HMAC over the
whole message with the authentication parameters zeroed, inside the sender's time window
(§3.2.7 b: non-authoritative receiver, 150 s), and decrypt to an SNMPv2-Trap-PDU. Anything
else — informs (they need a response), other privacy protocols, unknown users, a wrong digest,
a message outside the window, anything malformed — returns None and goes through pysnmp,
which applies the same rules and counts what it drops in its USM MIB counters. So the fast path
can only accept less than pysnmp would, never more.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from time import monotonic
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

try:  # cryptography >= 47 keeps CFB among the "decrepit" modes (still AES-CFB128, RFC 3826's)
    from cryptography.hazmat.decrepit.ciphers.modes import CFB
except ImportError:  # pragma: no cover - older cryptography
    from cryptography.hazmat.primitives.ciphers.modes import CFB
from pysnmp.entity import config
from pysnmp.proto import rfc1902

from promptlink.transports.snmp.fastpath import _Malformed, _tlv, _trap_pdu

TIME_WINDOW = 150  # seconds (RFC 3414 §3.2.7)
MAX_BOOTS = 2**31 - 1

# auth protocol -> (hash constructor, digest bytes kept)
HMACS: dict[Any, tuple[Callable[..., Any], int]] = {
    config.USM_AUTH_HMAC96_SHA: (hashlib.sha1, 12),
    config.USM_AUTH_HMAC128_SHA224: (hashlib.sha224, 16),
    config.USM_AUTH_HMAC192_SHA256: (hashlib.sha256, 24),
    config.USM_AUTH_HMAC256_SHA384: (hashlib.sha384, 32),
    config.USM_AUTH_HMAC384_SHA512: (hashlib.sha512, 48),
}


@dataclass(slots=True)
class UserKeys:
    user: str
    digest: Callable[..., Any]
    digest_bytes: int
    auth_key: bytes
    priv_key: bytes  # the AES-128 key (the localized privacy key's first 16 bytes)


@dataclass(slots=True)
class Timeline:
    """What this receiver believes about a sender engine's clock (RFC 3414 §2.3, non-authoritative side)."""

    boots: int
    time: int
    latest: int
    at: float  # monotonic() when `time` was taken

    def estimate(self, now: float) -> int:
        return self.time + int(now - self.at)


def localized_keys(
    auth_protocol: Any, auth_key: str, priv_protocol: Any, priv_key: str, engine_id: bytes
) -> tuple[bytes, bytes]:
    """The keys pysnmp's add_v3_user stores for this user and engine (same functions, computed once)."""
    engine = rfc1902.OctetString(engine_id)
    auth_service = config.AUTH_SERVICES[auth_protocol]
    priv_service = config.PRIV_SERVICES[priv_protocol]
    local_auth = auth_service.localize_key(auth_service.hash_passphrase(rfc1902.OctetString(auth_key)), engine)
    master_priv = priv_service.hash_passphrase(auth_protocol, rfc1902.OctetString(priv_key))
    local_priv = priv_service.localize_key(auth_protocol, master_priv, engine)
    return bytes(local_auth), bytes(local_priv)


class V3FastPath:
    """Per (engine ID, user) keys and per engine timelines; `decode` a datagram or return None."""

    def __init__(self) -> None:
        self.users: dict[tuple[bytes, bytes], UserKeys] = {}
        self.timelines: dict[bytes, Timeline] = {}

    def add_user(
        self, *, user: str, auth_protocol: Any, auth_key: str, priv_protocol: Any, priv_key: str, engine_id: bytes
    ) -> bool:
        """Register a user for the fast path; False (pysnmp only) for protocols it does not handle."""
        if auth_protocol not in HMACS or priv_protocol != config.USM_PRIV_CFB128_AES:
            return False
        local_auth, local_priv = localized_keys(auth_protocol, auth_key, priv_protocol, priv_key, engine_id)
        digest, size = HMACS[auth_protocol]
        self.users[(engine_id, user.encode())] = UserKeys(user, digest, size, local_auth, local_priv[:16])
        return True

    def decode(self, data: bytes) -> tuple[str, list[tuple[str, str]]] | None:
        """(user, varbinds) of a valid authPriv trap of a known user, or None for pysnmp to handle."""
        try:
            return self._decode(data)
        except (_Malformed, IndexError, ValueError, UnicodeDecodeError):
            return None

    def _decode(self, data: bytes) -> tuple[str, list[tuple[str, str]]] | None:
        end = len(data)
        tag, pos, stop = _tlv(data, 0, end)
        if tag != 0x30 or stop != end:
            return None
        tag, start, pos = _tlv(data, pos, end)
        if tag != 0x02 or data[start:pos] != b"\x03":
            return None
        # msgGlobalData: msgID, msgMaxSize, msgFlags, msgSecurityModel
        tag, gpos, gend = _tlv(data, pos, end)
        if tag != 0x30:
            return None
        for _ in range(2):
            tag, _s, gpos = _tlv(data, gpos, gend)
            if tag != 0x02:
                return None
        tag, start, gpos = _tlv(data, gpos, gend)
        if tag != 0x04 or gpos - start != 1 or data[start] & 0x03 != 0x03:  # auth + priv
            return None
        tag, start, gpos = _tlv(data, gpos, gend)
        if tag != 0x02 or data[start:gpos] != b"\x03" or gpos != gend:  # USM
            return None
        # msgSecurityParameters: OCTET STRING wrapping UsmSecurityParameters
        tag, spos, send = _tlv(data, gend, end)
        if tag != 0x04:
            return None
        tag, spos, sseq_end = _tlv(data, spos, send)
        if tag != 0x30 or sseq_end != send:
            return None
        tag, start, spos = _tlv(data, spos, send)
        if tag != 0x04:
            return None
        engine_id = data[start:spos]
        boots, spos = _unsigned(data, spos, send)
        engine_time, spos = _unsigned(data, spos, send)
        tag, start, spos = _tlv(data, spos, send)
        if tag != 0x04:
            return None
        user_name = data[start:spos]
        tag, auth_start, auth_stop = _tlv(data, spos, send)
        if tag != 0x04:
            return None
        tag, start, spos = _tlv(data, auth_stop, send)
        if tag != 0x04 or spos != send or spos - start != 8:
            return None
        salt = data[start:spos]
        # msgData: encryptedPDU
        tag, epos, eend = _tlv(data, send, end)
        if tag != 0x04 or eend != end:
            return None
        keys = self.users.get((engine_id, user_name))
        if keys is None or auth_stop - auth_start != keys.digest_bytes:
            return None
        whole = bytearray(data)
        whole[auth_start:auth_stop] = bytes(keys.digest_bytes)
        digest = hmac.new(keys.auth_key, whole, keys.digest).digest()[: keys.digest_bytes]
        if not hmac.compare_digest(digest, data[auth_start:auth_stop]):
            return None
        if not self._in_time_window(engine_id, boots, engine_time):
            return None
        iv = boots.to_bytes(4, "big") + engine_time.to_bytes(4, "big") + salt
        decryptor = Cipher(algorithms.AES(keys.priv_key), CFB(iv)).decryptor()
        scoped = decryptor.update(data[epos:eend]) + decryptor.finalize()
        # ScopedPDU: contextEngineID, contextName, PDU (trailing bytes after it are refused)
        tag, pos, stop = _tlv(scoped, 0, len(scoped))
        if tag != 0x30:
            return None
        for _ in range(2):
            tag, _s, pos = _tlv(scoped, pos, stop)
            if tag != 0x04:
                return None
        varbinds = _trap_pdu(scoped, pos, stop)
        if varbinds is None:
            return None
        return keys.user, varbinds

    def _in_time_window(self, engine_id: bytes, boots: int, engine_time: int) -> bool:
        """RFC 3414 §3.2.7 b (the receiver is not authoritative for a trap): check, then update."""
        now = monotonic()
        known = self.timelines.get(engine_id)
        if boots >= MAX_BOOTS:
            return False
        if known is not None:
            if boots < known.boots:
                return False
            if boots == known.boots and engine_time < known.estimate(now) - TIME_WINDOW:
                return False
        if known is None or boots > known.boots or (boots == known.boots and engine_time > known.latest):
            self.timelines[engine_id] = Timeline(boots, engine_time, engine_time, now)
        return True


def _unsigned(data: bytes, pos: int, end: int) -> tuple[int, int]:
    tag, start, stop = _tlv(data, pos, end)
    if tag != 0x02 or stop == start or stop - start > 5:
        raise _Malformed
    value = int.from_bytes(data[start:stop], "big", signed=True)
    if value < 0:
        raise _Malformed
    return value, stop
