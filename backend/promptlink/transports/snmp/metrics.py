"""Counters of the trap intake, exposed as Prometheus metrics (prometheus-client collector)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

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


class TrapCollector(Collector):
    """The trap counters as Prometheus metrics, read at scrape time (infra/metrics.py).

    The receiver's hot path only adds to plain integers; the conversion happens per scrape.
    """

    def __init__(self, counters: TrapCounters, queue_depth: Callable[[], int]) -> None:
        self.counters = counters
        self.queue_depth = queue_depth

    def collect(self) -> Iterator[Metric]:
        c = self.counters

        def counter(name: str, help_text: str, value: float) -> CounterMetricFamily:
            return CounterMetricFamily(name, help_text, value=value)

        yield counter("promptlink_snmp_datagrams", "UDP datagrams read by the receiver.", c.datagrams)
        received = CounterMetricFamily(
            "promptlink_snmp_traps_received", "Traps accepted by the SNMP engine.", labels=["version"]
        )
        for version, n in sorted({"v2c": 0, **c.received}.items()):
            received.add_metric([version], n)
        yield received
        yield counter("promptlink_snmp_traps_processed", "Traps turned into alarms.", c.processed)
        yield counter("promptlink_snmp_traps_folded", "Processed traps folded into an open alarm.", c.folded)
        dropped = CounterMetricFamily(
            "promptlink_snmp_traps_dropped", "Datagrams or traps dropped, by reason.", labels=["reason"]
        )
        for reason, n in sorted(c.all_dropped().items()):
            dropped.add_metric([reason], n)
        yield dropped
        yield counter("promptlink_snmp_alarms_opened", "New alarms.", c.alarms_opened)
        yield counter("promptlink_snmp_alarms_cleared", "Alarms cleared by a clearing trap.", c.alarms_cleared)
        yield counter("promptlink_snmp_tickets_created", "Tickets opened from alarms.", c.tickets_created)
        yield counter(
            "promptlink_snmp_alarms_attached",
            "New alarms attached to their device's open ticket (tickets per device bounded).",
            c.alarms_attached,
        )
        yield GaugeMetricFamily(
            "promptlink_snmp_queue_depth", "Traps waiting for the alarm worker.", value=self.queue_depth()
        )
        errors = udp_rcvbuf_errors()
        if errors is not None:
            yield counter(
                "promptlink_udp_rcvbuf_errors",
                "Kernel UDP receive-buffer errors (/proc/net/snmp, whole host namespace).",
                errors,
            )
