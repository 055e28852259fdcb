"""Prometheus metrics of this process (prometheus-client), every sample labelled `process`.

The metrics live in one registry per process. The exposed registry (`REGISTRY`) wraps it and
adds `process="<name>"` to every sample (`configure(name)`; `PROMPTLINK_PROCESS_NAME`, default
`backend@<host>:<port>` or `snmp@<host>:<port>`), so one Prometheus sees which backend, which
SNMP receiver answered. Counters and histograms are module-level (the prometheus-client idiom);
what only a database or a live object knows is read at scrape time by a collector registered
with `register` (the SNMP counters, the database pool) or set by the scrape handler just before
it renders (queues and outbox, which need an async query). The list is in docs/operations.md.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Seconds: a Rasa turn is ~30 ms idle and hundreds of ms under load; handoffs and waits run longer.
TURN_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
WAIT_BUCKETS = (5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0)

disable_created_metrics()  # type: ignore[no-untyped-call]  # no `*_created` series: Prometheus has the process start time already
_metrics = CollectorRegistry()
for _default in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    # The default collectors (CPU, RSS, open files, GC, Python version) in our own registry too.
    _metrics.register(_default)

TURN_SECONDS = Histogram(
    "promptlink_turn_seconds",
    "A customer's chat turn end to end, by path: answered by the assistant (message received to "
    "replies emitted), delivered to the person handling the chat, or a handoff queued and announced.",
    ["path"],
    buckets=TURN_BUCKETS,
    registry=_metrics,
)
RASA_CALL_SECONDS = Histogram(
    "promptlink_rasa_call_seconds",
    "One turn sent to the Rasa servers (HTTP to the promptlink channel), by outcome.",
    ["outcome"],
    buckets=TURN_BUCKETS,
    registry=_metrics,
)
RASA_SERVERS = Gauge("promptlink_rasa_servers", "Rasa servers this backend is configured with.", registry=_metrics)
RASA_SERVERS_UP = Gauge(
    "promptlink_rasa_servers_up",
    "Rasa servers that answered their last status check or turn (checked again on every scrape).",
    registry=_metrics,
)
QUEUE_LENGTH = Gauge(
    "promptlink_queue_length", "Chats waiting for a person, by tier (at scrape time).", ["tier"], registry=_metrics
)
QUEUE_OLDEST_WAIT = Gauge(
    "promptlink_queue_oldest_wait_seconds",
    "How long the first chat in line has waited, by tier (0: nobody waits).",
    ["tier"],
    registry=_metrics,
)
QUEUE_WAIT_SECONDS = Histogram(
    "promptlink_queue_wait_seconds",
    "Time a chat waited in a tier's queue until a person took it.",
    ["tier"],
    buckets=WAIT_BUCKETS,
    registry=_metrics,
)
OUTBOX_PENDING = Gauge(
    "promptlink_outbox_pending", "Outbox items not yet sent, by kind (e-mail, chat).", ["kind"], registry=_metrics
)
OUTBOX_OLDEST_PENDING = Gauge(
    "promptlink_outbox_oldest_pending_seconds", "Age of the oldest unsent outbox item (0: none).", registry=_metrics
)
OUTBOX_FAILED = Gauge("promptlink_outbox_failed", "Outbox items that ran out of attempts.", registry=_metrics)
HTTP_REQUESTS = Counter(
    "promptlink_http_requests",
    "HTTP requests answered, by route (the route's pattern, not the URL), method and status.",
    ["route", "method", "status"],
    registry=_metrics,
)


class _ProcessLabelled(Collector):
    """Every metric of `inner` with `process="<name>"` added to its samples."""

    def __init__(self, inner: CollectorRegistry) -> None:
        self.inner = inner
        self.name = f"python@{socket.gethostname()}"  # until `configure` names the process

    def collect(self) -> Iterator[Metric]:
        for family in self.inner.collect():
            labelled = Metric(family.name, family.documentation, family.type, family.unit)
            labelled.samples = [s._replace(labels={"process": self.name, **s.labels}) for s in family.samples]
            yield labelled


_labelled = _ProcessLabelled(_metrics)
REGISTRY = CollectorRegistry()
REGISTRY.register(_labelled)


def default_name(kind: str, host: str, port: int) -> str:
    """`<kind>@<host>:<port>`, the host being this machine's name when bound to every address."""
    shown = socket.gethostname() if host in ("", "0.0.0.0", "::") else host  # noqa: S104 - a name, not a bind
    return f"{kind}@{shown}:{port}"


def configure(name: str) -> None:
    """The `process` label value of this process's samples."""
    _labelled.name = name


def process_name() -> str:
    return _labelled.name


def register(collector: Collector) -> Callable[[], None]:
    """Read `collector` at every scrape (until the returned function is called)."""
    _metrics.register(collector)
    return lambda: _metrics.unregister(collector)


def render() -> bytes:
    """The exposition (text format 0.0.4) of every metric of this process."""
    return generate_latest(REGISTRY)


class PoolCollector(Collector):
    """The SQLAlchemy connection pool of an engine: its size and the connections checked out.

    SQLite (aiosqlite) has a pool of its own connections too; the numbers mean the same there,
    but writers are serialised by the database lock, not by the pool.
    """

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def collect(self) -> Iterable[Metric]:
        pool = self.engine.sync_engine.pool
        dialect = self.engine.dialect.name
        figures = {
            "size": "Connections the pool keeps (its configured size).",
            "checkedout": "Connections in use now.",
            "checkedin": "Idle connections in the pool.",
            "overflow": "Connections open beyond the pool size (negative: room left below it).",
        }
        for figure, help_text in figures.items():
            method = getattr(pool, figure, None)
            if method is None:
                continue
            family = GaugeMetricFamily(f"promptlink_db_pool_{figure}", help_text, labels=["dialect"])
            family.add_metric([dialect], float(method()))
            yield family
