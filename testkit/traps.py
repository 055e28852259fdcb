"""Real SNMP traps for the tests and bench/snmp.py: net-snmp's `snmptrap`, pysnmp's `send_notification`,
raw v2c packets."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

from pyasn1.codec.ber import encoder
from pysnmp.proto import api

LINK_DOWN = "1.3.6.1.6.3.1.1.5.3"
LINK_UP = "1.3.6.1.6.3.1.1.5.4"
COLD_START = "1.3.6.1.6.3.1.1.5.1"
IF_INDEX = "1.3.6.1.2.1.2.2.1.1"
IF_ADMIN = "1.3.6.1.2.1.2.2.1.7"
IF_OPER = "1.3.6.1.2.1.2.2.1.8"
ENGINE_ID = "8000000001020304"  # the demo v3 user's sender engine ID
V3_ARGS = ["-v", "3", "-e", f"0x{ENGINE_ID}", "-u", "promptlink", "-l", "authPriv", "-a", "SHA-256", "-x", "AES"]


def link_varbinds(if_index: int, *, admin: int = 1, oper: int = 2) -> list[str]:
    """snmptrap arguments of linkDown/linkUp varbinds (IF-MIB)."""
    return [f"{IF_INDEX}.{if_index}", "i", str(if_index), f"{IF_ADMIN}.{if_index}", "i", str(admin),
            f"{IF_OPER}.{if_index}", "i", str(oper)]  # fmt: skip


def snmptrap(port: int, *args: str, client: str = "127.0.0.21", check: bool = True) -> None:
    """net-snmp's snmptrap (Debian package `snmp`) to 127.0.0.1:`port` from `client`."""
    binary = shutil.which("snmptrap")
    if binary is None:
        import pytest

        pytest.fail("net-snmp's snmptrap is missing: apt-get install snmp (scripts/test.sh does it as root)")
    subprocess.run(
        [binary, f"--clientaddr={client}", *_split(args, port)],
        check=check,
        capture_output=True,
        timeout=10,
        env={"MIBS": "", "MIBDIRS": "/nonexistent", "PATH": "/usr/bin:/bin"},
    )


def _split(args: tuple[str, ...], port: int) -> list[str]:
    """Options first, then the agent address, then the trap arguments (after the `--` marker)."""
    marker = args.index("--")
    return [*args[:marker], f"127.0.0.1:{port}", *args[marker + 1 :]]


def v2c_packet(community: str, trap_oid: str, varbinds: list[tuple[str, Any]], request_id: int = 1) -> bytes:
    """A v2c trap encoded by pysnmp (for fast, exact repeats)."""
    p = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
    pdu = p.SNMPv2TrapPDU()
    p.apiTrapPDU.set_defaults(pdu)
    p.apiPDU.set_request_id(pdu, request_id)
    binds = [p.apiPDU.get_varbinds(pdu)[0], (p.ObjectIdentifier("1.3.6.1.6.3.1.1.4.1.0"), p.ObjectIdentifier(trap_oid))]
    binds += [(p.ObjectIdentifier(oid), value) for oid, value in varbinds]
    p.apiPDU.set_varbinds(pdu, binds)
    message = p.Message()
    p.apiMessage.set_defaults(message)
    p.apiMessage.set_community(message, community)
    p.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


async def send_v3(port: int, *, auth_key: str, priv_key: str, trap_oid: str, if_index: int, engine: Any = None) -> None:
    """A v3 authPriv (SHA-256/AES-128) trap sent with pysnmp's send_notification.

    `engine`: a pysnmp SnmpEngine of the caller's (one sender: its boots stay, its time goes on);
    by default a fresh one per trap (each fresh engine counts one more boot)."""
    from pysnmp.hlapi.v3arch.asyncio import (
        ContextData,
        NotificationType,
        ObjectIdentity,
        SnmpEngine,
        UdpTransportTarget,
        UsmUserData,
        send_notification,
        usmAesCfb128Protocol,
        usmHMAC192SHA256AuthProtocol,
    )
    from pysnmp.proto.rfc1902 import Integer, OctetString

    own = engine is None
    if own:
        engine = SnmpEngine(OctetString(hexValue=ENGINE_ID))
    user = UsmUserData(
        "promptlink", auth_key, priv_key, authProtocol=usmHMAC192SHA256AuthProtocol, privProtocol=usmAesCfb128Protocol
    )
    target = await UdpTransportTarget.create(("127.0.0.1", port))
    notification = NotificationType(ObjectIdentity(trap_oid)).add_varbinds(
        (f"{IF_INDEX}.{if_index}", Integer(if_index))
    )
    error, *_ = await send_notification(engine, user, target, ContextData(), "trap", notification)
    if own:
        engine.close_dispatcher()
    assert error is None, error
