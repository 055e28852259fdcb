"""The pysnmp 7 (asyncio) trap receiver: v1, v2c (community allow-list), v3 USM authPriv.

The callback only decodes, counts and appends to the trap journal (journal.py: durable,
bounded by disk); the alarm worker does the database work. pysnmp drops what fails authentication or parsing and
counts it in its own MIB counters (see `TrapCounters.engine_drops`).

Trust (docs/snmp.md): USM accepts a message at a lower security level than its user's
keys allow (a noAuthNoPriv trap only names the user and engine id, both in clear text), so
the receiver checks each v3 trap's securityLevel against the configured minimum and drops
what is below it. v1/v2c traps (a community is noAuthNoPriv) are taken only when
community traps are allowed. The device is the UDP source address; an agent address
(v1 agent-addr, snmpTrapAddress.0) is believed only from a configured trusted relay.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from time import monotonic
from typing import Any, Protocol

from pyasn1.type import univ
from pysnmp.carrier.asyncio.dgram import udp
from pysnmp.entity import config, engine
from pysnmp.entity.rfc3413 import ntfrcv
from pysnmp.proto.api import v2c

from promptlink.transports.snmp.fastpath import decode_v2c_trap
from promptlink.transports.snmp.fastpath_v3 import V3FastPath
from promptlink.transports.snmp.metrics import TrapCounters

log = logging.getLogger(__name__)

SNMP_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"
SNMP_TRAP_ADDRESS = "1.3.6.1.6.3.18.1.3.0"  # pysnmp adds it to v1 traps from the agent-addr field
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
VERSIONS = {1: "v1", 2: "v2c", 3: "v3"}
# RFC 3411 SnmpSecurityLevel; community-based messages are noAuthNoPriv (RFC 3584).
SECURITY_LEVELS = {"noAuthNoPriv": 1, "authNoPriv": 2, "authPriv": 3}
LEVEL_NAMES = {number: name for name, number in SECURITY_LEVELS.items()}
DROP_LOG_SECONDS = 60.0  # one warning per reason and source address per minute
LINUX_SO_RCVBUFFORCE = 33  # <asm-generic/socket.h>; Python's socket module does not export it

AUTH_PROTOCOLS = {
    "sha": config.USM_AUTH_HMAC96_SHA,
    "sha224": config.USM_AUTH_HMAC128_SHA224,
    "sha256": config.USM_AUTH_HMAC192_SHA256,
    "sha384": config.USM_AUTH_HMAC256_SHA384,
    "sha512": config.USM_AUTH_HMAC384_SHA512,
}
PRIV_PROTOCOLS = {
    "aes": config.USM_PRIV_CFB128_AES,
    "aes128": config.USM_PRIV_CFB128_AES,
    "aes192": config.USM_PRIV_CFB192_AES,
    "aes256": config.USM_PRIV_CFB256_AES,
}


@dataclass(slots=True)
class TrapEvent:
    """One decoded trap (or `count` identical ones coalesced)."""

    version: str
    source: str  # UDP source address
    agent_address: str | None  # snmpTrapAddress.0 or the v1 agent-addr
    trap_oid: str
    varbinds: dict[str, str]
    received_at: datetime
    received_mono: float = field(default_factory=monotonic)
    count: int = 1
    user: str | None = None  # the v3 USM user that authenticated it (None for v1/v2c)
    seq: int = 0  # its record in the trap journal (0: not journaled)

    @property
    def device_address(self) -> str:
        return self.agent_address or self.source


def _value(value: Any) -> str:
    if isinstance(value, univ.Integer):
        return str(int(value))
    if isinstance(value, univ.ObjectIdentifier):
        return str(value)
    text: str = value.prettyPrint()
    return text


class TrapSink(Protocol):
    """Where accepted traps go (the trap journal): False when it cannot take one."""

    def append(self, event: TrapEvent) -> bool: ...


class CountingUdpTransport(udp.UdpAsyncioTransport):  # type: ignore[misc]
    """The pysnmp UDP transport: counts datagrams and offers each to the v2c fast path first."""

    receiver: TrapReceiver | None = None

    def datagram_received(self, datagram: bytes, transportAddress: Any) -> None:
        receiver = self.receiver
        if receiver is not None:
            receiver.counters.datagrams += 1
            if receiver.fast_communities:
                varbinds = decode_v2c_trap(datagram, receiver.fast_communities)
                if varbinds is not None:
                    receiver.accept("v2c", str(transportAddress[0]), varbinds)
                    return
            if receiver.v3_fast.users:
                decoded = receiver.v3_fast.decode(datagram)
                if decoded is not None:  # authPriv: at or above any configured minimum level
                    receiver.accept("v3", str(transportAddress[0]), decoded[1], user=decoded[0])
                    return
        self.loop.call_soon(self._guarded, datagram, transportAddress)

    def _guarded(self, datagram: bytes, transport_address: Any) -> None:
        """pysnmp's processing; some malformed packets raise inside pyasn1 instead of being counted."""
        try:
            self._callback_function(self, transport_address, datagram)
        except Exception:  # noqa: BLE001 - a bad datagram must never stop the receiver
            if self.receiver is not None:
                self.receiver.counters.dropped["malformed"] += 1
            log.debug("malformed datagram", exc_info=True)


class TrapReceiver:
    """Owns the pysnmp engine and the UDP socket; appends TrapEvents to `journal`."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        communities: list[str],
        v3_users: list[dict[str, str]],
        journal: TrapSink,
        counters: TrapCounters,
        rcvbuf_bytes: int = 0,
        fast_path: bool = True,
        min_security_level: str = "authPriv",
        allow_communities: bool = False,
        trusted_relays: list[str] | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.v3_users = v3_users
        self.allow_communities = allow_communities
        # Community traps are noAuthNoPriv: not registered with the engine at all unless allowed.
        self.communities = communities if allow_communities else []
        self.ignored_communities = len(communities) - len(self.communities)
        self.min_level = SECURITY_LEVELS[min_security_level]
        self.trusted_relays = [ipaddress.ip_network(r, strict=False) for r in trusted_relays or []]
        self.journal, self.counters, self.rcvbuf_bytes = journal, counters, rcvbuf_bytes
        self.rcvbuf_effective = 0
        self.engine: Any = None
        self._transport: Any = None
        self.fast_communities = frozenset(c.encode() for c in self.communities) if fast_path else frozenset()
        self.fast_path = fast_path
        self.v3_fast = V3FastPath()  # filled in start(): authPriv traps of users it can handle
        self._drop_logged: dict[tuple[str, str], tuple[float, int]] = {}

    def start(self) -> None:
        """Bind the socket (must run inside the event loop that will serve it)."""
        # Our own socket: bind errors surface here, and the receive buffer is set before traffic.
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if self.rcvbuf_bytes:
            set_receive_buffer(sock, self.rcvbuf_bytes)
        self.rcvbuf_effective = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        snmp = engine.SnmpEngine()
        transport = CountingUdpTransport()
        transport.receiver = self
        config.add_transport(snmp, udp.DOMAIN_NAME, transport.open_server_mode(sock=sock))
        self._transport = transport
        for i, community in enumerate(self.communities):
            config.add_v1_system(snmp, f"community-{i}", community)
        for user in self.v3_users:
            config.add_v3_user(
                snmp,
                user["user"],
                AUTH_PROTOCOLS[user.get("auth", "sha256").lower()],
                user["auth_key"],
                PRIV_PROTOCOLS[user.get("priv", "aes128").lower()],
                user["priv_key"],
                securityEngineId=v2c.OctetString(hexValue=user["engine_id"]),
            )
            if self.fast_path:
                self.v3_fast.add_user(
                    user=user["user"],
                    auth_protocol=AUTH_PROTOCOLS[user.get("auth", "sha256").lower()],
                    auth_key=user["auth_key"],
                    priv_protocol=PRIV_PROTOCOLS[user.get("priv", "aes128").lower()],
                    priv_key=user["priv_key"],
                    engine_id=bytes.fromhex(user["engine_id"]),
                )
        ntfrcv.NotificationReceiver(snmp, self._on_trap)
        self.engine = snmp
        self.counters.engine = snmp
        log.info(
            "snmp receiver listening",
            extra={
                "address": f"{self.host}:{self.port}",
                "communities": len(self.communities),
                "v3_users": len(self.v3_users),
                "min_security_level": LEVEL_NAMES[self.min_level],
                "trusted_relays": len(self.trusted_relays),
                "rcvbuf_bytes": self.rcvbuf_effective,
                "v3_fast_path_users": len(self.v3_fast.users),
            },
        )
        if self.ignored_communities:
            log.warning(
                "snmp communities configured but v1/v2c traps are not allowed; set PROMPTLINK_SNMP_ALLOW_COMMUNITIES=1 "
                "to accept them",
                extra={"communities": self.ignored_communities},
            )

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close_dispatcher()
            self.engine = None

    def _on_trap(
        self, snmp: Any, state_reference: Any, context_engine_id: Any, context_name: Any, var_binds: Any, _ctx: Any
    ) -> None:
        """pysnmp's callback: keep it cheap (no I/O)."""
        try:
            context = snmp.observer.get_execution_context("rfc3412.receiveMessage:request")
            version = VERSIONS.get(int(context["securityModel"]), "v3")
            level = int(context["securityLevel"])
            user = str(context["securityName"]) if version == "v3" else None
            source = str(context["transportAddress"][0])
            varbinds = [(str(oid), _value(value)) for oid, value in var_binds]
        except Exception:  # noqa: BLE001 - a trap we cannot read must not stop the receiver
            self.counters.received["unknown"] += 1
            self.counters.dropped["undecodable"] += 1
            log.debug("undecodable trap", exc_info=True)
            return
        if version != "v3" and not self.allow_communities:  # not registered, so not expected: defence in depth
            self.counters.received[version] += 1
            self.drop("community_disabled", source, version=version)
            return
        if version == "v3" and level < self.min_level:
            self.counters.received[version] += 1
            self.drop(
                "security_level",
                source,
                message=(
                    f"snmp v3 trap of user {user!r} at {LEVEL_NAMES.get(level, level)} is below the minimum "
                    f"security level {LEVEL_NAMES[self.min_level]}; dropped"
                ),
                user=user,
                security_level=LEVEL_NAMES.get(level, str(level)),
                minimum_level=LEVEL_NAMES[self.min_level],
            )
            return
        self.accept(version, source, varbinds, user=user)

    def drop(self, reason: str, source: str, *, message: str = "", **extra: Any) -> None:
        """Count a refused trap; log it in English, at most once a minute per reason and source."""
        self.counters.dropped[reason] += 1
        now = monotonic()
        last, suppressed = self._drop_logged.get((reason, source), (-1e9, 0))
        if now - last < DROP_LOG_SECONDS:
            self._drop_logged[(reason, source)] = (last, suppressed + 1)
            return
        if len(self._drop_logged) > 10_000:  # many spoofed sources: forget, never grow without bound
            self._drop_logged.clear()
        self._drop_logged[(reason, source)] = (now, 0)
        log.warning(
            f"{message or f'snmp trap dropped ({reason})'} (source {source})",
            extra={"reason": reason, "source": source, "suppressed_since_last": suppressed, **extra},
        )

    def trusted_relay(self, source: str) -> bool:
        try:
            address = ipaddress.ip_address(source)
        except ValueError:
            return False
        return any(address in network for network in self.trusted_relays)

    def accept(
        self, version: str, source: str, varbind_list: list[tuple[str, str]], *, user: str | None = None
    ) -> None:
        """Count a decoded trap and journal it for the alarm worker (or count the drop)."""
        self.counters.received[version] += 1
        varbinds = dict(varbind_list)
        trap_oid = varbinds.pop(SNMP_TRAP_OID, "")
        varbinds.pop(SYS_UPTIME, None)
        if not trap_oid:
            self.counters.dropped["no_trap_oid"] += 1
            return
        # The agent address is a value the sender chooses: it names the device only when a trusted
        # relay forwards the trap. Otherwise it stays among the varbinds (kept with the alarm, as a claim).
        agent_address = varbinds.pop(SNMP_TRAP_ADDRESS, None) if self.trusted_relay(source) else None
        event = TrapEvent(
            version=version,
            source=source,
            agent_address=agent_address,
            trap_oid=trap_oid,
            varbinds=varbinds,
            received_at=datetime.now(UTC),
            user=user,
        )
        if not self.journal.append(event):
            self.drop(
                "journal_full", source, message="snmp trap journal full (PROMPTLINK_SNMP_JOURNAL_MAX_BYTES); dropped"
            )


def set_receive_buffer(sock: socket.socket, size: int) -> None:
    """SO_RCVBUFFORCE when allowed (CAP_NET_ADMIN: past net.core.rmem_max), else SO_RCVBUF (capped by it)."""
    force = getattr(socket, "SO_RCVBUFFORCE", LINUX_SO_RCVBUFFORCE if sys.platform.startswith("linux") else None)
    if force is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, force, size)
            return
        except OSError:
            pass
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
    except OSError:
        log.warning("could not set SO_RCVBUF", extra={"bytes": size})
