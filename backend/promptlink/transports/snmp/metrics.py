"""Counters of the trap intake, rendered in the Prometheus text format."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROC_NET_SNMP = Path("/proc/net/snmp")


def udp_rcvbuf_errors(path: Path = PROC_NET_SNMP) -> int | None:
    """The kernel's UDP receive-buffer errors (all sockets of this network namespace)."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return None
    udp = [line.split()[1:] for line in lines if line.startswith("Udp:")]
    if len(udp) < 2 or "RcvbufErrors" not in udp[0]:
        return None
    return int(udp[1][udp[0].index("RcvbufErrors")])


@dataclass
class TrapCounters:
    """What happened to every datagram: received = processed + dropped (by reason) + in flight."""

    datagrams: int = 0  # UDP datagrams read from the socket
    received: Counter[str] = field(default_factory=Counter)  # traps accepted by the engine, by SNMP version
    processed: int = 0
    folded: int = 0  # processed traps that only added to an open alarm's count
    dropped: Counter[str] = field(default_factory=Counter)  # by reason
    alarms_opened: int = 0
    alarms_cleared: int = 0
    tickets_created: int = 0
    alarms_attached: int = 0  # new alarms attached to the device's open ticket (ticket bound reached)
    engine: Any = None  # the pysnmp engine, for its own drop counters

    def total_received(self) -> int:
        return sum(self.received.values())

    def engine_drops(self) -> dict[str, int]:
        """Datagrams pysnmp dropped before our callback (bad community, unknown user, bad keys, parse errors)."""
        if self.engine is None:
            return {}
        builder = self.engine.get_mib_builder()
        symbols = {
            "bad_community": ("__SNMPv2-MIB", "snmpInBadCommunityNames"),
            "parse_error": ("__SNMPv2-MIB", "snmpInASNParseErrs"),
            "bad_version": ("__SNMPv2-MIB", "snmpInBadVersions"),
            "unknown_security_model": ("__SNMP-MPD-MIB", "snmpUnknownSecurityModels"),
            "invalid_message": ("__SNMP-MPD-MIB", "snmpInvalidMsgs"),
            "unknown_pdu_handler": ("__SNMP-MPD-MIB", "snmpUnknownPDUHandlers"),
            "unknown_user": ("__SNMP-USER-BASED-SM-MIB", "usmStatsUnknownUserNames"),
            "unknown_engine_id": ("__SNMP-USER-BASED-SM-MIB", "usmStatsUnknownEngineIDs"),
            "wrong_digest": ("__SNMP-USER-BASED-SM-MIB", "usmStatsWrongDigests"),
            "decryption_error": ("__SNMP-USER-BASED-SM-MIB", "usmStatsDecryptionErrors"),
            "not_in_time_window": ("__SNMP-USER-BASED-SM-MIB", "usmStatsNotInTimeWindows"),
            "unsupported_security_level": ("__SNMP-USER-BASED-SM-MIB", "usmStatsUnsupportedSecLevels"),
        }
        drops: dict[str, int] = {}
        for reason, (module, name) in symbols.items():
            try:
                (symbol,) = builder.import_symbols(module, name)
            except Exception:  # noqa: BLE001, S112 - a MIB pysnmp did not load: no such counter
                continue
            drops[reason] = int(symbol.syntax)
        return drops

    def all_dropped(self) -> dict[str, int]:
        return {**self.engine_drops(), **{k: v for k, v in self.dropped.items() if v}}

    def snapshot(self) -> dict[str, Any]:
        return {
            "datagrams": self.datagrams,
            "received": dict(self.received),
            "processed": self.processed,
            "folded": self.folded,
            "dropped": self.all_dropped(),
            "alarms_opened": self.alarms_opened,
            "alarms_cleared": self.alarms_cleared,
            "tickets_created": self.tickets_created,
            "alarms_attached": self.alarms_attached,
            "udp_rcvbuf_errors": udp_rcvbuf_errors(),
        }


def render_prometheus(counters: TrapCounters | None, *, queue_depth: int = 0) -> str:
    """The `/api/v1/metrics` body (text exposition format 0.0.4)."""
    lines: list[str] = []

    def metric(name: str, kind: str, help_text: str, samples: list[tuple[dict[str, str], float]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            label_text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
            lines.append(f"{name}{{{label_text}}} {value:g}" if label_text else f"{name} {value:g}")

    c = counters or TrapCounters()
    metric("promptlink_snmp_datagrams_total", "counter", "UDP datagrams read by the receiver.", [({}, c.datagrams)])
    received = [({"version": v}, float(n)) for v, n in sorted(c.received.items())] or [({"version": "v2c"}, 0.0)]
    metric("promptlink_snmp_traps_received_total", "counter", "Traps accepted by the SNMP engine.", received)
    metric("promptlink_snmp_traps_processed_total", "counter", "Traps turned into alarms.", [({}, c.processed)])
    metric(
        "promptlink_snmp_traps_folded_total", "counter", "Processed traps folded into an open alarm.", [({}, c.folded)]
    )
    drops = [({"reason": r}, float(n)) for r, n in sorted(c.all_dropped().items())]
    metric("promptlink_snmp_traps_dropped_total", "counter", "Datagrams or traps dropped, by reason.", drops)
    metric("promptlink_snmp_alarms_opened_total", "counter", "New alarms.", [({}, c.alarms_opened)])
    metric(
        "promptlink_snmp_alarms_cleared_total",
        "counter",
        "Alarms cleared by a clearing trap.",
        [({}, c.alarms_cleared)],
    )
    metric("promptlink_snmp_tickets_created_total", "counter", "Tickets opened from alarms.", [({}, c.tickets_created)])
    metric(
        "promptlink_snmp_alarms_attached_total",
        "counter",
        "New alarms attached to their device's open ticket (tickets per device bounded).",
        [({}, c.alarms_attached)],
    )
    metric("promptlink_snmp_queue_depth", "gauge", "Traps waiting for the alarm worker.", [({}, queue_depth)])
    errors = udp_rcvbuf_errors()
    if errors is not None:
        metric(
            "promptlink_udp_rcvbuf_errors_total",
            "counter",
            "Kernel UDP receive-buffer errors (/proc/net/snmp, whole host namespace).",
            [({}, errors)],
        )
    return "\n".join(lines) + "\n"
